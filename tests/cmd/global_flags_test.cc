// The global flags in-process: Go's duration syntax and text, pflag's
// string slices and booleans, and the ETCDCTL_* environment as etcdctl 3.4
// applies it (what reaches GlobalFlags, which RunCli copies into each
// command's Invocation: format, hex, command_timeout, data_dir).
//
// Expected error texts were observed with etcdctl 3.4.23 (Debian's
// etcd-client) against etcd 3.4.23 on loopback, e.g.
//   $ etcdctl --dial-timeout=5 get foo
//   Error: invalid argument "5" for "--dial-timeout" flag: time: missing unit in duration "5"
//   $ etcdctl --endpoints='a"b' put
//   Error: invalid argument "a\"b" for "--endpoints" flag: parse error on line 1, column 2: bare " in non-quoted-field
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "cmd/revkv/exit_status.h"
#include "cmd/revkv/flags.h"
#include "cmd/revkv/global_flags.h"
#include "gtest/gtest.h"

namespace revkv::cli {
namespace {

struct DurationRow {
  std::string in;
  bool ok;
  int64_t ns;        // when ok
  std::string err;   // when not
};

TEST(GoDuration, ParsesAsGo) {
  const DurationRow rows[] = {
      {"5s", true, 5'000'000'000, ""},
      {"0", true, 0, ""},
      {"-0", true, 0, ""},
      {"1.5s", true, 1'500'000'000, ""},
      {"1h2m3.5s", true, 3'723'500'000'000, ""},
      {"-1s", true, -1'000'000'000, ""},
      {"+2ms", true, 2'000'000, ""},
      {"300us", true, 300'000, ""},
      {"300\xc2\xb5s", true, 300'000, ""},  // µ (micro sign)
      {"300\xce\xbcs", true, 300'000, ""},  // μ (Greek mu)
      {"1ns", true, 1, ""},
      {".5s", true, 500'000'000, ""},
      {"1.s", true, 1'000'000'000, ""},
      {"2562047h47m16.854775807s", true, INT64_MAX, ""},
      {"abc", false, 0, "time: invalid duration \"abc\""},
      {"", false, 0, "time: invalid duration \"\""},
      {"5", false, 0, "time: missing unit in duration \"5\""},
      {"5x", false, 0, "time: unknown unit \"x\" in duration \"5x\""},
      {".s", false, 0, "time: invalid duration \".s\""},
      {"-", false, 0, "time: invalid duration \"-\""},
      {"1s2", false, 0, "time: missing unit in duration \"1s2\""},
      {"2562047h47m16.854775808s", false, 0,
       "time: invalid duration \"2562047h47m16.854775808s\""},
      {"\x01s", false, 0, "time: invalid duration \"\\x01s\""},
  };
  for (const DurationRow& r : rows) {
    absl::Duration d = absl::Seconds(99);
    std::string err;
    bool ok = ParseGoDuration(r.in, &d, &err);
    EXPECT_EQ(ok, r.ok) << r.in;
    if (r.ok) {
      EXPECT_EQ(absl::ToInt64Nanoseconds(d), r.ns) << r.in;
    } else {
      EXPECT_EQ(err, r.err) << r.in;
    }
  }
}

TEST(GoDuration, PrintsAsGo) {
  // Go's time.Duration.String().
  const std::pair<int64_t, std::string> rows[] = {
      {0, "0s"},
      {1, "1ns"},
      {850, "850ns"},
      {1'500, "1.5\xc2\xb5s"},
      {312'000, "312\xc2\xb5s"},
      {1'667'671, "1.667671ms"},
      {5'000'000, "5ms"},
      {1'000'000'000, "1s"},
      {1'500'000'000, "1.5s"},
      {5'001'153'149, "5.001153149s"},
      {60'000'000'000, "1m0s"},
      {3'723'500'000'000, "1h2m3.5s"},
      {-1'000'000'000, "-1s"},
      {INT64_MAX, "2562047h47m16.854775807s"},
      {INT64_MIN, "-2562047h47m16.854775808s"},
  };
  for (const auto& [ns, text] : rows) {
    EXPECT_EQ(FormatGoDuration(absl::Nanoseconds(ns)), text) << ns;
  }
}

// A parse of `argv` through the global flags, then `env`.
struct Parsed {
  absl::Status status;
  GlobalFlags g;
  std::vector<std::string> args;
  EnvResult env;
};
Parsed Parse(const std::vector<std::string>& argv, const std::vector<std::string>& env = {}) {
  Parsed p;
  FlagSet fs;
  bool prefix = false;
  fs.Bool("prefix", &prefix, "a command flag");
  AddGlobalFlags(&fs, &p.g);
  p.status = fs.Parse(argv, &p.args);
  if (p.status.ok()) p.status = ApplyEnvironment(fs, env, &p.env);
  return p;
}

struct FlagRow {
  const char* name;
  std::vector<std::string> argv;
  std::vector<std::string> env;
  std::string err;  // "" for success
};

TEST(GlobalFlags, ParseErrorsAsEtcdctl) {
  const FlagRow rows[] = {
      {"DurationOk", {"--dial-timeout=1.5s", "--keepalive-time", "1h2m3.5s",
                      "--keepalive-timeout=0", "--command-timeout=-1s"}, {}, ""},
      {"DurationMissingUnit", {"--dial-timeout=5"}, {},
       "invalid argument \"5\" for \"--dial-timeout\" flag: time: missing unit in duration \"5\""},
      {"DurationUnknownUnit", {"--dial-timeout=5x"}, {},
       "invalid argument \"5x\" for \"--dial-timeout\" flag: time: unknown unit \"x\" in "
       "duration \"5x\""},
      {"DurationEmpty", {"--dial-timeout="}, {},
       "invalid argument \"\" for \"--dial-timeout\" flag: time: invalid duration \"\""},
      {"CommandTimeoutBad", {"--command-timeout=abc"}, {},
       "invalid argument \"abc\" for \"--command-timeout\" flag: time: invalid duration \"abc\""},
      {"BoolBad", {"--insecure-transport=maybe"}, {},
       "invalid argument \"maybe\" for \"--insecure-transport\" flag: strconv.ParseBool: "
       "parsing \"maybe\": invalid syntax"},
      {"EndpointsBareQuote", {"--endpoints=a\"b"}, {},
       "invalid argument \"a\\\"b\" for \"--endpoints\" flag: parse error on line 1, column 2: "
       "bare \" in non-quoted-field"},
      {"EndpointsExtraneousQuote", {"--endpoints=\"a\"x"}, {},
       "invalid argument \"\\\"a\\\"x\" for \"--endpoints\" flag: parse error on line 1, "
       "column 3: extraneous or missing \" in quoted-field"},
      {"EndpointsUnterminated", {"--endpoints=\"a,b"}, {},
       "invalid argument \"\\\"a,b\" for \"--endpoints\" flag: parse error on line 1, column 5: "
       "extraneous or missing \" in quoted-field"},
      {"EndpointsLeadingSpace", {"--endpoints= \"a\""}, {},
       "invalid argument \" \\\"a\\\"\" for \"--endpoints\" flag: parse error on line 1, "
       "column 2: bare \" in non-quoted-field"},
      {"StringsOk", {"--cacert=ca.pem", "--cert", "c.pem", "--key=k.pem", "--user=u:p",
                     "--password=x", "-d", "example.com", "--discovery-srv-name=n",
                     "--insecure-skip-tls-verify", "--insecure-discovery=false", "--debug"},
       {}, ""},
  };
  for (const FlagRow& r : rows) {
    Parsed p = Parse(r.argv, r.env);
    if (r.err.empty()) {
      EXPECT_TRUE(p.status.ok()) << r.name << ": " << p.status;
    } else {
      EXPECT_EQ(p.status.message(), r.err) << r.name;
      EXPECT_EQ(ExitCodeOf(p.status), 1) << r.name;
      EXPECT_TRUE(WantsUsage(p.status)) << r.name;
    }
  }
}

TEST(GlobalFlags, EndpointsAsPflagStringSlice) {
  EXPECT_EQ(Parse({}).g.endpoints, std::vector<std::string>{"127.0.0.1:2379"});
  // The first use replaces the default, later ones append; CSV quoting.
  EXPECT_EQ(Parse({"--endpoints=a,b", "--endpoints", "\"c,d\",\"e\"\"f\""}).g.endpoints,
            (std::vector<std::string>{"a", "b", "c,d", "e\"f"}));
  EXPECT_EQ(Parse({"--endpoints="}).g.endpoints, std::vector<std::string>{});
  EXPECT_EQ(Parse({"--endpoints=a,,b,"}).g.endpoints,
            (std::vector<std::string>{"a", "", "b", ""}));
}

TEST(GlobalFlags, BoolNeverTakesTheNextWord) {
  // pflag: `--bool false` is the flag (true) plus the argument "false".
  Parsed p = Parse({"--prefix", "false", "--hex", "0", "--insecure-transport", "false"});
  ASSERT_TRUE(p.status.ok()) << p.status;
  EXPECT_TRUE(p.g.hex);
  EXPECT_TRUE(p.g.insecure_transport);
  EXPECT_EQ(p.args, (std::vector<std::string>{"false", "0", "false"}));
  p = Parse({"--hex=false", "--insecure-transport=f", "--debug=T"});
  ASSERT_TRUE(p.status.ok()) << p.status;
  EXPECT_FALSE(p.g.hex);
  EXPECT_FALSE(p.g.insecure_transport);
  EXPECT_TRUE(p.g.debug);
  EXPECT_TRUE(p.args.empty());
}

TEST(GlobalFlags, TakesNextWordTellsValueFlags) {
  GlobalFlags g;
  FlagSet fs;
  AddGlobalFlags(&fs, &g);
  for (const char* w : {"--endpoints", "--dial-timeout", "--command-timeout", "--cacert", "-w",
                        "-d", "--write-out", "--data-dir", "--user"}) {
    EXPECT_TRUE(fs.TakesNextWord(w)) << w;
  }
  for (const char* w : {"--hex", "--debug", "--insecure-transport", "--allow-rollback",
                        "--endpoints=x", "-wjson", "--bogus", "get"}) {
    EXPECT_FALSE(fs.TakesNextWord(w)) << w;
  }
}

struct EnvRow {
  const char* name;
  std::vector<std::string> argv;
  std::vector<std::string> env;
  // After the environment:
  std::string write_out;
  bool hex;
  int64_t command_timeout_ms;
  std::vector<std::string> used;
  std::vector<std::string> warning_tails;  // each warning line ends with it
  bool fatal;                              // a conflict
};

TEST(GlobalFlags, EnvironmentAsEtcdctl) {
  const std::string kConflict =
      " is shadowed by corresponding command-line flag (either unset environment variable or "
      "disable flag)";
  const EnvRow rows[] = {
      {"Defaults", {}, {}, "simple", false, 5000, {}, {}, false},
      {"WriteOutFromEnv", {}, {"ETCDCTL_WRITE_OUT=json"}, "json", false, 5000,
       {"ETCDCTL_WRITE_OUT"}, {}, false},
      {"HexFromEnv", {}, {"ETCDCTL_HEX=true"}, "simple", true, 5000, {"ETCDCTL_HEX"}, {}, false},
      {"HexOne", {}, {"ETCDCTL_HEX=1"}, "simple", true, 5000, {"ETCDCTL_HEX"}, {}, false},
      {"CommandTimeoutFromEnv", {}, {"ETCDCTL_COMMAND_TIMEOUT=250ms"}, "simple", false, 250,
       {"ETCDCTL_COMMAND_TIMEOUT"}, {}, false},
      {"CommandTimeoutFlag", {"--command-timeout=2m"}, {}, "simple", false, 120000, {}, {},
       false},
      // etcdctl 3.4 drops a bad value silently (rc 0, the default kept); revkv warns.
      {"BadDurationKeepsDefault", {}, {"ETCDCTL_COMMAND_TIMEOUT=abc"}, "simple", false, 5000,
       {"ETCDCTL_COMMAND_TIMEOUT"},
       {"invalid value \"abc\" for ETCDCTL_COMMAND_TIMEOUT: invalid argument \"abc\" for "
        "\"--command-timeout\" flag: time: invalid duration \"abc\"; the flag keeps its default, "
        "as in etcdctl"},
       false},
      {"BadBoolKeepsDefault", {}, {"ETCDCTL_HEX=yes"}, "simple", false, 5000, {"ETCDCTL_HEX"},
       {"for ETCDCTL_HEX: invalid argument \"yes\" for \"--hex\" flag: strconv.ParseBool: "
        "parsing \"yes\": invalid syntax; the flag keeps its default, as in etcdctl"},
       false},
      // `ETCDCTL_FOO=1 etcdctl get foo`: "<ts> W | pkg/flags: unrecognized environment
      // variable ETCDCTL_FOO=1", rc 0.
      {"Unrecognized", {}, {"ETCDCTL_FOO=1"}, "simple", false, 5000, {},
       {" W | pkg/flags: unrecognized environment variable ETCDCTL_FOO=1"}, false},
      // An empty value is not used, so it is unrecognized (`ETCDCTL_HEX= etcdctl get foo`).
      {"EmptyIsUnrecognized", {}, {"ETCDCTL_HEX="}, "simple", false, 5000, {},
       {" W | pkg/flags: unrecognized environment variable ETCDCTL_HEX="}, false},
      // A command flag's name has no variable (`ETCDCTL_PREFIX=true etcdctl get f`).
      {"CommandFlagUnrecognized", {}, {"ETCDCTL_PREFIX=true"}, "simple", false, 5000, {},
       {" W | pkg/flags: unrecognized environment variable ETCDCTL_PREFIX=true"}, false},
      // revkv's own global flags have none either.
      {"RevkvFlagUnrecognized", {}, {"ETCDCTL_DATA_DIR=/x"}, "simple", false, 5000, {},
       {" W | pkg/flags: unrecognized environment variable ETCDCTL_DATA_DIR=/x"}, false},
      {"ApiIsNotAFlag", {}, {"ETCDCTL_API=3"}, "simple", false, 5000, {}, {}, false},
      // `ETCDCTL_WRITE_OUT=json etcdctl -w json get foo`: a fatal conflict, even when equal.
      {"ConflictSameValue", {"-w", "json"}, {"ETCDCTL_WRITE_OUT=json"}, "json", false, 5000, {},
       {}, true},
      {"ConflictEmptyValue", {"--hex"}, {"ETCDCTL_HEX="}, "simple", true, 5000, {}, {}, true},
      {"ConflictIgnoredFlag", {"--endpoints=a"}, {"ETCDCTL_ENDPOINTS=b"}, "simple", false, 5000,
       {}, {}, true},
      {"WarningsBeforeConflict", {"--hex"}, {"ETCDCTL_FOO=1", "ETCDCTL_HEX=true"}, "simple",
       true, 5000, {}, {"unrecognized environment variable ETCDCTL_FOO=1"}, true},
      {"FirstOfDuplicatesWins", {}, {"ETCDCTL_WRITE_OUT=json", "ETCDCTL_WRITE_OUT=table"},
       "json", false, 5000, {"ETCDCTL_WRITE_OUT"}, {}, false},
  };
  for (const EnvRow& r : rows) {
    Parsed p = Parse(r.argv, r.env);
    if (r.fatal) {
      ASSERT_FALSE(p.status.ok()) << r.name;
      EXPECT_EQ(ExitCodeOf(p.status), 1) << r.name;
      EXPECT_TRUE(IsRawMessage(p.status)) << r.name;
      EXPECT_NE(p.status.message().find(" C | pkg/flags: conflicting environment variable \""),
                std::string::npos)
          << r.name << ": " << p.status.message();
      EXPECT_TRUE(absl::EndsWith(p.status.message(), kConflict)) << r.name;
    } else {
      ASSERT_TRUE(p.status.ok()) << r.name << ": " << p.status;
    }
    EXPECT_EQ(p.g.write_out, r.write_out) << r.name;
    EXPECT_EQ(p.g.hex, r.hex) << r.name;
    EXPECT_EQ(absl::ToInt64Milliseconds(p.g.command_timeout), r.command_timeout_ms) << r.name;
    if (!r.fatal) {
      EXPECT_EQ(p.env.used, r.used) << r.name;
    }
    ASSERT_EQ(p.env.warnings.size(), r.warning_tails.size()) << r.name;
    for (size_t i = 0; i < r.warning_tails.size(); ++i) {
      EXPECT_TRUE(absl::EndsWith(p.env.warnings[i], r.warning_tails[i]))
          << r.name << ": " << p.env.warnings[i];
    }
  }
}

TEST(GlobalFlags, ApiVersion) {
  EXPECT_TRUE(CheckApiVersion({}).ok());
  EXPECT_TRUE(CheckApiVersion({"ETCDCTL_API=3"}).ok());
  EXPECT_TRUE(CheckApiVersion({"ETCDCTL_API="}).ok());
  // `ETCDCTL_API=4 etcdctl get foo`: "unsupported API version 4" on stderr, rc 1.
  for (const char* v : {"2", "4", "3.4"}) {
    absl::Status s = CheckApiVersion({std::string("ETCDCTL_API=") + v});
    EXPECT_EQ(s.message(), std::string("unsupported API version ") + v);
    EXPECT_EQ(ExitCodeOf(s), 1);
    EXPECT_TRUE(IsRawMessage(s));
  }
}

TEST(GlobalFlags, NoteNamesIgnoredConnectionFlags) {
  GlobalFlags g;
  FlagSet fs;
  AddGlobalFlags(&fs, &g);
  std::vector<std::string> args;
  ASSERT_TRUE(fs.Parse({"--hex", "--command-timeout=1s", "-w", "json"}, &args).ok());
  EXPECT_EQ(IgnoredFlagsNote(fs, {}), "");  // --command-timeout is used, not ignored
  ASSERT_TRUE(fs.Parse({"--endpoints=x", "--dial-timeout=1s", "--debug"}, &args).ok());
  EnvResult env;
  ASSERT_TRUE(ApplyEnvironment(fs, {"ETCDCTL_USER=u"}, &env).ok());
  EXPECT_EQ(IgnoredFlagsNote(fs, env.used),
            "Note: ignoring --debug, --dial-timeout, --endpoints, ETCDCTL_USER: revkv has no "
            "server; commands act on the data directory (--data-dir)");
}

}  // namespace
}  // namespace revkv::cli
