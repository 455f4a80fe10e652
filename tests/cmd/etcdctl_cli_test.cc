// The revkv binary where an etcdctl 3.4 user meets it beyond the data
// commands: ETCDCTL_* variables, the connection flags, --hex, endpoint
// health, check perf / datascale, version. Each row runs its setup in a
// fresh data directory, then the command (with `env` added), and compares
// the whole stdout and stderr and the exit code.
//
// The expected texts are etcdctl 3.4.23's (Debian etcd-client, against etcd
// 3.4.23 on loopback), as observed for this test; the row comments quote
// the etcdctl invocation. Where etcdctl prints the endpoint, revkv prints
// the data directory. In expected texts: '@' is the data directory, "*" (a
// whole stdout) is anything (a usage text), {ts} a capnslog timestamp
// ("2026-12-06 13:28:09.460103"), {took} a Go duration ("1.667671ms").
#include <regex>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/cmd/process.h"
#include "version.h"

namespace revkv::testing {
namespace {

struct Row {
  const char* name;
  std::vector<std::string> env;
  std::vector<std::vector<std::string>> setup;
  std::vector<std::string> command;
  std::string stdin_data;
  std::string out;  // whole stdout
  std::string err;  // whole stderr
  int rc;
};
void PrintTo(const Row& r, std::ostream* os) { *os << r.name; }

ProcessResult Revkv(const std::string& dir, const std::vector<std::string>& args,
                    const std::string& in = "", const std::vector<std::string>& env = {}) {
  std::vector<std::string> argv = {RevkvPath(), "--data-dir", dir};
  for (const std::string& a : args) {
    std::string arg = a;
    if (size_t at = arg.find('@'); at != std::string::npos) arg.replace(at, 1, dir);
    argv.push_back(arg);
  }
  return RunProcess(argv, in, env);
}

std::string RegexEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::string("\\^$.|?*+()[]{}").find(c) != std::string::npos) out += '\\';
    out += c;
  }
  return out;
}

// Whether `got` is `want` with its placeholders (see the top).
bool Matches(const std::string& want, const std::string& got, const std::string& dir) {
  if (want == "*") return true;
  static const std::string kTs =
      "[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}";
  static const std::string kTook =
      "([0-9]+h)?([0-9]+m)?[0-9]+(\\.[0-9]+)?(ns|\xc2\xb5s|ms|s)";
  std::string re;
  for (size_t i = 0; i < want.size(); ++i) {
    if (want.compare(i, 4, "{ts}") == 0) {
      re += kTs;
      i += 3;
    } else if (want.compare(i, 6, "{took}") == 0) {
      re += kTook;
      i += 5;
    } else if (want[i] == '@') {
      re += RegexEscape(dir);
    } else {
      re += RegexEscape(std::string(1, want[i]));
    }
  }
  return std::regex_match(got, std::regex(re));
}

const std::string kConflictTail =
    "is shadowed by corresponding command-line flag (either unset environment variable or "
    "disable flag)\n";
const std::string kNoteTail = ": revkv has no server; commands act on the data directory "
                              "(--data-dir)\n";
const std::vector<std::vector<std::string>> kFoo = {{"put", "foo", "bar"}};
const std::string kFooJson =
    "{\"header\":{\"revision\":2},\"kvs\":[{\"key\":\"Zm9v\",\"create_revision\":2,"
    "\"mod_revision\":2,\"version\":1,\"value\":\"YmFy\"}],\"count\":1}\n";
const std::string kVersionText = std::string("etcdctl version: ") + kEtcdctlVersion +
                                 "\nAPI version: " + kApiVersion +
                                 "\nrevkv version: " + kVersion + "\n";

std::string UsageError(const std::string& msg) {
  return "Error: " + msg + "\n\nError: " + msg + "\n";
}
std::string UnknownCommand(const std::string& word) {
  return "Error: unknown command \"" + word + "\" for \"revkv\"\nRun 'revkv --help' for usage.\n"
         "Error: unknown command \"" + word + "\" for \"revkv\"\n";
}

