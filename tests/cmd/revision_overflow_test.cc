// The revkv binary at the top of the revision space: `snapshot restore
// --bump-revision` refuses a bump that would pass INT64_MAX (and a value that
// does not fit an int64) with an `Error:` line and a non-zero exit, writing
// nothing; after a bump to INT64_MAX-1 one put lands at INT64_MAX, and every
// later put, del and txn write fails with a clear error and exit code 1. No
// output ever shows a negative revision.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/cmd/process.h"

namespace revkv::testing {
namespace {

constexpr int64_t kMax = INT64_MAX;
const char kExhausted[] =
    "Error: mvcc: the revision would pass the largest revision (9223372036854775807); no more "
    "writes";

ProcessResult Revkv(const std::string& dir, const std::vector<std::string>& args,
                    const std::string& in = "") {
  std::vector<std::string> argv = {RevkvPath(), "--data-dir", dir};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, in);
}

// The header revision of a `-w json` answer, or -1.
int64_t HeaderRevision(const std::string& json) {
  const std::string tag = "\"revision\":";
  size_t at = json.find(tag);
  return at == std::string::npos ? -1 : std::strtoll(json.c_str() + at + tag.size(), nullptr, 10);
}

class RevisionOverflowTest : public ::testing::Test {
 protected:
  // A data directory with some history, saved to snap_; latest_ is its
  // revision.
  void SetUp() override {
    root_ = NewTempDir("revoverflow");
    const std::string dir = root_ + "/src";
    ASSERT_EQ(Revkv(dir, {"put", "a", "1"}).exit_code, 0);
    ASSERT_EQ(Revkv(dir, {"put", "b", "2"}).exit_code, 0);
    ProcessResult last = Revkv(dir, {"-w", "json", "put", "a", "3"});
    ASSERT_EQ(last.exit_code, 0) << last.err;
    latest_ = HeaderRevision(last.out);
    ASSERT_GT(latest_, 0) << last.out;
    snap_ = root_ + "/snap.db";
    ASSERT_EQ(Revkv(dir, {"snapshot", "save", snap_}).exit_code, 0);
  }

  ProcessResult Restore(const std::string& target, const std::string& bump) {
    return RunProcess({RevkvPath(), "snapshot", "restore", snap_, "--data-dir", target,
                       "--bump-revision", bump, "--mark-compacted"},
                      "");
  }

  std::string root_, snap_;
  int64_t latest_ = 0;
};

TEST_F(RevisionOverflowTest, BumpsThatOverflowAreRefused) {
  for (const std::string& bump :
       {std::string("9223372036854775807"), std::to_string(kMax - latest_ + 1)}) {
    const std::string target = root_ + "/t" + bump;
    ProcessResult r = Restore(target, bump);
    EXPECT_EQ(r.exit_code, 128) << bump << ": " << r.err;
    EXPECT_EQ(r.LastErrLine().rfind("Error: --bump-revision " + bump + " is too large", 0), 0u)
        << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_FALSE(std::filesystem::exists(target)) << bump;
  }
  // A value beyond int64 does not parse: pflag's error, as etcdctl's.
  const std::string target = root_ + "/huge";
  ProcessResult r = Restore(target, "9223372036854775808");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.LastErrLine(),
            "Error: invalid argument \"9223372036854775808\" for \"--bump-revision\" flag: "
            "strconv.ParseInt: parsing \"9223372036854775808\": value out of range");
  EXPECT_FALSE(std::filesystem::exists(target));
}

TEST_F(RevisionOverflowTest, OnePutLandsAtTheLargestRevisionThenWritesFail) {
  const std::string dir = root_ + "/edge";
  ProcessResult r = Restore(dir, std::to_string(kMax - 1 - latest_));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(HeaderRevision(Revkv(dir, {"-w", "json", "endpoint", "status"}).out), kMax - 1);

  r = Revkv(dir, {"-w", "json", "put", "x", "last"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"header\":{\"revision\":9223372036854775807}}\n");

  struct Write {
    std::vector<std::string> args;
    std::string in;
  };
  const std::vector<Write> refused = {
      {{"put", "y", "1"}, ""},
      {{"put", "x", "again"}, ""},
      {{"del", "a"}, ""},
      {{"del", "", "--prefix"}, ""},
      {{"txn"}, "\nput y 1\n\n\n"},
      {{"txn"}, "value(\"x\") = \"last\"\n\ndel x\nput z 1\n\n\n"},
  };
  for (const Write& w : refused) {
    r = Revkv(dir, w.args, w.in);
    EXPECT_EQ(r.exit_code, 1) << w.args[0] << ": " << r.out << r.err;
    EXPECT_EQ(r.LastErrLine(), kExhausted) << w.args[0];
    EXPECT_EQ(r.out, "") << w.args[0];
  }
  // What changes nothing still succeeds: a del that matches nothing, a txn
  // whose branch only reads.
  r = Revkv(dir, {"-w", "json", "del", "nosuch"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"header\":{\"revision\":9223372036854775807}}\n");
  r = Revkv(dir, {"txn"}, "\nget x\n\n\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;

  // The data is as the one put left it, at positive revisions only.
  r = Revkv(dir, {"-w", "json", "get", "", "--prefix"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(HeaderRevision(r.out), kMax);
  EXPECT_NE(r.out.find("\"key\":\"eA==\",\"create_revision\":9223372036854775807,"
                       "\"mod_revision\":9223372036854775807"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("\"key\":\"eQ==\""), std::string::npos) << r.out;  // no "y"
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"-w", "json", "get", "", "--prefix"},
                                             {"-w", "json", "endpoint", "status"},
                                             {"-w", "json", "endpoint", "hashkv"},
                                             {"-w", "json", "dump"}}) {
    r = Revkv(dir, args);
    EXPECT_EQ(r.exit_code, 0) << args[2] << ": " << r.err;
    EXPECT_EQ(r.out.find(":-"), std::string::npos) << args[2] << ": " << r.out;
  }
  EXPECT_EQ(HeaderRevision(Revkv(dir, {"-w", "json", "endpoint", "status"}).out), kMax);
}

}  // namespace
}  // namespace revkv::testing
