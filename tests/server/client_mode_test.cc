// revkv's client mode (`revkv --endpoints=URL put/get/del/txn/compaction`
// and `endpoint hashkv`,
// cmd/revkv/remote_kv.h) against a real etcd 3.4.23 and against `revkv
// serve` (skipped without etcd). Three servers get the same command
// sequence: etcd driven by etcdctl (the reference), a second etcd driven by
// revkv, and revkv serve driven by revkv. Every step must print the same
// normalised JSON (and, for some, the same simple output), the same last
// stderr line and exit with the same code. Also: an endpoint nobody answers
// fails as etcdctl does ("context deadline exceeded", exit 1, after
// --command-timeout); a command without a client mode names the data
// directory it needs; --data-dir still wins over --endpoints.
#include <chrono>
#include <fstream>
#include <functional>
#include <sstream>
#include <regex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "tests/cmd/etcd_server.h"
#include "tests/cmd/process.h"
#include "tests/server/etcd_and_serve_suite.h"
#include "tests/server/serve_process.h"

namespace revkv::testing {
namespace {

// The file's bytes ("" if unreadable).
std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Step {
  Step(std::vector<std::string> a, std::string i = "") : args(std::move(a)), in(std::move(i)) {}
  std::vector<std::string> args;
  std::string in;
};

std::vector<Step> Sequence() {
  return {
      {{"put", "a", "1"}},
      {{"put", "a", "2", "--prev-kv"}},
      {{"put", "a/b", "x"}},
      {{"put", "a/c", "y"}},
      {{"put", "b", "zz"}},
      {{"put", "e", ""}},
      {{"put", "", "x"}},
      {{"put", "a", "3", "--ignore-value"}},
      {{"put", "nosuch", "--ignore-value"}},
      {{"get", "a"}},
      {{"get", "nosuch"}},
      {{"get", "a", "--prefix"}},
      {{"get", "a", "b"}},
      {{"get", "a", "--from-key"}},
      {{"get", "", "--prefix", "--limit=1"}},
      {{"get", "a", "--prefix", "--keys-only"}},
      {{"get", "a", "--rev=2"}},
      {{"get", "a", "--rev=1000"}},
      {{"get", "", "--prefix", "--sort-by=VALUE", "--order=DESCEND"}},
      {{"get", "", "--prefix", "--sort-by=MODIFY", "--limit=2"}},
      {{"get", "", "--prefix", "--sort-by=CREATE", "--order=ASCEND"}},
      {{"get", "", "--prefix", "--sort-by=VERSION"}},
      {{"get", "", "--prefix", "--consistency=s"}},
      {{"del", "nosuch"}},
      {{"del", "a/b", "--prev-kv"}},
      {{"del", ""}},
      {{"txn"}, "value(\"a\") = \"2\"\n\nput t1 v1\nget a\ndel b --prev-kv\n\nput t2 v2\n\n"},
      {{"txn"}, "value(\"a\") = \"nope\"\n\nput t1 v1\n\nput t2 v2\nget t1\n\n"},
      {{"txn"}, "version(\"a\") > \"1\"\nmod(\"a\") < \"100\"\ncreate(\"a\") != \"0\"\n\nget a --prefix\n\n\n"},
      {{"txn"}, "\nput d 1\nput d 2\n\n\n"},
      {{"txn"}, "\nget a --rev=1000\n\n\n"},
      {{"txn"}, "\n\n\n"},
      {{"del", "a", "--prefix", "--prev-kv"}},
      {{"put", "a", "again"}},
      {{"compaction", "4"}},
      {{"compaction", "4"}},
      {{"compaction", "1000"}},
      {{"compaction", "5", "--physical"}},
      {{"get", "a", "--rev=3"}},
      {{"get", "a", "--rev=5"}},
      {{"get", "", "--prefix"}},
      {{"endpoint", "hashkv"}},
      {{"endpoint", "hashkv", "--rev=5"}},
      {{"endpoint", "hashkv", "--rev=3"}},
      {{"endpoint", "hashkv", "--rev=1000"}},
      {{"del", "", "--from-key"}},
  };
}

std::string What(const Step& s) {
  std::string w;
  for (const std::string& a : s.args) w += a + " ";
  return w;
}

ProcessResult Revkv(const std::string& endpoint, const std::vector<std::string>& args,
                    const std::string& in = "") {
  std::vector<std::string> argv = {RevkvPath(), "--endpoints=" + endpoint};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, in, {"ETCDCTL_API=3"});
}

class ClientModeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!EtcdServer::Available()) GTEST_SKIP() << "etcd 3.4 is not installed";
    std::string error;
    ASSERT_TRUE(reference_.Start(&error)) << error;
    ASSERT_TRUE(etcd_.Start(&error)) << error;
    ASSERT_TRUE(revkv_.Start(&error)) << error;
  }

  // The step on all three; `json`: -w json and normalised.
  void Check(const Step& step, bool json) {
    std::vector<std::string> args;
    if (json) args = {"-w", "json"};
    args.insert(args.end(), step.args.begin(), step.args.end());
    // The endpoint, which hashkv prints, named alike for all three.
    auto norm = [json](std::string out, const std::string& endpoint) {
      for (size_t at = out.find(endpoint); at != std::string::npos; at = out.find(endpoint, at)) {
        out.replace(at, endpoint.size(), "ENDPOINT");
      }
      return json ? NormaliseEtcdJson(out) : out;
    };
    const ProcessResult want = reference_.Etcdctl(args, step.in);
    const std::string want_out = norm(want.out, reference_.endpoint());
    const std::string want_err = norm(want.LastErrLine(), reference_.endpoint());
    for (const auto& [endpoint, name] :
         {std::pair<std::string, std::string>{etcd_.endpoint(), "revkv->etcd"},
          {revkv_.address(), "revkv->revkv serve"}}) {
      const ProcessResult got = Revkv(endpoint, args, step.in);
      EXPECT_EQ(want_out, norm(got.out, endpoint)) << name << ": " << What(step);
      EXPECT_EQ(want_err, norm(got.LastErrLine(), endpoint)) << name << ": " << What(step);
      EXPECT_EQ(want.exit_code, got.exit_code) << name << ": " << What(step);
    }
  }

  EtcdServer reference_;
  EtcdServer etcd_;
  ServeProcess revkv_;
};