const Row kRows[] = {
    // --- ETCDCTL_* variables ---
    // ETCDCTL_WRITE_OUT=json etcdctl get foo
    {"EnvWriteOut", {"ETCDCTL_WRITE_OUT=json"}, kFoo, {"get", "foo"}, "", kFooJson, "", 0},
    // ETCDCTL_WRITE_OUT=json etcdctl -w json get foo (also -w simple, --write-out=json): rc 1
    {"EnvConflictsWithFlag", {"ETCDCTL_WRITE_OUT=json"}, kFoo, {"-w", "json", "get", "foo"}, "",
     "", "{ts} C | pkg/flags: conflicting environment variable \"ETCDCTL_WRITE_OUT\" " +
         kConflictTail, 1},
    {"EnvConflictsWithLongFlag", {"ETCDCTL_WRITE_OUT=json"}, kFoo,
     {"--write-out=simple", "get", "foo"}, "", "",
     "{ts} C | pkg/flags: conflicting environment variable \"ETCDCTL_WRITE_OUT\" " +
         kConflictTail, 1},
    // ETCDCTL_HEX=true etcdctl --hex=false get foo: rc 1
    {"EnvHexConflicts", {"ETCDCTL_HEX=true"}, kFoo, {"--hex=false", "get", "foo"}, "", "",
     "{ts} C | pkg/flags: conflicting environment variable \"ETCDCTL_HEX\" " + kConflictTail, 1},
    // ETCDCTL_ENDPOINTS=... etcdctl --endpoints=... get foo: rc 1
    {"EnvEndpointsConflict", {"ETCDCTL_ENDPOINTS=127.0.0.1:2379"}, kFoo,
     {"--endpoints=127.0.0.1:2379", "get", "foo"}, "", "",
     "{ts} C | pkg/flags: conflicting environment variable \"ETCDCTL_ENDPOINTS\" " +
         kConflictTail, 1},
    // ETCDCTL_WRITE_OUT=bogus etcdctl get foo: rc 4
    {"EnvBadFormat", {"ETCDCTL_WRITE_OUT=bogus"}, kFoo, {"get", "foo"}, "", "",
     "Error: unsupported output format\n", 4},
    // ETCDCTL_HEX=true etcdctl get foo (also ETCDCTL_HEX=1)
    {"EnvHex", {"ETCDCTL_HEX=1"}, kFoo, {"get", "foo"}, "", "\\x66\\x6f\\x6f\n\\x62\\x61\\x72\n",
     "", 0},
    // ETCDCTL_HEX=abc etcdctl get foo: rc 0, not hex, and etcdctl says nothing
    {"EnvBadBoolIgnored", {"ETCDCTL_HEX=abc"}, kFoo, {"get", "foo"}, "", "foo\nbar\n",
     "Warning: invalid value \"abc\" for ETCDCTL_HEX: invalid argument \"abc\" for \"--hex\" "
     "flag: strconv.ParseBool: parsing \"abc\": invalid syntax; the flag keeps its default, as "
     "in etcdctl\n", 0},
    // ETCDCTL_DIAL_TIMEOUT=abc etcdctl get foo: rc 0, etcdctl says nothing
    {"EnvBadDurationIgnored", {"ETCDCTL_DIAL_TIMEOUT=abc"}, kFoo, {"get", "foo"}, "",
     "foo\nbar\n",
     "Warning: invalid value \"abc\" for ETCDCTL_DIAL_TIMEOUT: invalid argument \"abc\" for "
     "\"--dial-timeout\" flag: time: invalid duration \"abc\"; the flag keeps its default, as in "
     "etcdctl\nNote: ignoring ETCDCTL_DIAL_TIMEOUT" + kNoteTail, 0},
    {"EnvCommandTimeoutBad", {"ETCDCTL_COMMAND_TIMEOUT=5"}, kFoo, {"get", "foo"}, "",
     "foo\nbar\n",
     "Warning: invalid value \"5\" for ETCDCTL_COMMAND_TIMEOUT: invalid argument \"5\" for "
     "\"--command-timeout\" flag: time: missing unit in duration \"5\"; the flag keeps its "
     "default, as in etcdctl\n", 0},
    {"EnvCommandTimeoutOk", {"ETCDCTL_COMMAND_TIMEOUT=10s"}, kFoo, {"get", "foo"}, "",
     "foo\nbar\n", "", 0},
    // ETCDCTL_FOO=1 etcdctl get foo: rc 0
    {"EnvUnrecognized", {"ETCDCTL_FOO=1"}, kFoo, {"get", "foo"}, "", "foo\nbar\n",
     "{ts} W | pkg/flags: unrecognized environment variable ETCDCTL_FOO=1\n", 0},
    // ETCDCTL_HEX= etcdctl get foo: an empty value is not used
    {"EnvEmptyUnrecognized", {"ETCDCTL_HEX="}, kFoo, {"get", "foo"}, "", "foo\nbar\n",
     "{ts} W | pkg/flags: unrecognized environment variable ETCDCTL_HEX=\n", 0},
    // ETCDCTL_API=4 etcdctl get foo: rc 1
    {"EnvApi4", {"ETCDCTL_API=4"}, {}, {"get", "foo"}, "", "", "unsupported API version 4\n", 1},
    {"EnvApi2", {"ETCDCTL_API=2"}, {}, {"version"}, "", "", "unsupported API version 2\n", 1},
    {"EnvApi3", {"ETCDCTL_API=3"}, kFoo, {"get", "foo"}, "", "foo\nbar\n", "", 0},
    // ETCDCTL_WRITE_OUT=json ETCDCTL_FOO=1 etcdctl -w json version: version reads no variable
    {"VersionReadsNoEnv", {"ETCDCTL_WRITE_OUT=json", "ETCDCTL_FOO=1"}, {},
     {"-w", "json", "version"}, "", kVersionText, "", 0},
    // ETCDCTL_WRITE_OUT=json etcdctl -w json snapshot status /nonexist: nor does snapshot status
    {"SnapshotStatusReadsNoEnv", {"ETCDCTL_WRITE_OUT=json"}, {},
     {"-w", "json", "snapshot", "status", "/nonexistent/x.db"}, "", "",
     "Error: stat /nonexistent/x.db: no such file or directory\n", 1},

    // --- connection flags: etcdctl's syntax, accepted, ignored with a note ---
    {"ConnectionFlagsAccepted", {}, kFoo,
     {"--endpoints=127.0.0.1:2379,127.0.0.1:22379", "--dial-timeout=5s", "--command-timeout=7s",
      "--keepalive-time", "1m", "--keepalive-timeout=1h2m3.5s", "--insecure-transport=false",
      "--insecure-skip-tls-verify", "--insecure-discovery=false", "--cacert=ca.pem",
      "--cert=c.pem", "--key", "k.pem", "--user=root:x", "--password=y", "-d", "example.com",
      "--discovery-srv-name=n", "--debug", "get", "foo"},
     "", "foo\nbar\n",
     "Note: ignoring --cacert, --cert, --debug, --dial-timeout, --discovery-srv, "
     "--discovery-srv-name, --endpoints, --insecure-discovery, --insecure-skip-tls-verify, "
     "--insecure-transport, --keepalive-time, --keepalive-timeout, --key, --password, --user" +
         kNoteTail, 0},
    {"ConnectionFlagsFromEnv", {"ETCDCTL_ENDPOINTS=127.0.0.1:2379", "ETCDCTL_CACERT=ca.pem"},
     kFoo, {"get", "foo"}, "", "foo\nbar\n",
     "Note: ignoring ETCDCTL_CACERT, ETCDCTL_ENDPOINTS" + kNoteTail, 0},
    {"CommandTimeoutIsNotIgnored", {}, kFoo, {"--command-timeout=1m30s", "get", "foo"}, "",
     "foo\nbar\n", "", 0},
    // etcdctl --dial-timeout=5 get foo (usage on stdout): rc 1
    {"DialTimeoutMissingUnit", {}, {}, {"--dial-timeout=5", "get", "foo"}, "", "*",
     UsageError("invalid argument \"5\" for \"--dial-timeout\" flag: time: missing unit in "
                "duration \"5\""), 1},
    // etcdctl --dial-timeout=5x get foo
    {"DialTimeoutUnknownUnit", {}, {}, {"get", "foo", "--dial-timeout", "5x"}, "", "*",
     UsageError("invalid argument \"5x\" for \"--dial-timeout\" flag: time: unknown unit \"x\" "
                "in duration \"5x\""), 1},
    // etcdctl --command-timeout=abc get foo
    {"CommandTimeoutInvalid", {}, {}, {"--command-timeout=abc", "get", "foo"}, "", "*",
     UsageError("invalid argument \"abc\" for \"--command-timeout\" flag: time: invalid "
                "duration \"abc\""), 1},
    // etcdctl --dial-timeout= get foo
    {"DialTimeoutEmpty", {}, {}, {"--dial-timeout=", "get", "foo"}, "", "*",
     UsageError("invalid argument \"\" for \"--dial-timeout\" flag: time: invalid duration "
                "\"\""), 1},
    // etcdctl --insecure-transport=maybe get foo
    {"BoolFlagBadValue", {}, {}, {"--insecure-transport=maybe", "get", "foo"}, "", "*",
     UsageError("invalid argument \"maybe\" for \"--insecure-transport\" flag: "
                "strconv.ParseBool: parsing \"maybe\": invalid syntax"), 1},
    // etcdctl --endpoints='a"b' put
    {"EndpointsBadCsv", {}, {}, {"--endpoints=a\"b", "get", "foo"}, "", "*",
     UsageError("invalid argument \"a\\\"b\" for \"--endpoints\" flag: parse error on line 1, "
                "column 2: bare \" in non-quoted-field"), 1},
    // etcdctl --insecure-transport false get foo: a bool flag takes no separate value
    {"BoolFlagTakesNoSeparateValue", {}, {}, {"--insecure-transport", "false", "get", "foo"}, "",
     "", UnknownCommand("false"), 1},
    // etcdctl --endpoints get foo: "get" is the value, "foo" the command
    {"ValueFlagTakesNextWord", {}, {}, {"--endpoints", "get", "foo"}, "", "",
     UnknownCommand("foo"), 1},
    // etcdctl put pk --prev-kv false; etcdctl get pk: "false" is the value
    {"BoolThenWordIsAnArgument", {}, {{"put", "pk", "--prev-kv", "false"}}, {"get", "pk"}, "",
     "pk\nfalse\n", "", 0},
    // etcdctl get foo --prefix false: rc 128
    {"BoolThenWordIsARangeEnd", {}, kFoo, {"get", "foo", "--prefix", "false"}, "", "",
     "Error: too many arguments, only accept one argument when `--prefix` or `--from-key` is "
     "set\n", 128},

    // --- --hex: simple output only ---
    // etcdctl --hex put foo bar2 --prev-kv
    {"HexPutPrevKv", {}, kFoo, {"--hex", "put", "foo", "bar2", "--prev-kv"}, "",
     "OK\n\\x66\\x6f\\x6f\n\\x62\\x61\\x72\n", "", 0},
    // etcdctl get foo --hex (the flag anywhere)
    {"HexGet", {}, kFoo, {"get", "foo", "--hex"}, "", "\\x66\\x6f\\x6f\n\\x62\\x61\\x72\n", "", 0},
    // etcdctl get pk2 --hex=t
    {"HexGetPflagBool", {}, kFoo, {"get", "foo", "--hex=t"}, "",
     "\\x66\\x6f\\x6f\n\\x62\\x61\\x72\n", "", 0},
    // etcdctl --hex get foo --print-value-only
    {"HexValueOnly", {}, kFoo, {"--hex", "get", "foo", "--print-value-only"}, "",
     "\\x62\\x61\\x72\n", "", 0},
    // etcdctl --hex get foo --keys-only
    {"HexKeysOnly", {}, kFoo, {"--hex", "get", "foo", "--keys-only"}, "", "\\x66\\x6f\\x6f\n\n",
     "", 0},
    // etcdctl put e ""; etcdctl --hex get e
    {"HexEmptyValue", {}, {{"put", "e", ""}}, {"--hex", "get", "e"}, "", "\\x65\n\n", "", 0},
    // etcdctl --hex del e --prev-kv
    {"HexDelPrevKv", {}, {{"put", "e", ""}}, {"--hex", "del", "e", "--prev-kv"}, "",
     "1\n\\x65\n\n", "", 0},
    {"HexBinaryBytes", {}, {{"put", "k\xff", "\x01\x7f"}}, {"--hex", "get", "k\xff"}, "",
     "\\x6b\\xff\n\\x01\\x7f\n", "", 0},
    // printf '\nput t 1\nget foo\ndel nosuch\n\n\n' | etcdctl --hex txn
    {"HexTxn", {}, kFoo, {"--hex", "txn"}, "\nput t 1\nget foo\ndel nosuch\n\n\n",
     "SUCCESS\n\nOK\n\n\\x66\\x6f\\x6f\n\\x62\\x61\\x72\n\n0\n", "", 0},
    // etcdctl --hex -w json get foo: JSON stays base64
    {"HexJsonStaysBase64", {}, kFoo, {"--hex", "-w", "json", "get", "foo"}, "", kFooJson, "", 0},
    // etcdctl --hex -w json put foo bar --prev-kv
    {"HexJsonPut", {}, kFoo, {"--hex", "-w", "json", "put", "foo", "baz", "--prev-kv"}, "",
     "{\"header\":{\"revision\":3},\"prev_kv\":{\"key\":\"Zm9v\",\"create_revision\":2,"
     "\"mod_revision\":2,\"version\":1,\"value\":\"YmFy\"}}\n", "", 0},
    // etcdctl --hex -w fields get foo: fields stay quoted text
    {"HexFieldsUnchanged", {}, kFoo, {"--hex", "-w", "fields", "get", "foo"}, "",
     "\"ClusterID\" : 0\n\"MemberID\" : 0\n\"Revision\" : 2\n\"RaftTerm\" : 0\n"
     "\"Key\" : \"foo\"\n\"CreateRevision\" : 2\n\"ModRevision\" : 2\n\"Version\" : 1\n"
     "\"Value\" : \"bar\"\n\"Lease\" : 0\n\"More\" : false\n\"Count\" : 1\n", "", 0},
    // etcdctl --hex compaction 2: plain text
    {"HexCompaction", {}, kFoo, {"--hex", "compaction", "2"}, "", "compacted revision 2\n", "", 0},

    // --- endpoint health (simple: the line goes to stderr, as etcdctl 3.4's) ---
    // etcdctl endpoint health
    {"Health", {}, kFoo, {"endpoint", "health"}, "", "",
     "@ is healthy: successfully committed proposal: took = {took}\n", 0},
    // etcdctl -w json endpoint health
    {"HealthJson", {}, kFoo, {"-w", "json", "endpoint", "health"}, "",
     "[{\"endpoint\":\"@\",\"health\":true,\"took\":\"{took}\"}]\n", "", 0},
    // etcdctl -w fields endpoint health
    {"HealthFields", {}, kFoo, {"-w", "fields", "endpoint", "health"}, "",
     "\"Endpoint\" : \"@\"\n\"Health\" : true\n\"Took\" : {took}\n\"Error\" : \n\n", "", 0},
    {"HealthFreshStore", {}, {{"del", "x"}}, {"endpoint", "health"}, "", "",
     "@ is healthy: successfully committed proposal: took = {took}\n", 0},
    {"HealthEnvFormat", {"ETCDCTL_WRITE_OUT=json"}, kFoo, {"endpoint", "health"}, "",
     "[{\"endpoint\":\"@\",\"health\":true,\"took\":\"{took}\"}]\n", "", 0},
    // etcdctl --endpoints=127.0.0.1:1 endpoint health: "... is unhealthy: failed to commit
    // proposal: <error>" on stderr, then "Error: unhealthy cluster", rc 1
    {"HealthMissingStore", {}, {}, {"--data-dir", "@/nope", "endpoint", "health"}, "", "",
     "@/nope is unhealthy: failed to commit proposal: stat @/nope/member/snap/db: no such file "
     "or directory\nError: unhealthy cluster\n", 1},
    // etcdctl -w json --endpoints=127.0.0.1:1 endpoint health (took "" when never started)
    {"HealthMissingStoreJson", {}, {}, {"--data-dir", "@/nope", "-w", "json", "endpoint",
     "health"}, "",
     "[{\"endpoint\":\"@/nope\",\"health\":false,\"took\":\"\",\"error\":\"stat "
     "@/nope/member/snap/db: no such file or directory\"}]\n",
     "Error: unhealthy cluster\n", 1},
    // etcdctl -w protobuf endpoint health: rc 4
    {"HealthProtobuf", {}, kFoo, {"-w", "protobuf", "endpoint", "health"}, "", "",
     "Error: protobuf not supported as output format\n", 4},

    // --- check perf / datascale: not supported, never "OK" ---
    {"CheckPerf", {}, kFoo, {"check", "perf"}, "", "",
     "Error: check perf is not supported by revkv: it load-tests a running etcd cluster, and "
     "revkv has no server (`revkv bench` measures revkv itself)\n", 4},
    {"CheckPerfFlags", {}, kFoo,
     {"check", "perf", "--load=l", "--prefix=/p/", "--auto-compact", "--auto-defrag"}, "", "",
     "Error: check perf is not supported by revkv: it load-tests a running etcd cluster, and "
     "revkv has no server (`revkv bench` measures revkv itself)\n", 4},
    {"CheckDatascale", {}, kFoo, {"check", "datascale", "--load", "xl"}, "", "",
     "Error: check datascale is not supported by revkv: it load-tests a running etcd cluster, "
     "and revkv has no server (`revkv bench` measures revkv itself)\n", 4},
    {"CheckDatascalePrefix", {}, kFoo, {"check", "data"}, "", "",
     "Error: check datascale is not supported by revkv: it load-tests a running etcd cluster, "
     "and revkv has no server (`revkv bench` measures revkv itself)\n", 4},
    {"CheckPerfOnMissingStore", {}, {}, {"--data-dir", "@/nope", "check", "perf"}, "", "",
     "Error: check perf is not supported by revkv: it load-tests a running etcd cluster, and "
     "revkv has no server (`revkv bench` measures revkv itself)\n", 4},
    {"CheckOtherWord", {}, kFoo, {"check", "foo"}, "", "",
     "Error: check takes no arguments, got \"foo\" (its etcdctl subcommands perf and datascale "
     "are not supported)\n", 128},
    {"CheckItself", {}, kFoo, {"check"}, "", "OK\n", "", 0},

    // --- version ---
    // etcdctl version: "etcdctl version: 3.4.23\nAPI version: 3.4\n"
    {"Version", {}, {}, {"version"}, "", kVersionText, "", 0},
    // etcdctl version extra: arguments ignored
    {"VersionIgnoresArgs", {}, {}, {"version", "extra"}, "", kVersionText, "", 0},
};

