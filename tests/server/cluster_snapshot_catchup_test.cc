// A lagging member of a three-member `revkv serve` cluster catches up by
// snapshot within seconds, without stopping: it installs the snapshot in
// place (revkv::DB::InstallSnapshot) while it serves.
//
// With --snapshot-count 20 a follower is killed, 150 puts go to the leader
// (its log is compacted past the follower's end), and the follower is
// restarted once. The leader sends it a snapshot, which it installs and
// logs; a watch opened on it before the snapshot arrives goes on and sees
// every put after its start. The member must reach the leader's revision
// with the leader's HashKV within kCatchUp of its restart, as the same
// process. A member added afterwards catches up the same way from an empty
// directory.
//
// Every wait is a bounded poll of etcdctl.
#include <signal.h>

#include <atomic>
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
// What a member logs as it installs a snapshot from the leader.
constexpr char kInstalling[] = "installing a snapshot from the leader";

// The hash of `endpoint hashkv --rev rev` on `m`; "" if it does not answer
// one (not running, or not at `rev` yet).
std::string HashAt(const Member& m, int64_t rev) {
  ProcessResult r = m.proc->Etcdctl({"endpoint", "hashkv", "--rev", std::to_string(rev), "-w",
                                     "json", "--command-timeout=1s"});
  if (r.exit_code != 0) return "";
  std::map<std::string, std::string> h = ParseHashes(r.out);
  return h.size() == 1 ? h.begin()->second : "";
}

// Polls `m`'s HashKV at `rev` until it is `want` or `deadline` passes,
// failing if `m` stops meanwhile; returns the last hash seen.
std::string WaitForHash(const Member& m, int64_t rev, const std::string& want,
                        std::chrono::steady_clock::time_point deadline) {
  std::string got;
  while (std::chrono::steady_clock::now() < deadline) {
    EXPECT_EQ(m.proc->WaitExit(std::chrono::milliseconds(0)), -1)
        << m.name << " stopped; its log:\n" << m.proc->Log();
    if (m.proc->WaitExit(std::chrono::milliseconds(0)) != -1) break;
    got = HashAt(m, rev);
    if (got == want) break;
    std::this_thread::sleep_for(kPoll);
  }
  return got;
}

// Puts k0..k{n-1} through `m`'s gRPC KV.
void PutKeys(const Member& m, int n) {
  auto kv = etcdserverpb::KV::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(m.client_port), grpc::InsecureChannelCredentials()));
  for (int i = 0; i < n; ++i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    etcdserverpb::PutRequest req;
    req.set_key("k" + std::to_string(i));
    req.set_value("v" + std::to_string(i));
    etcdserverpb::PutResponse resp;
    grpc::Status s = kv->Put(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << i << ": " << s.error_message();
  }
}