TEST_F(ClientModeTest, SameAnswersAsEtcdctl) {
  for (const Step& step : Sequence()) Check(step, /*json=*/true);
  // The simple format too (it prints what JSON leaves out: values as text).
  for (const Step& step : std::vector<Step>{
           {{"txn"}, "value(\"a\") = \"again\"\n\nput g 1\nget a\n\n\n"},
           {{"put", "h", "1"}},
           {{"get", "", "--prefix"}},
           {{"get", "", "--prefix", "--print-value-only"}},
           {{"del", "g"}},
           {{"compaction", "7"}},
           {{"endpoint", "hashkv"}},
           {{"endpoint", "hashkv", "--rev=8"}},
       }) {
    Check(step, /*json=*/false);
  }
}

// The commands beyond KV (lease, ...): etcdctl and revkv against the same
// server -- a real etcd and revkv serve -- must print the same, up to
// what a normaliser blanks (ids the server picks, a TTL ticking down).
class SameServerTest : public EtcdAndServeSuite {
 protected:
  using Norm = std::function<std::string(std::string)>;
  struct Server {
    std::string name;
    std::string endpoint;
  };

  // The suite's two servers, by name.
  void SetUp() override {
    EtcdAndServeSuite::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    servers_ = {{"etcd", etcd_->endpoint()}, {"revkv serve", revkv_->address()}};
  }

  static ProcessResult Etcdctl(const std::string& endpoint, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"/usr/bin/etcdctl", "--endpoints=" + endpoint};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv, "", {"ETCDCTL_API=3"});
  }

  // `args` through etcdctl, then through revkv, against `s`: the same
  // stdout, last stderr line and exit code after `norm`.
  static void Same(const Server& s, const std::vector<std::string>& args, const Norm& norm = {}) {
    const ProcessResult want = Etcdctl(s.endpoint, args);
    const ProcessResult got = Revkv(s.endpoint, args);
    auto n = [&](const std::string& t) { return norm ? norm(t) : t; };
    std::string what;
    for (const std::string& a : args) what += a + " ";
    EXPECT_EQ(n(want.out), n(got.out)) << s.name << ": " << what;
    EXPECT_EQ(n(want.LastErrLine()), n(got.LastErrLine())) << s.name << ": " << what;
    EXPECT_EQ(want.exit_code, got.exit_code) << s.name << ": " << what;
  }

  // The lease id of etcdctl's "lease ID granted with TTL(..)".
  static std::string Grant(const Server& s, const std::string& ttl) {
    ProcessResult r = Etcdctl(s.endpoint, {"lease", "grant", ttl});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::smatch m;
    static const std::regex kId("lease ([0-9a-f]+) granted");
    return std::regex_search(r.out, m, kId) ? m[1].str() : "";
  }

  std::vector<Server> servers_;
};

