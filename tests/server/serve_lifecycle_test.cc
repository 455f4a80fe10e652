// `revkv serve` as a process: etcd's flags and ETCD_* variables, the
// rejection of what it does not support, a clean stop on SIGTERM/SIGINT,
// and a restart on the same data directory keeping the data and the member.
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/cmd/etcd_server.h"
#include "tests/cmd/process.h"
#include "tests/server/background_process.h"
#include "tests/server/serve_process.h"

namespace revkv::testing {
namespace {

std::string MemberId(const std::string& json) {
  static const std::regex kMember("\"member_id\":([0-9]+)");
  std::smatch m;
  return std::regex_search(json, m, kMember) ? std::string(m[1]) : "";
}

TEST(ServeLifecycleTest, SigtermStopsCleanlyAndRestartKeepsDataAndMember) {
  if (!EtcdServer::Available()) GTEST_SKIP() << "etcdctl is not installed";
  std::string error, data_dir, member;
  {
    ServeProcess s;
    ASSERT_TRUE(s.Start(&error)) << error;
    data_dir = s.data_dir();
    ProcessResult put = s.Etcdctl({"-w", "json", "put", "k", "v1"});
    ASSERT_EQ(put.exit_code, 0) << put.err;
    member = MemberId(put.out);
    ASSERT_FALSE(member.empty()) << put.out;
    EXPECT_EQ(s.Stop(SIGTERM), 0) << s.Log();
    EXPECT_NE(s.Log().find("\"msg\":\"stopped\""), std::string::npos) << s.Log();
  }
  ServeProcess s;
  ASSERT_TRUE(s.Start(&error, {}, data_dir)) << error;
  ProcessResult get = s.Etcdctl({"-w", "json", "get", "k"});
  ASSERT_EQ(get.exit_code, 0) << get.err;
  EXPECT_NE(get.out.find("\"value\":\"djE=\""), std::string::npos) << get.out;
  EXPECT_NE(get.out.find("\"revision\":2"), std::string::npos) << get.out;
  EXPECT_EQ(MemberId(get.out), member);
  EXPECT_EQ(s.Stop(SIGINT), 0) << s.Log();
}

TEST(ServeLifecycleTest, FlagsAndEnvironment) {
  if (!EtcdServer::Available()) GTEST_SKIP() << "etcdctl is not installed";
  std::string error;
  ServeProcess s;
  ASSERT_TRUE(s.Start(&error, {"--name=n1", "--advertise-client-urls", "http://127.0.0.1:1"}))
      << error;
  ProcessResult list = s.Etcdctl({"member", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find(", started, n1, , http://127.0.0.1:1, false"), std::string::npos)
      << list.out;
  EXPECT_EQ(s.Stop(SIGTERM), 0);
}

TEST(ServeLifecycleTest, MaxTxnOpsFlag) {
  if (!EtcdServer::Available()) GTEST_SKIP() << "etcdctl is not installed";
  std::string error;
  ServeProcess s;
  ASSERT_TRUE(s.Start(&error, {"--max-txn-ops=2"})) << error;
  ProcessResult ok = s.Etcdctl({"txn"}, "\nput a 1\nput b 2\n\n\n");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  ProcessResult many = s.Etcdctl({"txn"}, "\nput a 1\nput b 2\nput c 3\n\n\n");
  EXPECT_EQ(many.exit_code, 1);
  EXPECT_EQ(many.LastErrLine(), "Error: etcdserver: too many operations in txn request");
}

TEST(ServeLifecycleTest, EnvironmentVariablesApplyAndFlagsWin) {
  if (!EtcdServer::Available()) GTEST_SKIP() << "etcdctl is not installed";
  // The child inherits them; this test runs no other thread.
  setenv("ETCD_NAME", "fromenv", 1);
  setenv("ETCD_MAX_TXN_OPS", "1", 1);
  std::string error;
  {
    ServeProcess s;
    ASSERT_TRUE(s.Start(&error)) << error;
    ProcessResult list = s.Etcdctl({"member", "list"});
    EXPECT_NE(list.out.find(", started, fromenv, "), std::string::npos) << list.out;
    ProcessResult two = s.Etcdctl({"txn"}, "\nput a 1\nput b 2\n\n\n");
    EXPECT_EQ(two.LastErrLine(), "Error: etcdserver: too many operations in txn request");
  }
  {
    ServeProcess s;
    ASSERT_TRUE(s.Start(&error, {"--max-txn-ops", "2", "--name", "fromflag"})) << error;
    ProcessResult two = s.Etcdctl({"txn"}, "\nput a 1\nput b 2\n\n\n");
    EXPECT_EQ(two.exit_code, 0) << two.err;
    ProcessResult list = s.Etcdctl({"member", "list"});
    EXPECT_NE(list.out.find(", started, fromflag, "), std::string::npos) << list.out;
  }
  unsetenv("ETCD_NAME");
  unsetenv("ETCD_MAX_TXN_OPS");
}

// An open `etcdctl watch` must not hold the server up: SIGTERM ends the
// stream and the server exits cleanly within ServeProcess::Stop's bound.
TEST(ServeLifecycleTest, SigtermWithOpenWatchStreams) {
  if (!EtcdServer::Available()) GTEST_SKIP() << "etcdctl is not installed";
  ServeProcess s;
  std::string error;
  ASSERT_TRUE(s.Start(&error, {"--experimental-watch-progress-notify-interval", "100ms"})) << error;
  BackgroundProcess w;
  ASSERT_TRUE(w.Start({"/usr/bin/etcdctl", "--endpoints=" + s.address(), "watch", "k"},
                      {"ETCDCTL_API=3"}));
  // The watch is open once it printed a put made after it started: put
  // until it shows one (bounded).
  bool seen = false;
  for (int i = 0; i < 100 && !seen; ++i) {
    ASSERT_EQ(s.Etcdctl({"put", "k", "v" + std::to_string(i)}).exit_code, 0);
    seen = w.WaitForOut([](const std::string& out) { return out.find("PUT\nk\n") != std::string::npos; },
                        std::chrono::milliseconds(200));
  }
  ASSERT_TRUE(seen) << w.Err();
  EXPECT_EQ(s.Stop(SIGTERM), 0) << s.Log();
}

// etcd's periodic auto compaction, with a retention of 300 ms (a duration;
// a whole number would be hours): the server compacts by itself at the
// revision it sampled about a retention ago, so old revisions become
// compacted without any client asking.
TEST(ServeLifecycleTest, AutoCompactionCompactsByItself) {
  if (!EtcdServer::Available()) GTEST_SKIP() << "etcdctl is not installed";
  std::string error;
  ServeProcess s;
  ASSERT_TRUE(s.Start(&error, {"--auto-compaction-mode=periodic",
                               "--auto-compaction-retention=300ms"}))
      << error;
  ASSERT_EQ(s.Etcdctl({"put", "k", "v1"}).exit_code, 0);  // revision 2
  bool compacted = false;
  // Bounded: a few periods suffice; keep writing so revisions move on.
  for (int i = 0; i < 100 && !compacted; ++i) {
    ASSERT_EQ(s.Etcdctl({"put", "k", "v" + std::to_string(i)}).exit_code, 0);
    ProcessResult old = s.Etcdctl({"get", "k", "--rev=2"});
    compacted = old.exit_code != 0 &&
                old.err.find("required revision has been compacted") != std::string::npos;
  }
  EXPECT_TRUE(compacted) << s.Log();
  // The latest value is untouched.
  ProcessResult get = s.Etcdctl({"get", "k", "--print-value-only"});
  EXPECT_EQ(get.exit_code, 0);
  EXPECT_EQ(s.Stop(SIGTERM), 0) << s.Log();
}

// --log-level drops the lines below it: a start that fails (the data
// directory is a file) logs its error at the default level and at "error",
// and nothing at "fatal"; the exit code is the same.
TEST(ServeLifecycleTest, LogLevelDropsLinesBelowIt) {
  const std::string file = NewTempDir("loglevel") + "/not-a-dir";
  { std::ofstream(file) << "x"; }
  for (const auto& [level, logged] : std::vector<std::pair<std::string, bool>>{
           {"", true}, {"--log-level=error", true}, {"--log-level=fatal", false}}) {
    std::vector<std::string> argv = {RevkvPath(), "serve", "--data-dir", file,
                                     "--listen-client-urls", "http://127.0.0.1:0"};
    if (!level.empty()) argv.push_back(level);
    ProcessResult r = RunProcess(argv, "");
    EXPECT_EQ(r.exit_code, 1) << level << r.err;
    EXPECT_EQ(r.err.find("\"level\":\"error\"") != std::string::npos, logged) << level << r.err;
  }
}

TEST(ServeLifecycleTest, UnsupportedFlagsAndVariablesAreRejected) {
  const std::string dir = NewTempDir("reject");
  struct Case {
    std::vector<std::string> args;
    std::vector<std::string> env;
    std::string says;
  };
  for (const Case& c : std::vector<Case>{
           {{"--listen-peer-urls", "http://127.0.0.1:2380"}, {}, "--listen-peer-urls"},
           {{"--auto-compaction-mode=daily"}, {}, "unknown auto-compaction-mode"},
           {{"--snapshot-count=0"}, {}, "--snapshot-count must be between 1 and"},
           {{"--max-concurrent-streams=0"}, {}, "--max-concurrent-streams must be between 1 and"},
           {{"--logger=capnslog"}, {}, "revkv supports 'zap' only"},
           {{}, {"ETCD_LOG_LEVEL=loud"}, "unknown log level \"loud\""},
           {{"--auto-compaction-mode=revision", "--auto-compaction-retention=1h"},
            {},
            "error parsing CompactionRetention"},
           {{}, {"ETCD_AUTO_COMPACTION_RETENTION=-5m"}, "error parsing CompactionRetention"},
           {{"--listen-client-urls", "https://127.0.0.1:2379"}, {}, "https://127.0.0.1:2379"},
           {{"--listen-client-urls", "unix://x"}, {}, "unix://x"},
           {{"--auto-tls=maybe"}, {}, "invalid value \"maybe\" for --auto-tls"},
           {{}, {"ETCD_CLIENT_CERT_AUTH=true"}, "--client-cert-auth needs --trusted-ca-file"},
           {{}, {"ETCD_CLIENT_CERT_AUTH=yes"}, "ETCD_CLIENT_CERT_AUTH"},
           {{"--max-request-bytes", "lots"}, {}, "lots"},
           {{"--experimental-watch-progress-notify-interval", "soon"}, {}, "soon"},
           {{"--experimental-watch-progress-notify-interval", "-1s"}, {}, "-1s"},
           {{"--name"}, {}, "--name"},
           // A cluster member must be in its initial cluster (--name "default").
           {{}, {"ETCD_INITIAL_CLUSTER=x=http://127.0.0.1:2380"}, "couldn't find local name"},
           {{"--initial-cluster", "default=https://127.0.0.1:2380"}, {}, "must be http://IP:port"},
           {{"--initial-cluster", "default=http://127.0.0.1:2380", "--initial-cluster-state", "old"},
            {},
            "--initial-cluster-state must be new or existing"},
           {{"--initial-cluster", "default=http://127.0.0.1:2380", "--advertise-client-urls",
             "https://127.0.0.1:2379"},
            {},
            "needs an http:// --advertise-client-urls"},
       }) {
    std::vector<std::string> argv = {RevkvPath(), "serve", "--data-dir", dir};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    ProcessResult r = RunProcess(argv, "", c.env);
    EXPECT_NE(r.exit_code, 0) << c.says;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
  }
  ProcessResult help = RunProcess({RevkvPath(), "serve", "--help"}, "");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--max-txn-ops (ETCD_MAX_TXN_OPS)"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("--cert-file (ETCD_CERT_FILE)"), std::string::npos) << help.out;
  EXPECT_NE(help.out.find("--client-cert-auth (ETCD_CLIENT_CERT_AUTH)"), std::string::npos);
  EXPECT_NE(help.out.find("--auto-tls (ETCD_AUTO_TLS)"), std::string::npos);
  EXPECT_EQ(help.out.find("not enforced"), std::string::npos) << help.out;
}

}  // namespace
}  // namespace revkv::testing
