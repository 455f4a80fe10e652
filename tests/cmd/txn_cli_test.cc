// `revkv txn` through the binary: a txn that fails leaves the data directory
// as it was (every key, the revision, the history's hash) and fails as
// etcdctl does (the last stderr line, the exit code, nothing on stdout); and
// transactions of 100,000 puts are accepted or refused as etcd would.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/cmd/process.h"

namespace revkv::testing {
namespace {

ProcessResult Revkv(const std::string& dir, const std::vector<std::string>& args,
                    const std::string& in = "") {
  std::vector<std::string> argv = {RevkvPath(), "--data-dir", dir};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, in);
}

// Every key and the hash of every record, as JSON.
std::string Contents(const std::string& dir) {
  return Revkv(dir, {"-w", "json", "get", "", "--prefix"}).out +
         Revkv(dir, {"-w", "json", "endpoint", "hashkv"}).out;
}

struct FailingTxn {
  const char* name;
  std::string txn;
  std::string err_line;
};

constexpr char kKeyNotFound[] = "Error: etcdserver: key not found";

const FailingTxn kFailing[] = {
    // A del ending in "\0" conflicts with no put (etcd's duplicate rule), so
    // it can remove a key a later --ignore-value put needs.
    {"IgnoreValueAfterFromKeyDel", "\nput n 1\ndel a --from-key\nput b --ignore-value\n\n\n",
     kKeyNotFound},
    {"IgnoreValueAfterDelAllInFailureBranch",
     "value(\"b\") = \"nope\"\n\nput ok 1\n\nput n 1\ndel \"\" --prefix --prev-kv\nget b\n"
     "put b --ignore-value\n\n",
     kKeyNotFound},
    // The revision the txn's own put creates is still a future one to it.
    {"FutureGetRevAfterPut", "\nput n 1\nget b --rev=5\n\n\n",
     "Error: etcdserver: mvcc: required revision is a future revision"},
    {"DuplicateAfterPuts", "\nput n 1\nput m 1\nput n 2\n\n\n",
     "Error: etcdserver: duplicate key given in txn request"},
};

class FailingTxnTest : public ::testing::TestWithParam<FailingTxn> {};

TEST_P(FailingTxnTest, ChangesNothing) {
  const std::string dir = NewTempDir("txn");
  for (const char* k : {"a", "b", "c"}) ASSERT_EQ(Revkv(dir, {"put", k, "1"}).exit_code, 0);
  const std::string before = Contents(dir);
  ASSERT_NE(before.find("\"revision\":4"), std::string::npos) << before;
  ProcessResult r = Revkv(dir, {"-w", "json", "txn"}, GetParam().txn);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.LastErrLine(), GetParam().err_line);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(Contents(dir), before);
}

INSTANTIATE_TEST_SUITE_P(Txn, FailingTxnTest, ::testing::ValuesIn(kFailing),
                         [](const auto& info) { return std::string(info.param.name); });

std::string ManyPuts(int n, const std::string& last) {
  std::string in = "\n";
  for (int i = 0; i < n; ++i) in += "put key" + std::to_string(i) + " v\n";
  return in + last + "\n\n";
}

TEST(LargeTxn, HundredThousandPutsApplyAsOneRevision) {
  const std::string dir = NewTempDir("large");
  ProcessResult r = Revkv(dir, {"txn"}, ManyPuts(100000, ""));
  ASSERT_EQ(r.exit_code, 0) << r.LastErrLine();
  EXPECT_EQ(r.out.rfind("SUCCESS\n\nOK\n", 0), 0u);
  EXPECT_EQ(Revkv(dir, {"-w", "json", "get", "key", "--prefix", "--count-only"}).out,
            "{\"header\":{\"revision\":2},\"count\":100000}\n");
}

TEST(LargeTxn, HundredThousandPutsWithARepeatedKeyApplyNothing) {
  const std::string dir = NewTempDir("large-dup");
  ProcessResult r = Revkv(dir, {"txn"}, ManyPuts(100000, "put key7 again\n"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.LastErrLine(), "Error: etcdserver: duplicate key given in txn request");
  EXPECT_EQ(Revkv(dir, {"-w", "json", "get", "", "--prefix"}).out,
            "{\"header\":{\"revision\":1}}\n");
}

}  // namespace
}  // namespace revkv::testing
