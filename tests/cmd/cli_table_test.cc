// Table tests for the rows of ../shared/spec/etcdctl-compat.md, run through
// the revkv binary: each row runs its setup commands in a fresh data
// directory, then the command, and checks stdout, the last stderr line and
// the exit code. JSON headers are {"revision":R} (revkv omits the zero
// server-only fields).
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/cmd/process.h"

namespace revkv::testing {
namespace {

struct Row {
  const char* name;
  std::vector<std::vector<std::string>> setup;
  std::vector<std::string> command;
  std::string stdin_data;
  std::string out;       // exact stdout
  std::string err_line;  // last stderr line
  int rc;
};

ProcessResult Revkv(const std::string& dir, const std::vector<std::string>& args,
                    const std::string& in = "") {
  std::vector<std::string> argv = {RevkvPath(), "--data-dir", dir};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, in);
}

const std::vector<std::vector<std::string>> kHistory = {
    {"put", "a", "1"}, {"put", "a", "2"}, {"put", "a/b", "x"}, {"put", "a/c", "y"}, {"put", "b", "z"}};

// A store with nothing in it (a write that changes nothing creates it): read
// commands refuse a directory that holds no store.
const std::vector<std::vector<std::string>> kEmptyStore = {{"del", "nosuch"}};

const Row kRows[] = {
    {"PutPrintsHeader", {}, {"-w", "json", "put", "a", "1"}, "", "{\"header\":{\"revision\":2}}\n", "", 0},
    {"PutPrevKv", {{"put", "a", "1"}}, {"-w", "json", "put", "a", "2", "--prev-kv"}, "",
     "{\"header\":{\"revision\":3},\"prev_kv\":{\"key\":\"YQ==\",\"create_revision\":2,\"mod_revision\":2,\"version\":1,\"value\":\"MQ==\"}}\n", "", 0},
    {"PutPrevKvOfMissingKey", {}, {"-w", "json", "put", "a", "2", "--prev-kv"}, "", "{\"header\":{\"revision\":2}}\n", "", 0},
    {"PutEmptyValueHasNoValueField", {{"put", "e", ""}}, {"-w", "json", "get", "e"}, "",
     "{\"header\":{\"revision\":2},\"kvs\":[{\"key\":\"ZQ==\",\"create_revision\":2,\"mod_revision\":2,\"version\":1}],\"count\":1}\n", "", 0},
    {"PutEmptyKey", {}, {"put", "", "v"}, "", "", "Error: etcdserver: key is not provided", 1},
    {"PutSimple", {}, {"put", "a", "1"}, "", "OK\n", "", 0},
    {"PutNoArgs", {}, {"put"}, "", "", "Error: put command needs 1 argument and input from stdin or 2 arguments", 128},
    {"PutValueFromStdin", {}, {"-w", "json", "put", "a"}, "v", "{\"header\":{\"revision\":2}}\n", "", 0},
    {"PutIgnoreValueMissingKey", {}, {"put", "a", "--ignore-value"}, "", "", "Error: etcdserver: key not found", 1},
    {"GetMissing", kHistory, {"-w", "json", "get", "nosuch"}, "", "{\"header\":{\"revision\":6}}\n", "", 0},
    {"GetPrefixLimitCountsAll", kHistory, {"-w", "json", "get", "a", "--prefix", "--limit=1", "--keys-only"}, "",
     "{\"header\":{\"revision\":6},\"kvs\":[{\"key\":\"YQ==\",\"create_revision\":2,\"mod_revision\":3,\"version\":2}],\"more\":true,\"count\":3}\n", "", 0},
    {"GetRange", kHistory, {"get", "a", "b", "--keys-only"}, "", "a\n\na/b\n\na/c\n\n", "", 0},
    {"GetFromKey", kHistory, {"get", "a/c", "--from-key", "--print-value-only"}, "", "y\nz\n", "", 0},
    {"GetAllWithEmptyPrefix", kHistory, {"get", "", "--prefix", "--print-value-only"}, "", "2\nx\ny\nz\n", "", 0},
    {"GetReversedRangeIsEmpty", kHistory, {"-w", "json", "get", "b", "a"}, "", "{\"header\":{\"revision\":6}}\n", "", 0},
    {"GetRevKeepsHeaderRevision", kHistory, {"-w", "json", "get", "a", "--rev=2"}, "",
     "{\"header\":{\"revision\":6},\"kvs\":[{\"key\":\"YQ==\",\"create_revision\":2,\"mod_revision\":2,\"version\":1,\"value\":\"MQ==\"}],\"count\":1}\n", "", 0},
    {"GetFutureRev", kHistory, {"get", "a", "--rev=7"}, "", "", "Error: etcdserver: mvcc: required revision is a future revision", 1},
    {"GetCompactedRev", {{"put", "a", "1"}, {"put", "a", "2"}, {"compaction", "3"}}, {"get", "a", "--rev=2"}, "", "",
     "Error: etcdserver: mvcc: required revision has been compacted", 1},
    {"GetAtCompactRevIsReadable", {{"put", "a", "1"}, {"put", "a", "2"}, {"compaction", "3"}}, {"get", "a", "--rev=3", "--print-value-only"}, "", "2\n", "", 0},
    {"GetSortDescendLimit", kHistory, {"get", "a", "--prefix", "--sort-by=KEY", "--order=DESCEND", "--limit=1", "--print-value-only"}, "", "y\n", "", 0},
    {"GetSortByValue", kHistory, {"get", "", "--from-key", "--sort-by=VALUE", "--print-value-only"}, "", "2\nx\ny\nz\n", "", 0},
    {"GetBadSortTarget", kHistory, {"get", "a", "--sort-by=FOO"}, "", "", "Error: bad sort target FOO", 4},
    {"GetBadSortOrder", kHistory, {"get", "a", "--order=FOO"}, "", "", "Error: bad sort order FOO", 4},
    {"GetCountOnly", kHistory, {"-w", "json", "get", "a", "--prefix", "--count-only"}, "", "{\"header\":{\"revision\":6},\"count\":3}\n", "", 0},
    {"GetTwoArgsWithPrefix", {}, {"get", "a", "b", "--prefix"}, "", "",
     "Error: too many arguments, only accept one argument when `--prefix` or `--from-key` is set", 128},
    {"GetPrefixAndFromKey", {}, {"get", "a", "--prefix", "--from-key"}, "", "",
     "Error: `--prefix` and `--from-key` cannot be set at the same time, choose one", 128},
    {"GetNoArgs", {}, {"get"}, "", "", "Error: get command needs one argument as key and an optional argument as range_end", 128},
    {"GetEmptyKey", kEmptyStore, {"get", ""}, "", "", "Error: etcdserver: key is not provided", 1},
    {"UnknownFlag", {}, {"get", "a", "--bogus"}, "", "*", "Error: unknown flag: --bogus", 1},
    {"BadFlagValue", {}, {"get", "a", "--limit=abc"}, "", "*",
     "Error: invalid argument \"abc\" for \"--limit\" flag: strconv.ParseInt: parsing \"abc\": invalid syntax", 1},
    {"PrintValueOnlyNeedsSimple", kHistory, {"-w", "json", "get", "a", "--print-value-only"}, "", "",
     "Error: print-value-only is only for `--write-out=simple`", 128},
    {"DelMissingDoesNotBump", kHistory, {"-w", "json", "del", "nosuch"}, "", "{\"header\":{\"revision\":6}}\n", "", 0},
    {"DelPrefixPrevKv", {{"put", "a", "1"}, {"put", "a/b", "x"}}, {"-w", "json", "del", "a", "--prefix", "--prev-kv"}, "",
     "{\"header\":{\"revision\":4},\"deleted\":2,\"prev_kvs\":[{\"key\":\"YQ==\",\"create_revision\":2,\"mod_revision\":2,\"version\":1,\"value\":\"MQ==\"},"
     "{\"key\":\"YS9i\",\"create_revision\":3,\"mod_revision\":3,\"version\":1,\"value\":\"eA==\"}]}\n", "", 0},
    {"DelRange", kHistory, {"del", "a", "b"}, "", "3\n", "", 0},
    {"DelEverything", kHistory, {"del", "", "--from-key"}, "", "4\n", "", 0},
    {"CompactionPlainTextEvenInJson", kHistory, {"-w", "json", "compaction", "5"}, "", "compacted revision 5\n", "", 0},
    {"CompactPrefixWorks", kHistory, {"compact", "5", "--physical"}, "", "compacted revision 5\n", "", 0},
    {"CompactionZeroOnFreshStore", {}, {"compaction", "0"}, "", "compacted revision 0\n", "", 0},
    {"CompactionAtCompactRev", {{"put", "a", "1"}, {"compaction", "2"}}, {"compaction", "2"}, "", "",
     "Error: etcdserver: mvcc: required revision has been compacted", 1},
    {"CompactionFuture", {}, {"compaction", "5"}, "", "", "Error: etcdserver: mvcc: required revision is a future revision", 1},
    {"CompactionNoArg", {}, {"compaction"}, "", "", "Error: compaction command needs 1 argument", 128},
    {"TxnSpecExample", {{"put", "t1", "v1"}, {"put", "t2", "v2"}},
     {"-w", "json", "txn"}, "value(\"t1\") = \"v1\"\n\nput t3 x\nget t1\ndel t2\n\nput t4 y\n\n",
     "{\"header\":{\"revision\":4},\"succeeded\":true,\"responses\":[{\"Response\":{\"ResponsePut\":{\"header\":{\"revision\":4}}}},"
     "{\"Response\":{\"ResponseRange\":{\"header\":{\"revision\":4},\"kvs\":[{\"key\":\"dDE=\",\"create_revision\":2,\"mod_revision\":2,\"version\":1,\"value\":\"djE=\"}],\"count\":1}}},"
     "{\"Response\":{\"ResponseDeleteRange\":{\"header\":{\"revision\":4},\"deleted\":1}}}]}\n", "", 0},
    {"TxnEmpty", {}, {"-w", "json", "txn"}, "\n\n\n", "{\"header\":{\"revision\":1},\"succeeded\":true}\n", "", 0},
    {"TxnFailureBranchHasNoSucceeded", {}, {"-w", "json", "txn"}, "value(\"x\") = \"1\"\n\n\n\n", "{\"header\":{\"revision\":1}}\n", "", 0},
    {"TxnSimple", {}, {"txn"}, "\nput a 1\n\n\n", "SUCCESS\n\nOK\n", "", 0},
    {"TxnEof", {}, {"txn"}, "\nput a 1\n\n", "", "Error: EOF", 3},
    {"TxnDuplicate", {}, {"txn"}, "\nput a 1\nput a 2\n\n\n", "", "Error: etcdserver: duplicate key given in txn request", 1},
    {"TxnDuplicateInFailureBranch", {}, {"txn"}, "\n\ndel a c\nput b 1\n\n", "", "Error: etcdserver: duplicate key given in txn request", 1},
    {"TxnMalformedCompare", {}, {"txn"}, "value(\"y\") = 2\n\n\n\n", "", "Error: malformed comparison: value(\"y\") = 2; got value(\"y\") = \"\"", 3},
    {"TxnUnknownOp", {}, {"txn"}, "\nfrob y\n\n\n", "", "Error: invalid txn request: frob y", 3},
    {"TxnFutureGetRev", {}, {"txn"}, "\nget a --rev=9\n\n\n", "", "Error: etcdserver: mvcc: required revision is a future revision", 1},
    {"HashKVEmptyStore", kEmptyStore, {"-w", "json", "endpoint", "hashkv"}, "", "[{\"Endpoint\":\"@\",\"HashKV\":{\"header\":{\"revision\":1},\"hash\":1084519789,\"compact_revision\":-1}}]\n", "", 0},
    {"HashKVCompactedRev", {{"put", "a", "1"}, {"compaction", "2"}}, {"-w", "json", "endpoint", "hashkv", "--rev=2"}, "", "[]\n",
     "Error: etcdserver: mvcc: required revision has been compacted", 1},
    {"HashKVFutureRev", kEmptyStore, {"-w", "json", "endpoint", "hashkv", "--rev=5"}, "", "[]\n",
     "Error: etcdserver: mvcc: required revision is a future revision", 1},
    {"SnapshotStatusMissingFile", {}, {"snapshot", "status", "/nonexistent/x.db"}, "", "", "Error: stat /nonexistent/x.db: no such file or directory", 1},
    {"GetWithoutAStore", {}, {"get", "a"}, "", "", "Error: no revkv store at @", 1},
    {"HashKVWithoutAStore", {}, {"endpoint", "hashkv"}, "", "", "Error: no revkv store at @", 1},
    {"SnapshotSaveWithoutAStore", {}, {"snapshot", "save", "/nonexistent/x.db"}, "", "", "Error: no revkv store at @", 1},
    {"UnknownCommand", {}, {"frobnicate"}, "", "", "Error: unknown command \"frobnicate\" for \"revkv\"", 1},
    {"UnsupportedFormat", {}, {"-w", "bogus", "get", "a"}, "", "", "Error: unsupported output format", 4},
};

class SpecRow : public ::testing::TestWithParam<Row> {};

TEST_P(SpecRow, MatchesSpec) {
  const Row& row = GetParam();
  const std::string dir = NewTempDir("row");
  for (const auto& s : row.setup) ASSERT_EQ(Revkv(dir, s).exit_code, 0);
  ProcessResult r = Revkv(dir, row.command, row.stdin_data);
  std::string want = row.out;
  if (size_t at = want.find('@'); at != std::string::npos) want.replace(at, 1, dir);
  if (want != "*") {
    EXPECT_EQ(r.out, want);
  }
  std::string want_err = row.err_line;
  if (size_t at = want_err.find('@'); at != std::string::npos) want_err.replace(at, 1, dir);
  EXPECT_EQ(r.LastErrLine(), want_err);
  EXPECT_EQ(r.exit_code, row.rc);
}

INSTANTIATE_TEST_SUITE_P(Spec, SpecRow, ::testing::ValuesIn(kRows),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Cli, EveryOpIsDurableAcrossInvocations) {
  const std::string dir = NewTempDir("durable");
  for (int i = 0; i < 5; ++i) ASSERT_EQ(Revkv(dir, {"put", "k", std::to_string(i)}).exit_code, 0);
  ProcessResult r = Revkv(dir, {"-w", "json", "get", "k"});
  EXPECT_NE(r.out.find("\"revision\":6"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"version\":5"), std::string::npos) << r.out;
}

TEST(Cli, DumpShowsAKeysHistoryOldestFirst) {
  const std::string dir = NewTempDir("dump");
  for (const auto& s : std::vector<std::vector<std::string>>{
           {"put", "a", "1"}, {"put", "a", "2"}, {"del", "a"}, {"put", "b", "x"}, {"put", "a", "3"}}) {
    ASSERT_EQ(Revkv(dir, s).exit_code, 0);
  }
  ProcessResult r = Revkv(dir, {"dump", "a"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "2.0 put \"a\" create_revision=2 version=1 value=\"1\"\n"
            "3.0 put \"a\" create_revision=2 version=2 value=\"2\"\n"
            "4.0 delete \"a\"\n"
            "6.0 put \"a\" create_revision=6 version=1 value=\"3\"\n");
}

TEST(Cli, InspectAfterCompactionShowsOnlyWhatIsKept) {
  const std::string dir = NewTempDir("inspect");
  for (const auto& s : std::vector<std::vector<std::string>>{
           {"put", "a", "1"}, {"del", "a"}, {"put", "b", "x"}, {"compaction", "4"}}) {
    ASSERT_EQ(Revkv(dir, s).exit_code, 0);
  }
  ProcessResult r = Revkv(dir, {"-w", "json", "inspect"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "[{\"revision\":4,\"sub\":0,\"key\":\"Yg==\",\"create_revision\":4,"
            "\"version\":1,\"value\":\"eA==\"}]\n");
}

TEST(Cli, EnvironmentProvidesTheDataDir) {
  const std::string dir = NewTempDir("env");
  ProcessResult r = RunProcess({RevkvPath(), "put", "a", "1"}, "", {"REVKV_DATA_DIR=" + dir});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = Revkv(dir, {"get", "a"});
  EXPECT_EQ(r.out, "a\n1\n");
}

TEST(Cli, HelpOnEveryCommand) {
  for (const char* c : {"put", "get", "del", "txn", "compaction", "defrag", "check", "stats",
                        "dump"}) {
    ProcessResult r = RunProcess({RevkvPath(), c, "--help"}, "");
    EXPECT_EQ(r.exit_code, 0) << c;
    EXPECT_NE(r.out.find("USAGE"), std::string::npos) << c;
  }
}

TEST(Cli, CheckPassesOnAHealthyStoreAndDefragKeepsData) {
  const std::string dir = NewTempDir("check");
  for (const auto& s : kHistory) ASSERT_EQ(Revkv(dir, s).exit_code, 0);
  ProcessResult before = Revkv(dir, {"-w", "json", "endpoint", "hashkv"});
  EXPECT_EQ(Revkv(dir, {"defrag"}).exit_code, 0);
  ProcessResult c = Revkv(dir, {"check"});
  EXPECT_EQ(c.exit_code, 0) << c.out << c.err;
  EXPECT_EQ(c.out, "OK\n");
  EXPECT_EQ(Revkv(dir, {"-w", "json", "endpoint", "hashkv"}).out, before.out);
}

TEST(Cli, CheckListsProblemsOfACorruptFileAndFails) {
  const std::string dir = NewTempDir("corrupt");
  for (int i = 0; i < 50; ++i) ASSERT_EQ(Revkv(dir, {"put", "k" + std::to_string(i), std::string(200, 'v')}).exit_code, 0);
  const std::string db = dir + "/member/snap/db";
  FILE* f = std::fopen(db.c_str(), "r+b");
  ASSERT_NE(f, nullptr);
  // Flip a byte in every page after the two meta pages.
  std::fseek(f, 0, SEEK_END);
  long size = std::ftell(f);
  for (long off = 2 * 4096 + 100; off < size && off < 40 * 4096; off += 4096) {
    std::fseek(f, off, SEEK_SET);
    int ch = std::fgetc(f);
    std::fseek(f, off, SEEK_SET);
    std::fputc(ch ^ 0x5a, f);
  }
  std::fclose(f);
  ProcessResult c = Revkv(dir, {"check"});
  EXPECT_NE(c.exit_code, 0);
  EXPECT_EQ(c.LastErrLine().rfind("Error: ", 0), 0u) << c.err;
}

}  // namespace
}  // namespace revkv::testing