// Lease ids the server chose, and TTLs that tick down between two calls.
std::string NormLease(std::string s) {
  static const std::regex kHex("lease [0-9a-f]{16}");
  static const std::regex kId("\"(ID|id)\"( ?: ?)[0-9]+");
  static const std::regex kRemaining("remaining\\([0-9]+s\\)|\"(ttl|TTL)\"( ?: ?)[0-9]+");
  s = std::regex_replace(s, kHex, "lease ID");
  s = std::regex_replace(s, kId, "\"$1\"$2N");
  return std::regex_replace(s, kRemaining, "TTL");
}

TEST_F(SameServerTest, Lease) {
  for (const Server& s : servers_) {
    for (const char* f : {"simple", "json", "fields", "table"}) {
      Same(s, {"-w", f, "lease", "grant", "100"}, NormLease);
    }
    const std::string id = Grant(s, "100");
    ASSERT_EQ(Etcdctl(s.endpoint, {"put", "lk1", "v", "--lease=" + id}).exit_code, 0);
    // etcd answers a lease's keys in map order: a second key only where
    // the order is fixed.
    if (s.name == "revkv serve") {
      ASSERT_EQ(Etcdctl(s.endpoint, {"put", "lk2", "v", "--lease=" + id}).exit_code, 0);
    }
    for (const char* f : {"simple", "json", "fields", "table"}) {
      Same(s, {"-w", f, "lease", "timetolive", id, "--keys"}, NormLease);
      Same(s, {"-w", f, "lease", "timetolive", id}, NormLease);
      Same(s, {"-w", f, "lease", "timetolive", "1234"});
      Same(s, {"-w", f, "lease", "list"});
      Same(s, {"-w", f, "lease", "keep-alive", "--once", id});
      Same(s, {"-w", f, "lease", "keep-alive", "1234"});
    }
    for (const char* f : {"simple", "json", "fields"}) {
      // Leases without keys: a revoke leaves the revision alone.
      const std::string a = Grant(s, "100"), b = Grant(s, "100");
      const ProcessResult want = Etcdctl(s.endpoint, {"-w", f, "lease", "revoke", a});
      const ProcessResult got = Revkv(s.endpoint, {"-w", f, "lease", "revoke", b});
      EXPECT_EQ(NormLease(want.out), NormLease(got.out)) << s.name << " " << f;
      EXPECT_EQ(want.exit_code, got.exit_code) << s.name << " " << f;
    }
    const ProcessResult revoked = Revkv(s.endpoint, {"lease", "revoke", id});
    EXPECT_EQ(revoked.out, "lease " + id + " revoked\n") << s.name << ": " << revoked.err;
    // The keys went with it (the KV printer leaves the header's ids out).
    Same(s, {"-w", "json", "get", "lk", "--prefix"}, NormaliseEtcdJson);
    Same(s, {"lease", "timetolive", id});
    // Errors.
    Same(s, {"lease", "keep-alive", "--once", "1234"});
    Same(s, {"lease", "revoke", "1234"});
    Same(s, {"lease", "revoke", "zz"});
    Same(s, {"lease", "grant", "abc"});
    Same(s, {"lease", "grant", "99999999999999999999"});
    Same(s, {"lease", "timetolive"});
    Same(s, {"lease", "keep-alive"});
  }
}

// A took = ... duration differs from run to run, and so does the width
// of a table's TOOK column.
std::string NormTook(std::string s) {
  static const std::regex kTook("[0-9.]+(ns|µs|ms|s)\\b");
  static const std::regex kRuns("-+| +");
  s = std::regex_replace(s, kTook, "D");
  return std::regex_replace(s, kRuns, " ");
}