class EtcdctlRow : public ::testing::TestWithParam<Row> {};

TEST_P(EtcdctlRow, MatchesEtcdctl) {
  const Row& row = GetParam();
  const std::string dir = NewTempDir("etcdctl");
  for (const auto& s : row.setup) ASSERT_EQ(Revkv(dir, s).exit_code, 0);
  ProcessResult r = Revkv(dir, row.command, row.stdin_data, row.env);
  EXPECT_TRUE(Matches(row.out, r.out, dir)) << "stdout:\n" << r.out << "\nwant:\n" << row.out;
  EXPECT_TRUE(Matches(row.err, r.err, dir)) << "stderr:\n" << r.err << "\nwant:\n" << row.err;
  EXPECT_EQ(r.exit_code, row.rc) << r.err;
}

INSTANTIATE_TEST_SUITE_P(Etcdctl, EtcdctlRow, ::testing::ValuesIn(kRows),
                         [](const auto& info) { return std::string(info.param.name); });

// etcdctl -w table endpoint health:
//   +-----------------+--------+------------+-------+
//   |    ENDPOINT     | HEALTH |    TOOK    | ERROR |
//   +-----------------+--------+------------+-------+
//   | 127.0.0.1:23790 |   true | 1.610502ms |       |
//   +-----------------+--------+------------+-------+
TEST(EndpointHealth, TableAsEtcdctl) {
  const std::string dir = NewTempDir("health");
  ASSERT_EQ(Revkv(dir, {"put", "a", "1"}).exit_code, 0);
  ProcessResult r = Revkv(dir, {"-w", "table", "endpoint", "health"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m, std::regex("\\|   true \\| ([^ ]+) \\|"))) << r.out;
  const std::string took = m[1];
  auto center = [](const std::string& h, size_t w) {
    size_t pad = w - h.size();
    return std::string(pad / 2 + 1, ' ') + h + std::string(pad - pad / 2 + 1, ' ');
  };
  const size_t w0 = std::max<size_t>(8, dir.size()), w2 = std::max<size_t>(4, took.size());
  const std::string sep = "+" + std::string(w0 + 2, '-') + "+--------+" +
                          std::string(w2 + 2, '-') + "+-------+\n";
  EXPECT_EQ(r.out, sep + "|" + center("ENDPOINT", w0) + "| HEALTH |" + center("TOOK", w2) +
                       "| ERROR |\n" + sep + "| " + dir + " |   true | " + took +
                       " |       |\n" + sep);
  EXPECT_EQ(r.err, "");
}

