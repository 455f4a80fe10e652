// etcdctl 3.4.23's client-side recipes -- lock, elect, make-mirror -- against
// `revkv serve` and against a real etcd 3.4.23 (skipped without etcd). They
// are built from Txn, Lease, KeepAlive and Watch (clientv3/concurrency and
// mirror), so they pass only if those answer as etcd's do. Each scenario runs
// on both servers with the same assertions:
//   lock: a second locker waits while the first holds (its key is queued
//     behind the holder's) and runs its command once the holder is stopped;
//   elect: the campaign's proposal is the leader, a second campaign waits,
//     `elect -l` observes the leader, and leadership passes on a stop;
//   make-mirror: a source's keys, then its later puts and deletes, appear
//     under the destination prefix (revkv to revkv, and etcd to revkv).
// Every wait is bounded; background etcdctl processes are stopped by SIGINT
// (so their sessions revoke their leases) or killed at the end.
#include <signal.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/cmd/etcd_server.h"
#include "tests/cmd/process.h"
#include "tests/server/background_process.h"
#include "tests/server/serve_process.h"

namespace revkv::testing {
namespace {

using std::chrono::milliseconds;
constexpr milliseconds kTimeout(20000);

ProcessResult Ctl(const std::string& endpoint, std::vector<std::string> args) {
  args.insert(args.begin(), {"/usr/bin/etcdctl", "--endpoints=" + endpoint});
  return RunProcess(args, "", {"ETCDCTL_API=3"});
}

bool StartCtl(BackgroundProcess* p, const std::string& endpoint, std::vector<std::string> args) {
  args.insert(args.begin(), {"/usr/bin/etcdctl", "--endpoints=" + endpoint});
  return p->Start(args, {"ETCDCTL_API=3"});
}

// Polls `etcdctl args` until its output satisfies `done` (bounded).
bool PollCtl(const std::string& endpoint, const std::vector<std::string>& args,
             const std::function<bool(const std::string&)>& done, std::string* last) {
  const auto deadline = std::chrono::steady_clock::now() + kTimeout;
  for (;;) {
    ProcessResult r = Ctl(endpoint, args);
    *last = r.out + r.err;
    if (r.exit_code == 0 && done(r.out)) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(milliseconds(50));
  }
}

size_t Lines(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

bool Has(const std::string& s, const std::string& what) { return s.find(what) != std::string::npos; }

void LockScenario(const std::string& ep) {
  SCOPED_TRACE("lock at " + ep);
  ProcessResult once = Ctl(ep, {"lock", "L", "--", "echo", "one"});
  ASSERT_EQ(once.exit_code, 0) << once.err;
  EXPECT_EQ(once.out, "one\n");

  BackgroundProcess holder, waiter;
  ASSERT_TRUE(StartCtl(&holder, ep, {"lock", "L"}));
  // The holder prints its lock key (L/<lease id>) once it holds the lock.
  ASSERT_TRUE(holder.WaitForOut([](const std::string& o) { return Has(o, "L/"); }, kTimeout))
      << holder.Err();
  ASSERT_TRUE(StartCtl(&waiter, ep, {"lock", "L", "--", "echo", "two"}));
  std::string keys;
  // Two keys under L/: the waiter has queued behind the holder.
  ASSERT_TRUE(PollCtl(ep, {"get", "L/", "--prefix", "--keys-only"},
                      [](const std::string& o) { return Lines(o) >= 4; }, &keys))
      << keys;
  EXPECT_TRUE(waiter.Running()) << "the waiter ran while the lock was held: " << waiter.Out();
  EXPECT_EQ(waiter.Out(), "");

  EXPECT_EQ(holder.Stop(SIGINT, kTimeout), 0) << holder.Err();
  EXPECT_EQ(waiter.Wait(kTimeout), 0) << waiter.Err();
  EXPECT_EQ(waiter.Out(), "two\n");
  // Both sessions revoked their leases: nothing is left under the lock.
  ProcessResult left = Ctl(ep, {"get", "L/", "--prefix", "--keys-only"});
  EXPECT_EQ(left.exit_code, 0);
  EXPECT_EQ(left.out, "");
}

void ElectScenario(const std::string& ep) {
  SCOPED_TRACE("elect at " + ep);
  BackgroundProcess first, second;
  ASSERT_TRUE(StartCtl(&first, ep, {"elect", "E", "p1"}));
  ASSERT_TRUE(first.WaitForOut([](const std::string& o) { return Has(o, "\np1\n"); }, kTimeout))
      << first.Err();
  ASSERT_TRUE(StartCtl(&second, ep, {"elect", "E", "p2"}));
  std::string keys;
  ASSERT_TRUE(PollCtl(ep, {"get", "E/", "--prefix", "--keys-only"},
                      [](const std::string& o) { return Lines(o) >= 4; }, &keys))
      << keys;
  EXPECT_EQ(second.Out(), "") << "a second leader while the first campaigns";

  auto observe = [&](const std::string& want) {
    BackgroundProcess observer;
    ASSERT_TRUE(StartCtl(&observer, ep, {"elect", "-l", "E"}));
    EXPECT_TRUE(observer.WaitForOut([&](const std::string& o) { return Has(o, "\n" + want + "\n"); },
                                    kTimeout))
        << "observed: " << observer.Out() << observer.Err();
    EXPECT_FALSE(Has(observer.Out(), want == "p1" ? "p2" : "p1")) << observer.Out();
    observer.Kill();
  };
  observe("p1");
  EXPECT_EQ(first.Stop(SIGINT, kTimeout), 0) << first.Err();
  EXPECT_TRUE(second.WaitForOut([](const std::string& o) { return Has(o, "\np2\n"); }, kTimeout))
      << second.Out() << second.Err();
  observe("p2");
  EXPECT_EQ(second.Stop(SIGINT, kTimeout), 0) << second.Err();
}

void MirrorScenario(const std::string& src, const std::string& dst) {
  SCOPED_TRACE("make-mirror " + src + " -> " + dst);
  for (const char* k : {"a", "b", "c"}) ASSERT_EQ(Ctl(src, {"put", k, std::string(k) + "1"}).exit_code, 0);
  BackgroundProcess mirror;
  ASSERT_TRUE(StartCtl(&mirror, src, {"make-mirror", "--dest-prefix=m/", dst}));
  std::string got;
  EXPECT_TRUE(PollCtl(dst, {"get", "m/", "--prefix"},
                      [](const std::string& o) { return o == "m/a\na1\nm/b\nb1\nm/c\nc1\n"; }, &got))
      << "the initial sync: " << got << mirror.Err();
  // Later changes arrive through the mirror's watch.
  ASSERT_EQ(Ctl(src, {"put", "d", "d1"}).exit_code, 0);
  ASSERT_EQ(Ctl(src, {"del", "a"}).exit_code, 0);
  ASSERT_EQ(Ctl(src, {"put", "b", "b2"}).exit_code, 0);
  EXPECT_TRUE(PollCtl(dst, {"get", "m/", "--prefix"},
                      [](const std::string& o) { return o == "m/b\nb2\nm/c\nc1\nm/d\nd1\n"; }, &got))
      << "after the source changed: " << got << mirror.Err();
  mirror.Kill();
}

class EtcdctlRecipesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!EtcdServer::Available()) GTEST_SKIP() << "etcd 3.4 is not installed";
    std::string error;
    ASSERT_TRUE(etcd_.Start(&error)) << error;
    ASSERT_TRUE(revkv_.Start(&error)) << error;
  }

  EtcdServer etcd_;
  ServeProcess revkv_;
};

TEST_F(EtcdctlRecipesTest, Lock) {
  LockScenario(etcd_.endpoint());
  LockScenario(revkv_.address());
}

TEST_F(EtcdctlRecipesTest, Elect) {
  ElectScenario(etcd_.endpoint());
  ElectScenario(revkv_.address());
}

TEST_F(EtcdctlRecipesTest, MakeMirror) {
  ServeProcess dest;
  std::string error;
  ASSERT_TRUE(dest.Start(&error)) << error;
  MirrorScenario(revkv_.address(), dest.address());
  ServeProcess dest2;
  ASSERT_TRUE(dest2.Start(&error)) << error;
  MirrorScenario(etcd_.endpoint(), dest2.address());
}

}  // namespace
}  // namespace revkv::testing