TEST_F(SameServerTest, MaintenanceAndMembers) {
  for (const Server& s : servers_) {
    for (const char* f : {"simple", "json", "fields", "table"}) {
      Same(s, {"-w", f, "endpoint", "status"});
      Same(s, {"-w", f, "endpoint", "health"}, NormTook);
      Same(s, {"-w", f, "member", "list"});
      Same(s, {"-w", f, "defrag"});
    }
    // fields: etcdctl panics on the header an alarm answer lacks.
    for (const char* f : {"simple", "json", "table"}) {
      Same(s, {"-w", f, "alarm", "list"});
      Same(s, {"-w", f, "alarm", "disarm"});
    }
    // The same file, byte for byte (no write in between).
    const std::string dir = NewTempDir("snap");
    const ProcessResult want = Etcdctl(s.endpoint, {"snapshot", "save", dir + "/etcdctl.db"});
    const ProcessResult got = Revkv(s.endpoint, {"snapshot", "save", dir + "/revkv.db"});
    EXPECT_EQ(want.exit_code, 0) << want.err;
    EXPECT_EQ(got.exit_code, 0) << got.err;
    EXPECT_EQ(got.out, "Snapshot saved at " + dir + "/revkv.db\n");
    EXPECT_EQ(want.out, "Snapshot saved at " + dir + "/etcdctl.db\n");
    EXPECT_EQ(ReadFile(dir + "/etcdctl.db"), ReadFile(dir + "/revkv.db")) << s.name;
    EXPECT_FALSE(ReadFile(dir + "/revkv.db").empty()) << s.name;
    Same(s, {"snapshot", "save"});
  }
}

// watch runs until killed: etcdctl and revkv side by side under
// timeout(1), over history (--rev) so that nothing depends on when the
// watch starts; the same stdout, stderr's last line and exit code.
TEST_F(SameServerTest, Watch) {
  for (const Server& s : servers_) {
    for (const char* v : {"a", "b"}) ASSERT_EQ(Etcdctl(s.endpoint, {"put", "w1", v}).exit_code, 0);
    ASSERT_EQ(Etcdctl(s.endpoint, {"del", "w1"}).exit_code, 0);
    const ProcessResult put = Etcdctl(s.endpoint, {"-w", "fields", "put", "w2", ""});
    std::smatch m;
    static const std::regex kRev("\"Revision\" : ([0-9]+)");
    ASSERT_TRUE(std::regex_search(put.out, m, kRev)) << put.out;
    const int64_t rev = std::stoll(m[1]);
    const std::string from = "--rev=" + std::to_string(rev - 3);
    const std::string next = "--rev=" + std::to_string(rev + 1);
    const std::vector<std::vector<std::string>> cases = {
        {"-w", "simple", "watch", "w", "--prefix", from, "--prev-kv"},
        {"-w", "json", "watch", "w", "--prefix", from, "--prev-kv"},
        {"-w", "fields", "watch", "w", "--prefix", from},
        {"--hex", "watch", "w1", "w3", from},
        {"-w", "table", "watch", "w1", from},
        // The events below; simple output does not show how the server
        // grouped them (it depends on when the watch began).
        {"watch", "live", next, "--prev-kv"},
        {"watch"},
        // The exec form: a command per event, with ETCD_WATCH_* set (the
        // revision is the header's, which races with the live writes).
        {"watch", "w", "--prefix", from, "--", "sh", "-c",
         "echo \"$ETCD_WATCH_EVENT_TYPE|$ETCD_WATCH_KEY|$ETCD_WATCH_VALUE\""},
        {"watch", "w1", from, "--", "false"},
        {"watch", "w1", from, "--", "nosuch-command", "a"},
        {"watch", "w1", "--"},
        {"watch", "--", "echo"},
        {"watch", "a", "b", "--prefix"},
    };
    std::vector<ProcessResult> got(cases.size() * 2);
    std::vector<std::thread> runs;
    for (size_t i = 0; i < got.size(); ++i) {
      std::vector<std::string> argv = {"/usr/bin/timeout", "1.5",
                                       i % 2 == 0 ? "/usr/bin/etcdctl" : RevkvPath(),
                                       "--endpoints=" + s.endpoint};
      argv.insert(argv.end(), cases[i / 2].begin(), cases[i / 2].end());
      runs.emplace_back([argv, &out = got[i]] { out = RunProcess(argv, "", {"ETCDCTL_API=3"}); });
    }
    EXPECT_EQ(Etcdctl(s.endpoint, {"put", "live", "1"}).exit_code, 0);
    EXPECT_EQ(Etcdctl(s.endpoint, {"put", "live", "2"}).exit_code, 0);
    EXPECT_EQ(Etcdctl(s.endpoint, {"del", "live"}).exit_code, 0);
    for (std::thread& t : runs) t.join();
    for (size_t i = 0; i < cases.size(); ++i) {
      std::string what;
      for (const std::string& a : cases[i]) what += a + " ";
      // The header's revision is the server's when it answered: the live
      // writes race with the answers over history.
      static const std::regex kHeaderRev("\"(Revision|revision)\"( ?: ?)[0-9]+");
      EXPECT_EQ(std::regex_replace(got[2 * i].out, kHeaderRev, "R"),
                std::regex_replace(got[2 * i + 1].out, kHeaderRev, "R"))
          << s.name << ": " << what;
      EXPECT_EQ(got[2 * i].LastErrLine(), got[2 * i + 1].LastErrLine()) << s.name << ": " << what;
      EXPECT_EQ(got[2 * i].exit_code, got[2 * i + 1].exit_code) << s.name << ": " << what;
    }
    EXPECT_NE(got[11].out.find("DELETE\nlive\n2\nlive\n\n"), std::string::npos) << got[11].out;
    EXPECT_NE(got[15].out.find("\"PUT\"|\"w1\"|\"a\"\n"), std::string::npos) << got[15].out;
    // A watch from a compacted revision: canceled by the server, exit 5.
    ASSERT_EQ(Etcdctl(s.endpoint, {"compaction", std::to_string(rev)}).exit_code, 0);
    for (const char* f : {"simple", "json"}) Same(s, {"-w", f, "watch", "w1", from});
  }
}