// The health check's write commits (the btree's txid moves on by one) and
// changes nothing a user reads: keys, revision, hashkv, snapshot content.
TEST(EndpointHealth, CommitsButChangesNothingVisible) {
  const std::string dir = NewTempDir("health");
  for (const auto& s : std::vector<std::vector<std::string>>{
           {"put", "a", "1"}, {"put", "health", "x"}, {"del", "a"}, {"put", "b", "2"}}) {
    ASSERT_EQ(Revkv(dir, s).exit_code, 0);
  }
  auto txid = [&] {
    ProcessResult s = Revkv(dir, {"-w", "json", "stats"});
    std::smatch m;
    EXPECT_TRUE(std::regex_search(s.out, m, std::regex("\"txid\":([0-9]+)"))) << s.out;
    return std::stoll(m[1]);
  };
  auto visible = [&] {
    std::string all = Revkv(dir, {"-w", "json", "get", "", "--from-key"}).out;
    all += Revkv(dir, {"-w", "json", "get", "a", "--rev=2"}).out;
    all += Revkv(dir, {"-w", "json", "endpoint", "hashkv"}).out;
    all += Revkv(dir, {"-w", "json", "endpoint", "status"}).out;
    ProcessResult save = Revkv(dir, {"snapshot", "save", dir + "/snap.db"});
    EXPECT_EQ(save.exit_code, 0) << save.err;
    all += Revkv(dir, {"-w", "json", "snapshot", "status", dir + "/snap.db"}).out;
    std::remove((dir + "/snap.db").c_str());
    return all;
  };
  const std::string before = visible();
  const int64_t txid_before = txid();
  ProcessResult h = Revkv(dir, {"endpoint", "health"});
  ASSERT_EQ(h.exit_code, 0) << h.err;
  EXPECT_EQ(txid(), txid_before + 1);
  EXPECT_EQ(visible(), before);
  ProcessResult c = Revkv(dir, {"check"});
  EXPECT_EQ(c.out, "OK\n") << c.err;
}

}  // namespace
}  // namespace revkv::testing
