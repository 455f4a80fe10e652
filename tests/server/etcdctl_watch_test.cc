// etcdctl 3.4.23's watch and snapshot save against `revkv serve` and a real
// etcd 3.4.23 (part of etcdctl_serve_test; skipped without etcd): the same
// writes on both, then each watch (--rev, --prefix, --prev-kv, a key range,
// -i from stdin) runs in the background until it printed the last
// revision's events (bounded in time) and must print what etcd's printed;
// a watch from a compacted revision fails as etcd's does. snapshot save must
// succeed with etcd's output, and `revkv snapshot status` and `restore`
// must take the saved file.
#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/cmd/etcd_server.h"
#include "tests/cmd/process.h"
#include "tests/server/background_process.h"
#include "tests/server/serve_process.h"

namespace revkv::testing {
namespace {

constexpr auto kWatchTimeout = std::chrono::seconds(20);

size_t Count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

class EtcdctlWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!EtcdServer::Available()) GTEST_SKIP() << "etcd 3.4 is not installed";
    std::string error;
    ASSERT_TRUE(etcd_.Start(&error)) << error;
    ASSERT_TRUE(revkv_.Start(&error)) << error;
  }

  void Both(const std::vector<std::string>& args, const std::string& in = "") {
    ProcessResult want = etcd_.Etcdctl(args, in);
    ProcessResult got = revkv_.Etcdctl(args, in);
    ASSERT_EQ(want.exit_code, 0) << args[0] << ": " << want.err;
    ASSERT_EQ(got.exit_code, 0) << args[0] << ": " << got.err;
  }

  // Runs `etcdctl args` against `endpoint` in the background, feeding it
  // `in`, until its output holds `ends` lines "end"; returns the output.
  std::string Watch(const std::string& endpoint, const std::vector<std::string>& args,
                    const std::string& in, size_t ends) {
    BackgroundProcess p;
    std::vector<std::string> argv = {"/usr/bin/etcdctl", "--endpoints=" + endpoint};
    argv.insert(argv.end(), args.begin(), args.end());
    EXPECT_TRUE(p.Start(argv, {"ETCDCTL_API=3"}));
    if (!in.empty()) {
      EXPECT_TRUE(p.WriteStdin(in));
    }
    const bool done = p.WaitForOut(
        [ends](const std::string& out) { return Count(out, "\nend\n") >= ends; }, kWatchTimeout);
    EXPECT_TRUE(done) << "watch " << args.back() << " at " << endpoint << " printed only:\n"
                      << p.Out() << "\nstderr: " << p.Err();
    p.Kill();
    return p.Out();
  }

  EtcdServer etcd_;
  ServeProcess revkv_;
};