// keep-alive without --once runs until the lease is gone: one line per
// renewal, then etcdctl's "expired or revoked." line, exit 0.
TEST_F(SameServerTest, LeaseKeepAliveUntilRevoked) {
  const Server& s = servers_[1];
  // etcdctl and revkv side by side, each on its own lease.
  // TTL 2: a renewal every 0.5s (TTL/3 rounds down to 0; both clients
  // wait at least 0.5s).
  const std::string ids[2] = {Grant(s, "2"), Grant(s, "2")};
  ProcessResult r[2];
  std::vector<std::thread> runs;
  for (int i = 0; i < 2; ++i) {
    // timeout(1) bounds the run if the revoke is missed.
    std::vector<std::string> argv = {"/usr/bin/timeout", "10",
                                     i == 0 ? "/usr/bin/etcdctl" : RevkvPath(),
                                     "--endpoints=" + s.endpoint, "lease", "keep-alive", ids[i]};
    runs.emplace_back([argv, &out = r[i]] { out = RunProcess(argv, "", {"ETCDCTL_API=3"}); });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  for (const std::string& id : ids) {
    EXPECT_EQ(Etcdctl(s.endpoint, {"lease", "revoke", id}).exit_code, 0);
  }
  for (std::thread& t : runs) t.join();
  for (int i = 0; i < 2; ++i) {
    const char* who = i == 0 ? "etcdctl" : "revkv";
    const std::string alive = "lease " + ids[i] + " keepalived with TTL(2)\n";
    const std::string end = "lease " + ids[i] + " expired or revoked.\n";
    EXPECT_EQ(r[i].exit_code, 0) << who << r[i].err;
    ASSERT_GE(r[i].out.size(), alive.size() + end.size()) << who << r[i].out;
    EXPECT_EQ(r[i].out.substr(0, alive.size()), alive) << who;
    EXPECT_EQ(r[i].out.substr(r[i].out.size() - end.size()), end) << who;
    const std::string middle = r[i].out.substr(0, r[i].out.size() - end.size());
    for (size_t at = 0; at < middle.size(); at += alive.size()) {
      EXPECT_EQ(middle.substr(at, alive.size()), alive) << who << r[i].out;
    }
  }
}

TEST(ClientModeNoServerTest, LeaseOnAnUnansweredEndpoint) {
  const std::string nobody = "127.0.0.1:" + std::to_string(EtcdServer::FreePort());
  ProcessResult got = Revkv(nobody, {"--command-timeout=300ms", "lease", "grant", "10"});
  EXPECT_EQ(got.exit_code, 1);
  EXPECT_EQ(got.LastErrLine(), "Error: failed to grant lease (context deadline exceeded)");
  // etcdctl's list waits forever here; revkv stops at the command timeout
  // with etcdctl's exit code for a connection failure.
  got = Revkv(nobody, {"--command-timeout=300ms", "lease", "list"});
  EXPECT_EQ(got.exit_code, 2);
  EXPECT_EQ(got.LastErrLine(), "Error: context deadline exceeded");
}

TEST(ClientModeNoServerTest, MaintenanceOnAnUnansweredEndpoint) {
  const std::string nobody = "127.0.0.1:" + std::to_string(EtcdServer::FreePort());
  const std::string dir = NewTempDir("snap");
  const std::vector<std::vector<std::string>> commands = {
      {"-w", "json", "endpoint", "status"}, {"endpoint", "health"}, {"defrag"},
      {"snapshot", "save", dir + "/s.db"},  {"member", "list"},     {"alarm", "list"}};
  // Side by side: each waits out its command timeout.
  std::vector<ProcessResult> got(commands.size());
  std::vector<std::thread> runs;
  for (size_t i = 0; i < commands.size(); ++i) {
    std::vector<std::string> args = {"--command-timeout=300ms"};
    args.insert(args.end(), commands[i].begin(), commands[i].end());
    runs.emplace_back([&nobody, args, &out = got[i]] { out = Revkv(nobody, args); });
  }
  for (std::thread& t : runs) t.join();
  EXPECT_EQ(got[0].exit_code, 1);
  EXPECT_EQ(got[0].out, "[]\n");
  EXPECT_EQ(got[0].err, "Failed to get the status of endpoint " + nobody +
                            " (context deadline exceeded)\n");
  EXPECT_EQ(got[1].exit_code, 1);
  EXPECT_EQ(got[1].err, nobody + " is unhealthy: failed to commit proposal: context deadline "
                                 "exceeded\nError: unhealthy cluster\n");
  EXPECT_EQ(got[2].exit_code, 1);
  EXPECT_EQ(got[2].err, "Failed to defragment etcd member[" + nobody +
                            "] (context deadline exceeded)\n");
  EXPECT_EQ(got[3].exit_code, 5);
  EXPECT_EQ(got[3].LastErrLine(), "Error: context deadline exceeded");
  EXPECT_EQ(ReadFile(dir + "/s.db.part"), "") << "the partial file stays behind";
  for (size_t i = 4; i < commands.size(); ++i) {
    EXPECT_EQ(got[i].exit_code, 1) << commands[i][0];
    EXPECT_EQ(got[i].LastErrLine(), "Error: context deadline exceeded") << commands[i][0];
  }
}

TEST(ClientModeNoServerTest, UnansweredEndpointTimesOutAsEtcdctl) {
  const std::string nobody = "127.0.0.1:" + std::to_string(EtcdServer::FreePort());
  const auto start = std::chrono::steady_clock::now();
  ProcessResult got = Revkv(nobody, {"--command-timeout=1s", "get", "a"});
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(got.exit_code, 1);
  EXPECT_EQ(got.LastErrLine(), "Error: context deadline exceeded");
  EXPECT_EQ(got.out, "");
  EXPECT_GE(took, std::chrono::milliseconds(900)) << "it gave up before the command timeout";
  EXPECT_LT(took, std::chrono::seconds(30));
}

TEST(ClientModeNoServerTest, CommandsWithoutClientModeNeedADataDirectory) {
  ProcessResult got = Revkv("127.0.0.1:1", {"stats"});
  EXPECT_EQ(got.exit_code, 1);
  EXPECT_NE(got.LastErrLine().find("no data directory"), std::string::npos) << got.err;
  EXPECT_NE(got.LastErrLine().find("--endpoints"), std::string::npos) << got.err;
}

TEST(ClientModeNoServerTest, DataDirWinsOverEndpoints) {
  const std::string dir = NewTempDir("local");
  ProcessResult put = Revkv("127.0.0.1:1", {"--data-dir", dir, "put", "k", "v"});
  ASSERT_EQ(put.exit_code, 0) << put.err;
  EXPECT_EQ(put.out, "OK\n");
  EXPECT_NE(put.err.find("Note: ignoring --endpoints"), std::string::npos) << put.err;
  ProcessResult get = Revkv("127.0.0.1:1", {"--data-dir", dir, "get", "k"});
  EXPECT_EQ(get.out, "k\nv\n");
}

}  // namespace
}  // namespace revkv::testing
