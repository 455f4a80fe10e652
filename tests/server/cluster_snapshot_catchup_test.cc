// A lagging member of a three-member `revkv serve` cluster catches up by
// snapshot within seconds, not raft 0.15's 30 s install-snapshot timeout.
//
// With --snapshot-count 20 a follower is killed, 150 puts go to the leader
// (its log is compacted past the follower's end), and the follower is
// restarted. The leader sends it a snapshot; a serving member exits (code
// 3) to restore it at its next start, and the test restarts it. Neither the
// exit nor a snapshot the follower drops (it was taking its own: raft
// answers nothing) tells the leader, which keeps the follower in its
// "snapshot" state, sending heartbeats only, until its install-snapshot
// timeout (raft/install_snapshot_timeout.h). The member must reach the
// leader's revision with the leader's HashKV within kCatchUp of its first
// restart.
//
// Every wait is a bounded poll of etcdctl; restarts are bounded in number.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "server/proto/rpc.grpc.pb.h"
#include "tests/cmd/process.h"
#include "tests/server/cluster_fixture.h"
#include "tests/server/serve_process.h"

namespace revkv::testing {
namespace {

// Well under raft 0.15's default install-snapshot timeout (30 s).
constexpr auto kCatchUp = std::chrono::seconds(10);
constexpr int kPuts = 150;
constexpr int kMaxStarts = 6;  // the restart, those after an exit 3, and spares
// What a member logs as it exits (code 3) for a snapshot to restore.
constexpr char kRestoreExit[] = "a snapshot from the leader must replace the data";

// The hash of `endpoint hashkv --rev rev` on `m`; "" if it does not answer
// one (not running, or not at `rev` yet).
std::string HashAt(const Member& m, int64_t rev) {
  ProcessResult r = m.proc->Etcdctl({"endpoint", "hashkv", "--rev", std::to_string(rev), "-w",
                                     "json", "--command-timeout=1s"});
  if (r.exit_code != 0) return "";
  std::map<std::string, std::string> h = ParseHashes(r.out);
  return h.size() == 1 ? h.begin()->second : "";
}

TEST_F(ClusterServeTest, LaggingMemberCatchesUpBySnapshotWithinSeconds) {
  extra_flags_ = {"--snapshot-count", "20"};
  const int leader = StartNewCluster();
  ASSERT_GE(leader, 0);
  Member& lagging = members_[size_t((leader + 1) % 3)];
  Member& boss = members_[size_t(leader)];
  EXPECT_EQ(lagging.proc->Stop(SIGKILL), 128 + SIGKILL);
  lagging.proc.reset();

  auto kv = etcdserverpb::KV::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(boss.client_port), grpc::InsecureChannelCredentials()));
  for (int i = 0; i < kPuts; ++i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    etcdserverpb::PutRequest req;
    req.set_key("k" + std::to_string(i));
    req.set_value("v" + std::to_string(i));
    etcdserverpb::PutResponse resp;
    grpc::Status s = kv->Put(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << i << ": " << s.error_message();
  }
  const int64_t rev = Revision(boss);
  ASSERT_GT(rev, kPuts);
  const std::string want = HashAt(boss, rev);
  ASSERT_FALSE(want.empty());

  const auto t0 = std::chrono::steady_clock::now();
  const auto deadline = t0 + kCatchUp;
  int starts = 0, exits3 = 0;
  std::string got, log;
  while (std::chrono::steady_clock::now() < deadline) {
    if (lagging.proc == nullptr) {
      ASSERT_LT(starts, kMaxStarts) << "restarted too often; last log:\n" << log;
      ++starts;
      std::string error;
      if (!StartMember(lagging, "existing", &error)) {
        // It may receive the snapshot, and exit for it, before it is ready.
        ASSERT_NE(error.find(kRestoreExit), std::string::npos) << error;
        log = error;
        lagging.proc.reset();
        ++exits3;
        continue;
      }
    }
    const int code = lagging.proc->WaitExit(std::chrono::milliseconds(0));
    if (code != -1) {
      // A snapshot to restore: the exit code says so.
      ASSERT_EQ(code, 3) << lagging.proc->Log();
      log = lagging.proc->Log();
      lagging.proc.reset();
      ++exits3;
      continue;
    }
    got = HashAt(lagging, rev);
    if (got == want) break;
    std::this_thread::sleep_for(kPoll);
  }
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - t0);
  std::printf("%s after %lld ms, %d start(s), %d exit(s) for a snapshot\n",
              got == want ? "caught up" : "behind",
              static_cast<long long>(took.count()), starts, exits3);
  ASSERT_EQ(got, want) << "no catch-up within " << kCatchUp.count() << " s ("
                       << starts << " starts); its log:\n"
                       << (lagging.proc != nullptr ? lagging.proc->Log() : log);
  // It did catch up by snapshot (else the test proves less than it says).
  EXPECT_GE(exits3, 1);
  // The three agree at the leader's revision.
  std::string last;
  EXPECT_TRUE(WaitForEqualHashes(boss, rev, 3, &last)) << last;
}

}  // namespace
}  // namespace revkv::testing