TEST_F(EtcdctlWatchTest, SameEventsAsEtcd) {
  // Revisions 2..10 on both servers; the last one writes "end" to a, a/z, b.
  Both({"put", "a", "1"});
  Both({"put", "a/b", "2"});
  Both({"put", "b", "3"});
  Both({"put", "a", "4"});
  Both({"del", "a"});
  Both({"put", "a/c", "5"});
  Both({"put", "c", "6"});
  Both({"del", "a/b"});
  Both({"txn"}, "\nput a end\nput a/z end\nput b end\n\n\n");

  struct Case {
    std::vector<std::string> args;
    std::string in;
    size_t ends;  // "end" lines in the full output
  };
  const std::vector<Case> cases = {
      {{"watch", "--rev=2", "a"}, "", 1},
      {{"watch", "--rev=2", "--prefix", "a"}, "", 2},
      {{"watch", "--rev=2", "--prefix", "--prev-kv", "a"}, "", 2},
      {{"watch", "--rev=2", "a", "c"}, "", 3},
      {{"watch", "--rev=6", "--prev-kv", "a", "c"}, "", 3},
      {{"watch", "--rev=4", "b"}, "", 1},
      {{"watch", "--rev=2", "--prefix", ""}, "", 3},
      // One watch per process: two print concurrently, interleaved.
      {{"watch", "-i"}, "watch --rev=2 b\n", 1},
      {{"watch", "-i"}, "watch --rev=5 --prefix a\n", 2},
      {{"watch", "-i", "--prev-kv"}, "watch --rev=3 a c\n", 3},
  };
  for (const Case& c : cases) {
    std::string what;
    for (const std::string& a : c.args) what += a + " ";
    const std::string want = Watch(etcd_.endpoint(), c.args, c.in, c.ends);
    const std::string got = Watch(revkv_.address(), c.args, c.in, c.ends);
    EXPECT_EQ(want, got) << what << c.in;
    EXPECT_EQ(Count(got, "\nend\n"), c.ends) << what;
  }

  // A watch from a compacted revision: canceled, the same error and exit.
  Both({"compaction", "5"});
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"watch", "--rev=2", "a"}, {"watch", "--rev=3", "--prefix", "a"}}) {
    std::vector<std::string> w = {"/usr/bin/timeout", "20", "/usr/bin/etcdctl",
                                  "--endpoints=" + etcd_.endpoint()};
    std::vector<std::string> g = {"/usr/bin/timeout", "20", "/usr/bin/etcdctl",
                                  "--endpoints=" + revkv_.address()};
    w.insert(w.end(), args.begin(), args.end());
    g.insert(g.end(), args.begin(), args.end());
    ProcessResult want = RunProcess(w, "", {"ETCDCTL_API=3"});
    ProcessResult got = RunProcess(g, "", {"ETCDCTL_API=3"});
    EXPECT_NE(want.exit_code, 124) << "etcd's watch did not end";
    EXPECT_EQ(want.exit_code, got.exit_code) << got.err;
    EXPECT_EQ(want.out, got.out);
    EXPECT_EQ(want.LastErrLine(), got.LastErrLine());
  }
}

TEST_F(EtcdctlWatchTest, SnapshotSave) {
  Both({"put", "a", "1"});
  Both({"put", "b", "2"});
  Both({"del", "a"});
  const std::string dir = NewTempDir("snap");
  ProcessResult want = etcd_.Etcdctl({"snapshot", "save", dir + "/etcd.db"});
  ProcessResult got = revkv_.Etcdctl({"snapshot", "save", dir + "/revkv.db"});
  ASSERT_EQ(want.exit_code, 0) << want.err;
  ASSERT_EQ(got.exit_code, 0) << got.err;
  EXPECT_EQ(got.out, "Snapshot saved at " + dir + "/revkv.db\n");
  EXPECT_EQ(want.out, "Snapshot saved at " + dir + "/etcd.db\n");
  // The same log lines (their messages), in the same order.
  auto messages = [](const std::string& err) {
    std::vector<std::string> m;
    for (size_t at = err.find("\"msg\":\""); at != std::string::npos;
         at = err.find("\"msg\":\"", at + 1)) {
      m.push_back(err.substr(at + 7, err.find('"', at + 7) - at - 7));
    }
    return m;
  };
  EXPECT_EQ(messages(want.err), messages(got.err)) << got.err;

  // revkv reads the file etcdctl wrote (content + SHA-256): status, restore.
  ProcessResult st = RunProcess({RevkvPath(), "snapshot", "status", dir + "/revkv.db"}, "");
  EXPECT_EQ(st.exit_code, 0) << st.err;
  // etcdctl's table shape: hash, revision 4, total keys, size.
  EXPECT_NE(st.out.find(", 4, "), std::string::npos) << st.out;
  EXPECT_NE(st.err.find("sha256 verified"), std::string::npos) << st.err;
  ProcessResult rs = RunProcess(
      {RevkvPath(), "snapshot", "restore", dir + "/revkv.db", "--data-dir", dir + "/restored"}, "");
  ASSERT_EQ(rs.exit_code, 0) << rs.err;
  ProcessResult get = RunProcess({RevkvPath(), "--data-dir", dir + "/restored", "get", "", "--prefix"}, "");
  EXPECT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(get.out, "b\n2\n");
}

}  // namespace
}  // namespace revkv::testing