TEST_F(ClusterServeTest, LaggingMemberCatchesUpBySnapshotWithinSeconds) {
  extra_flags_ = {"--snapshot-count", "20"};
  const int leader = StartNewCluster();
  ASSERT_GE(leader, 0);
  Member& lagging = members_[size_t((leader + 1) % 3)];
  Member& boss = members_[size_t(leader)];
  EXPECT_EQ(lagging.proc->Stop(SIGKILL), 128 + SIGKILL);
  lagging.proc.reset();

  ASSERT_NO_FATAL_FAILURE(PutKeys(boss, kPuts));
  const int64_t rev = Revision(boss);
  ASSERT_GT(rev, kPuts);
  const std::string want = HashAt(boss, rev);
  ASSERT_FALSE(want.empty());

  const auto t0 = std::chrono::steady_clock::now();
  const auto deadline = t0 + kCatchUp;
  std::string error;
  ASSERT_TRUE(StartMember(lagging, "existing", &error)) << error;
  // A watch of every put from revision 1, opened on the member as soon as
  // it serves: it is likely synced at the member's old revision when the
  // snapshot comes, and must then read the rest back from the new data.
  std::atomic<int> watched{0};
  auto watch_ctx = std::make_unique<grpc::ClientContext>();
  watch_ctx->set_deadline(std::chrono::system_clock::now() + kCatchUp + std::chrono::seconds(5));
  auto watch_stub = etcdserverpb::Watch::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string(lagging.client_port), grpc::InsecureChannelCredentials()));
  auto stream = watch_stub->Watch(watch_ctx.get());
  {
    etcdserverpb::WatchRequest req;
    req.mutable_create_request()->set_key("k");
    req.mutable_create_request()->set_range_end("l");
    req.mutable_create_request()->set_start_revision(1);
    ASSERT_TRUE(stream->Write(req));
  }
  std::thread watcher([&] {
    etcdserverpb::WatchResponse resp;
    while (watched.load() < kPuts && stream->Read(&resp)) {
      for (const mvccpb::Event& e : resp.events()) {
        // In revision order, each put once: the n-th event is put n.
        if (e.kv().key() == "k" + std::to_string(watched.load())) watched++;
      }
    }
  });
  const std::string got = WaitForHash(lagging, rev, want, deadline);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - t0);
  std::printf("%s after %lld ms\n", got == want ? "caught up" : "behind",
              static_cast<long long>(took.count()));
  ASSERT_EQ(got, want) << "no catch-up within " << kCatchUp.count() << " s; its log:\n"
                       << lagging.proc->Log();
  // It did catch up by snapshot (else the test proves less than it says),
  // and is still the process that started.
  EXPECT_NE(lagging.proc->Log().find(kInstalling), std::string::npos) << lagging.proc->Log();
  EXPECT_EQ(lagging.proc->WaitExit(std::chrono::milliseconds(0)), -1);
  // The watch saw every put, in order, once.
  watcher.join();
  EXPECT_EQ(watched.load(), kPuts);
  watch_ctx->TryCancel();
  // It serves writes and reads after the install.
  ProcessResult put = lagging.proc->Etcdctl({"put", "after", "install", "--command-timeout=5s"});
  EXPECT_EQ(put.exit_code, 0) << put.err;
  ProcessResult get =
      lagging.proc->Etcdctl({"get", "after", "--print-value-only", "--command-timeout=5s"});
  EXPECT_EQ(get.out, "install\n") << get.err;
  // The three agree at the leader's revision.
  std::string last;
  EXPECT_TRUE(WaitForEqualHashes(boss, rev, 3, &last)) << last;
}

// A member added to a cluster whose log was compacted long ago starts with
// an empty directory, receives a snapshot at once, installs it while it
// serves, and catches up without a restart.
TEST_F(ClusterServeTest, ANewMemberCatchesUpBySnapshotWhileServing) {
  extra_flags_ = {"--snapshot-count", "20"};
  const int leader = StartNewCluster();
  ASSERT_GE(leader, 0);
  Member& boss = members_[size_t(leader)];
  ASSERT_NO_FATAL_FAILURE(PutKeys(boss, kPuts));
  const int64_t rev = Revision(boss);
  const std::string want = HashAt(boss, rev);
  ASSERT_FALSE(want.empty());

  Member d = NewMember("d");
  ProcessResult add = Ctl(boss, {"member", "add", "d", "--peer-urls=" + d.peer_url()});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(add.out, m, std::regex("ETCD_INITIAL_CLUSTER=\"([^\"]+)\""))) << add.out;
  std::string error;
  ASSERT_TRUE(StartMember(d, "existing", &error, m[1])) << error;
  const std::string got = WaitForHash(d, rev, want, std::chrono::steady_clock::now() + kCatchUp);
  ASSERT_EQ(got, want) << "no catch-up within " << kCatchUp.count() << " s; its log:\n"
                       << d.proc->Log();
  EXPECT_NE(d.proc->Log().find(kInstalling), std::string::npos) << d.proc->Log();
  ProcessResult put = Ctl(d, {"put", "via-d", "1", "--command-timeout=5s"});
  EXPECT_EQ(put.exit_code, 0) << put.err;
  EXPECT_EQ(Ctl(boss, {"get", "via-d", "--print-value-only"}).out, "1\n");
  EXPECT_EQ(d.proc->Stop(SIGTERM), 0) << d.proc->Log();
}

}  // namespace
}  // namespace revkv::testing
