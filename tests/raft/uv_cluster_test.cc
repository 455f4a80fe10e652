// Three members in one process on raft/uv.h's real disk log and TCP
// transport (127.0.0.1, free ports), each RaftNode running its libuv loop
// on its own thread. Writers on several threads propose through the
// leader's RaftProposer and get ApplyResults back; a follower's proposer
// answers not-leader; afterwards every member has applied everything and
// their HashKV agree. Then all three restart on their directories (raft's
// snapshot and log on disk, the DB ahead of the snapshot) and nothing is
// applied twice. Every wait has a deadline; the test stops what it
// starts.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "gtest/gtest.h"
#include "raft/fsm.h"
#include "raft/node.h"
#include "raft/proposer.h"
#include "server/errors.h"
#include "tests/cmd/process.h"
#include "tests/raft/model.h"
#include "util/mutex.h"

namespace revkv::cluster {
namespace {

using Clock = std::chrono::steady_clock;

// A port the kernel just handed out on 127.0.0.1 (free a moment ago).
int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) return -1;
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

struct Member {
  std::unique_ptr<Fsm> fsm;
  std::unique_ptr<RaftNode> node;
  std::unique_ptr<RaftProposer> proposer;
};

TEST(UvClusterTest, ThreeMembersReplicateThroughRaftProposer) {
  const uint64_t seed = std::random_device{}();
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  constexpr int kMembers = 3;
  const std::string root = revkv::testing::NewTempDir("raftuv");
  std::vector<std::pair<uint64_t, std::string>> cluster;
  for (int i = 0; i < kMembers; ++i) {
    const int port = FreePort();
    ASSERT_GT(port, 0);
    cluster.emplace_back(uint64_t(i + 1), "127.0.0.1:" + std::to_string(port));
  }
  std::vector<Member> m(kMembers);
  for (int i = 0; i < kMembers; ++i) {
    const std::string dir = root + "/m" + std::to_string(i);
    ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
    ASSERT_EQ(::mkdir((dir + "/raft").c_str(), 0700), 0);
    absl::StatusOr<std::unique_ptr<Fsm>> fsm = Fsm::Open(dir + "/data", revkv::Options{});
    ASSERT_TRUE(fsm.ok()) << fsm.status();
    m[i].fsm = *std::move(fsm);
    NodeOptions o;
    o.id = cluster[i].first;
    o.address = cluster[i].second;
    o.raft_dir = dir + "/raft";
    o.initial_cluster = cluster;
    o.snapshot_threshold = 64;  // a few snapshots during the run
    o.snapshot_trailing = 16;
    absl::StatusOr<std::unique_ptr<RaftNode>> node = RaftNode::Start(o, m[i].fsm.get());
    ASSERT_TRUE(node.ok()) << node.status();
    m[i].node = *std::move(node);
    m[i].proposer = std::make_unique<RaftProposer>(m[i].node.get(), 1536 * 1024);
  }

  // A leader, as every member sees it.
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  ASSERT_TRUE(m[0].node->WaitFor([](const NodeStatus& s) { return s.leader_id != 0; }, deadline));
  const uint64_t leader_id = m[0].node->status().leader_id;
  const int leader = int(leader_id) - 1;
  ASSERT_TRUE(m[leader].node->WaitFor(
      [](const NodeStatus& s) { return s.state == RAFT_LEADER; }, deadline));
  std::printf("leader %llu\n", static_cast<unsigned long long>(leader_id));

  // A follower does not take writes.
  const int follower = (leader + 1) % kMembers;
  {
    std::mt19937_64 rng(seed);
    absl::StatusOr<server::ApplyResult> r =
        m[follower].proposer->Propose(testing::RandomRequest(rng));
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(server::IsEtcdError(r.status(), "not-leader")) << r.status();
  }
  // Nor does anyone take an entry past the request limit.
  {
    revkvpb::InternalRequest big;
    big.mutable_put()->set_key("big");
    big.mutable_put()->set_value(std::string(2 << 20, 'x'));
    absl::StatusOr<server::ApplyResult> r = m[leader].proposer->Propose(big);
    EXPECT_TRUE(server::IsEtcdError(r.status(), "request-too-large")) << r.status();
  }

  // The member that leads now, waiting (bounded) for one; -1: none.
  auto find_leader = [&]() {
    for (int round = 0; round < 10; ++round) {
      for (int i = 0; i < kMembers; ++i) {
        if (m[i].node->WaitFor([](const NodeStatus& s) { return s.state == RAFT_LEADER; },
                               Clock::now() + std::chrono::milliseconds(500))) {
          return i;
        }
      }
    }
    return -1;
  };

  // Writers at the leader. A write that meets a leader change is retried at
  // the next leader (it may have committed too: etcd's clients see the
  // same). Each put makes one new revision, so the put revisions answered
  // are distinct.
  constexpr int kWriters = 4, kPerWriter = 60;
  util::Mutex mu;
  std::vector<int64_t> put_revs;  // under mu
  std::atomic<int> ok{0}, retries{0}, unexpected{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      std::mt19937_64 rng(seed + 1 + uint64_t(w));
      int at = leader;
      for (int i = 0; i < kPerWriter; ++i) {
        revkvpb::InternalRequest req = testing::RandomRequest(rng);
        for (int attempt = 0; attempt < 20; ++attempt) {
          absl::StatusOr<server::ApplyResult> r = m[at].proposer->Propose(req);
          if (r.ok()) {
            ++ok;
            if (req.has_put()) {
              util::MutexLock l(mu);
              put_revs.push_back(std::get<etcdserverpb::PutResponse>(*r).header().revision());
            }
            break;
          }
          if (!server::IsEtcdError(r.status(), "not-leader") &&
              !server::IsEtcdError(r.status(), "leader-changed")) {
            ++unexpected;
            std::printf("write failed: %s\n", r.status().ToString().c_str());
            break;
          }
          ++retries;
          at = find_leader();
          if (at < 0) return;
        }
      }
    });
  }
  for (auto& t : writers) t.join();
  std::printf("writes %d retries %d\n", ok.load(), retries.load());
  EXPECT_EQ(unexpected.load(), 0);
  EXPECT_EQ(ok.load(), kWriters * kPerWriter);
  {
    util::MutexLock l(mu);
    std::set<int64_t> distinct(put_revs.begin(), put_revs.end());
    EXPECT_EQ(distinct.size(), put_revs.size()) << "two puts answered the same revision";
    EXPECT_GT(put_revs.size(), 0u);
  }

  // Every member applies through what the leader has committed.
  const int now_leader = find_leader();
  ASSERT_GE(now_leader, 0);
  // Read on the loop: the published status may be a tick behind.
  uint64_t last = 0;
  ASSERT_TRUE(m[now_leader].node->RunOnLoop([&](raft* r) { last = r->commit_index; }).ok());
  ASSERT_GE(last, uint64_t(ok.load()));
  std::vector<mvcc::HashResult> hashes(kMembers);
  for (int i = 0; i < kMembers; ++i) {
    ASSERT_TRUE(m[i].node->WaitFor(
        [last](const NodeStatus& s) { return s.applied_index >= last; },
        Clock::now() + std::chrono::seconds(60)))
        << "member " << i << " applied " << m[i].node->status().applied_index << " of " << last;
    // The DB belongs to the loop thread (a restore swaps it): read it there.
    absl::Status read;
    ASSERT_TRUE(m[i].node->RunOnLoop([&](raft*) {
      if (!m[i].fsm->failed().ok()) {
        read = m[i].fsm->failed();
        return;
      }
      absl::StatusOr<mvcc::HashResult> h = m[i].fsm->db()->HashKV(0);
      if (h.ok()) hashes[i] = *h; else read = h.status();
    }).ok());
    ASSERT_TRUE(read.ok()) << read;
  }
  for (int i = 1; i < kMembers; ++i) {
    EXPECT_EQ(hashes[i].rev, hashes[0].rev) << "member " << i;
    EXPECT_EQ(hashes[i].hash, hashes[0].hash) << "member " << i;
  }
  EXPECT_GT(hashes[0].rev, 1);

  // Stopped members refuse writes, by name.
  for (int i = 0; i < kMembers; ++i) m[i].node->Stop();
  std::mt19937_64 rng(seed);
  for (int i = 0; i < kMembers; ++i) {
    absl::StatusOr<server::ApplyResult> r = m[i].proposer->Propose(testing::RandomRequest(rng));
    EXPECT_TRUE(server::IsEtcdError(r.status(), "stopped")) << r.status();
    EXPECT_TRUE(m[i].node->status().stopped);
  }

  // Restart every member on its directories: raft restores its latest
  // snapshot (the Fsm keeps a DB already past it) and replays its log (the
  // Fsm skips what the DB holds). Nothing is applied twice: the history up
  // to the old revision hashes the same, and one more put lands at the
  // next revision everywhere.
  const int64_t old_rev = hashes[0].rev;
  const uint32_t old_hash = hashes[0].hash;
  for (int i = 0; i < kMembers; ++i) {
    m[i].proposer.reset();
    m[i].node.reset();
    m[i].fsm.reset();
  }
  for (int i = 0; i < kMembers; ++i) {
    const std::string dir = root + "/m" + std::to_string(i);
    absl::StatusOr<std::unique_ptr<Fsm>> fsm = Fsm::Open(dir + "/data", revkv::Options{});
    ASSERT_TRUE(fsm.ok()) << fsm.status();
    m[i].fsm = *std::move(fsm);
    NodeOptions o;
    o.id = cluster[i].first;
    o.address = cluster[i].second;
    o.raft_dir = dir + "/raft";
    o.initial_cluster = cluster;  // refused by raft: the log exists
    absl::StatusOr<std::unique_ptr<RaftNode>> node = RaftNode::Start(o, m[i].fsm.get());
    ASSERT_TRUE(node.ok()) << node.status();
    m[i].node = *std::move(node);
    m[i].proposer = std::make_unique<RaftProposer>(m[i].node.get(), 1536 * 1024);
  }
  int again = -1;
  for (int attempt = 0; attempt < 20; ++attempt) {
    const int at = find_leader();
    ASSERT_GE(at, 0) << "no leader after the restart";
    revkvpb::InternalRequest put;
    put.mutable_put()->set_key("after-restart");
    put.mutable_put()->set_value("v");
    absl::StatusOr<server::ApplyResult> r = m[at].proposer->Propose(put);
    if (r.ok()) {
      EXPECT_EQ(std::get<etcdserverpb::PutResponse>(*r).header().revision(), old_rev + 1);
      again = at;
      break;
    }
    ASSERT_TRUE(server::IsEtcdError(r.status(), "not-leader") ||
                server::IsEtcdError(r.status(), "leader-changed"))
        << r.status();
  }
  ASSERT_GE(again, 0);
  uint64_t last2 = 0;
  ASSERT_TRUE(m[again].node->RunOnLoop([&](raft* r) { last2 = r->commit_index; }).ok());
  for (int i = 0; i < kMembers; ++i) {
    ASSERT_TRUE(m[i].node->WaitFor(
        [last2](const NodeStatus& s) { return s.applied_index >= last2; },
        Clock::now() + std::chrono::seconds(60)));
    absl::Status read;
    mvcc::HashResult before, now;
    ASSERT_TRUE(m[i].node->RunOnLoop([&](raft*) {
      absl::StatusOr<mvcc::HashResult> h = m[i].fsm->db()->HashKV(old_rev);
      absl::StatusOr<mvcc::HashResult> n = m[i].fsm->db()->HashKV(0);
      if (!h.ok()) read = h.status();
      else if (!n.ok()) read = n.status();
      else {
        before = *h;
        now = *n;
      }
    }).ok());
    ASSERT_TRUE(read.ok()) << read;
    EXPECT_EQ(before.hash, old_hash) << "member " << i;
    EXPECT_EQ(now.rev, old_rev + 1) << "member " << i;
  }
  for (int i = 0; i < kMembers; ++i) m[i].node->Stop();
}

}  // namespace
}  // namespace revkv::cluster
