// Three ClusterMembers in one process (raft on loopback TCP; members call
// each other's revkvpb.Internal service directly, as gRPC's pool would,
// so that TSan sees only instrumented code): writes
// proposed on any member -- followers forward them -- from several threads
// are acknowledged once, and a ReadBarrier on any member afterwards reads
// them (the read index covers every acknowledged write); reads arriving
// while a barrier is in flight share the next one; a member stopping under
// waiting reads answers them. Tagged concurrency (run under TSan).
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "gtest/gtest.h"
#include "lease/errors.h"
#include "raft/cluster_member.h"
#include "server/errors.h"
#include "tests/cmd/process.h"
#include "tests/raft/in_process_cluster.h"

namespace revkv::cluster {
namespace {

using Clock = std::chrono::steady_clock;

using testutil::DirectTransport;
using testutil::FreePort;

struct Node {
  std::unique_ptr<ClusterMember> member;
};

class ClusterMemberTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string root = revkv::testing::NewTempDir("cluster-member");
    std::vector<Peer> peers;
    for (int i = 0; i < 3; ++i) {
      Peer p;
      p.id = uint64_t(100 + i);
      p.name = "m" + std::to_string(i);
      const int port = FreePort();
      ASSERT_GT(port, 0);
      p.address = "127.0.0.1:" + std::to_string(port);
      p.peer_url = "http://" + p.address;
      peers.push_back(p);
    }
    nodes_.resize(3);
    for (int i = 0; i < 3; ++i) {
      ClusterMemberOptions o;
      o.id = peers[size_t(i)].id;
      o.name = peers[size_t(i)].name;
      o.client_urls = {"http://" + o.name + ".invalid:1"};  // published, never dialled
      o.transport = &transport_;
      o.peers = peers;
      o.data_dir = root + "/" + o.name;
      o.raft_dir = root + "/" + o.name + "-raft";
      ASSERT_EQ(::mkdir(o.raft_dir.c_str(), 0700), 0);
      o.election_timeout_ms = 500;
      o.heartbeat_timeout_ms = 50;
      o.request_timeout = std::chrono::seconds(10);
      absl::StatusOr<std::unique_ptr<ClusterMember>> m = ClusterMember::Start(o, {});
      ASSERT_TRUE(m.ok()) << m.status();
      nodes_[size_t(i)].member = *std::move(m);
      transport_.Set(o.id, nodes_[size_t(i)].member->internal_service());
    }
  }

  void TearDown() override {
    for (Node& n : nodes_) {
      if (n.member != nullptr) n.member->Stop();
    }
    nodes_.clear();
  }

  // The index of the leader every member agrees on (-1: none in time).
  int Leader() {
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    for (Node& n : nodes_) {
      if (!n.member->node()->WaitFor([](const NodeStatus& s) { return s.leader_id != 0; },
                                     deadline)) {
        return -1;
      }
    }
    const uint64_t id = nodes_[0].member->node()->status().leader_id;
    for (size_t i = 0; i < nodes_.size(); ++i) {
      if (nodes_[i].member->node()->id() == id) {
        return nodes_[i].member->node()->WaitFor(
                   [](const NodeStatus& s) { return s.state == RAFT_LEADER; }, deadline)
                   ? int(i)
                   : -1;
      }
    }
    return -1;
  }

  // Waits (bounded) until every member's attributes are applied on `n`.
  bool AllPublished(Node& n) {
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    while (Clock::now() < deadline) {
      bool all = true;
      for (const etcdserverpb::Member& m : n.member->Members()) all = all && m.clienturls_size() == 1;
      if (all) return true;
      const uint64_t applied = n.member->node()->status().applied_index;
      n.member->node()->WaitFor([applied](const NodeStatus& s) { return s.applied_index > applied; },
                                std::min(deadline, Clock::now() + std::chrono::milliseconds(500)));
    }
    return false;
  }

  DirectTransport transport_;  // outlives the members
  std::vector<Node> nodes_;
};

revkvpb::InternalRequest Put(const std::string& key, const std::string& value) {
  revkvpb::InternalRequest r;
  r.mutable_put()->set_key(key);
  r.mutable_put()->set_value(value);
  return r;
}

TEST_F(ClusterMemberTest, WritesOnAnyMemberAreReadLinearizablyEverywhere) {
  const int leader = Leader();
  ASSERT_GE(leader, 0);
  for (Node& n : nodes_) ASSERT_TRUE(AllPublished(n));

  constexpr int kThreads = 6;
  constexpr int kPuts = 15;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Node& writer = nodes_[size_t(t % 3)];
      Node& reader = nodes_[size_t((t + 1) % 3)];
      for (int i = 0; i < kPuts; ++i) {
        const std::string key = "t" + std::to_string(t) + "-" + std::to_string(i);
        absl::StatusOr<server::ApplyResult> r = writer.member->forwarder()->Propose(Put(key, "v"));
        if (!r.ok() || !std::holds_alternative<etcdserverpb::PutResponse>(*r)) {
          ADD_FAILURE() << "put " << key << ": " << (r.ok() ? "wrong answer" : r.status().ToString());
          ++failures;
          return;
        }
        // Acknowledged: a linearizable read anywhere now sees it.
        if (absl::Status s = reader.member->ReadBarrier(); !s.ok()) {
          ADD_FAILURE() << "read barrier: " << s;
          ++failures;
          return;
        }
        absl::StatusOr<mvcc::RangeResult> got = reader.member->db()->Range(key, "");
        if (!got.ok() || got->kvs.size() != 1) {
          ADD_FAILURE() << key << " not read back on member " << (t + 1) % 3;
          ++failures;
          return;
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  // Each write applied once: every member at the same revision (three
  // publications changed no key; 1 + kThreads * kPuts revisions).
  for (Node& n : nodes_) {
    ASSERT_TRUE(n.member->ReadBarrier().ok());
    EXPECT_EQ(n.member->db()->Rev(), 1 + kThreads * kPuts);
  }
  uint64_t forwarded = 0;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (int(i) != leader) forwarded += nodes_[i].member->forwarder()->forwarded();
  }
  EXPECT_GE(forwarded, uint64_t(kPuts));  // followers' writers went to the leader
}

TEST_F(ClusterMemberTest, AsyncWritesAreAnsweredOnceAppliedOnTheMemberAsked) {
  const int leader = Leader();
  ASSERT_GE(leader, 0);
  for (Node& n : nodes_) ASSERT_TRUE(AllPublished(n));
  constexpr int kPerMember = 40;
  util::Mutex mu;
  util::CondVar cv;
  int answered = 0, failures = 0;
  std::vector<std::string> errors;
  // Issued from this one thread and answered through callbacks (the
  // in-process transport forwards synchronously; gRPC's does not).
  for (size_t m = 0; m < nodes_.size(); ++m) {
    ClusterMember* member = nodes_[m].member.get();
    for (int i = 0; i < kPerMember; ++i) {
      const std::string key = "async-" + std::to_string(m) + "-" + std::to_string(i);
      member->forwarder()->ProposeAsync(
          Put(key, "v"), [&, member, key](absl::StatusOr<server::ApplyResult> r) {
            std::string error;
            if (!r.ok()) {
              error = key + ": " + r.status().ToString();
            } else if (!std::holds_alternative<etcdserverpb::PutResponse>(*r)) {
              error = key + ": not a put's answer";
            } else if (member->db()->Rev() < std::get<etcdserverpb::PutResponse>(*r).header().revision()) {
              // The member asked must hold the write when it answers.
              error = key + ": answered before it was applied on the member asked";
            }
            util::MutexLock l(mu);
            ++answered;
            if (!error.empty()) {
              ++failures;
              errors.push_back(error);
            }
            cv.NotifyAll();
          });
    }
  }
  const int total = kPerMember * int(nodes_.size());
  {
    util::MutexLock l(mu);
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    while (answered < total && Clock::now() < deadline) cv.WaitUntil(mu, deadline);
    ASSERT_EQ(answered, total);
    EXPECT_EQ(failures, 0) << (errors.empty() ? "" : errors[0]);
  }
  for (Node& n : nodes_) {
    ASSERT_TRUE(n.member->ReadBarrier().ok());
    EXPECT_EQ(n.member->db()->Rev(), 1 + total);
  }
  uint64_t forwarded = 0;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (int(i) != leader) forwarded += nodes_[i].member->forwarder()->forwarded();
  }
  // Each follower's calls went to the leader (besides the members'
  // publications of their client URLs).
  EXPECT_GE(forwarded, uint64_t(2 * kPerMember));
}

TEST_F(ClusterMemberTest, ReadsArrivingDuringABarrierShareTheNextOne) {
  const int leader = Leader();
  ASSERT_GE(leader, 0);
  // No other traffic: the members' publications (which nudge) are done.
  for (Node& n : nodes_) ASSERT_TRUE(AllPublished(n));
  Node& lead = nodes_[size_t(leader)];
  ReadIndex* ri = lead.member->read_index();
  // Hold the leader's loop so that the first barrier cannot start yet.
  util::Mutex mu;
  util::CondVar cv;
  bool release = false, holding = false;
  ASSERT_TRUE(lead.member->node()->Post([&](raft*) {
    util::MutexLock l(mu);
    holding = true;
    cv.NotifyAll();
    while (!release) cv.Wait(mu);
  }));
  {
    util::MutexLock l(mu);
    while (!holding) cv.Wait(mu);
  }
  const uint64_t before = ri->rounds();
  constexpr int kReaders = 8;
  std::vector<std::thread> readers;
  std::atomic<int> ok{0};
  for (int i = 0; i < kReaders; ++i) {
    readers.emplace_back([&] {
      if (ri->Confirm(Clock::now() + std::chrono::seconds(20)).ok()) ++ok;
    });
  }
  // Every reader is waiting: the first in the round posted behind the held
  // loop, the others queued for the next one. (Bounded poll of a counter.)
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  while (ri->waiting() < kReaders && Clock::now() < deadline) std::this_thread::yield();
  EXPECT_EQ(ri->waiting(), kReaders);
  {
    util::MutexLock l(mu);
    release = true;
    cv.NotifyAll();
  }
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(ok.load(), kReaders);
  // At most one round in flight (the first reader's, or a publication's
  // nudge just before) and one shared by the rest.
  EXPECT_GE(ri->rounds() - before, 1u);
  EXPECT_LE(ri->rounds() - before, 2u);
  EXPECT_EQ(ri->abandoned(), 0u);
}

TEST_F(ClusterMemberTest, FollowersAskTheLeadersLessorForKeepAlivesAndTimeToLive) {
  const int leader = Leader();
  ASSERT_GE(leader, 0);
  for (Node& n : nodes_) ASSERT_TRUE(AllPublished(n));
  Node& follower = nodes_[size_t((leader + 1) % 3)];
  revkvpb::InternalRequest grant;
  grant.mutable_lease_grant()->set_id(7);
  grant.mutable_lease_grant()->set_ttl(30);
  ASSERT_TRUE(follower.member->forwarder()->Propose(grant).ok());

  // The follower's own lessor tracks no expiry: it cannot renew...
  EXPECT_TRUE(lease::IsNotPrimary(follower.member->db()->lessor()->Renew(7).status()));
  // ...so it asks the leader's, which renews a full TTL from now (retrying
  // while the new leader's lessor is being promoted).
  absl::StatusOr<int64_t> ttl = follower.member->LeaderRenew(7);
  ASSERT_TRUE(ttl.ok()) << ttl.status();
  EXPECT_EQ(*ttl, 30);
  absl::StatusOr<lease::LeaseStatus> at_leader =
      nodes_[size_t(leader)].member->db()->lessor()->TimeToLive(7, false);
  ASSERT_TRUE(at_leader.ok());
  EXPECT_GT(at_leader->remaining, std::chrono::seconds(25));
  EXPECT_LE(at_leader->remaining, std::chrono::seconds(30));

  etcdserverpb::LeaseTimeToLiveRequest req;
  req.set_id(7);
  absl::StatusOr<etcdserverpb::LeaseTimeToLiveResponse> led =
      follower.member->LeaderTimeToLive(req);
  ASSERT_TRUE(led.ok()) << led.status();
  EXPECT_EQ(led->id(), 7);
  EXPECT_EQ(led->grantedttl(), 30);
  EXPECT_GE(led->ttl(), 25);  // what remains at the leader, not the grant
  EXPECT_LE(led->ttl(), 29);  // whole seconds, truncated

  // An unknown lease: the leader's answers, by payload.
  EXPECT_TRUE(lease::IsLeaseNotFound(follower.member->LeaderRenew(8).status()));
  req.set_id(8);
  led = follower.member->LeaderTimeToLive(req);
  ASSERT_TRUE(led.ok()) << led.status();
  EXPECT_EQ(led->ttl(), -1);
}

TEST_F(ClusterMemberTest, StoppingAnswersWaitingReadsAndWrites) {
  const int leader = Leader();
  ASSERT_GE(leader, 0);
  Node& lead = nodes_[size_t(leader)];
  std::atomic<int> answered{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      if (i % 2 == 0) {
        (void)lead.member->ReadBarrier();
      } else {
        (void)lead.member->forwarder()->Propose(Put("k" + std::to_string(i), "v"));
      }
      ++answered;
    });
  }
  lead.member->Stop();
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(answered.load(), 4);
  // A stopped member answers at once.
  EXPECT_FALSE(lead.member->forwarder()->Propose(Put("late", "v")).ok());
}

}  // namespace
}  // namespace revkv::cluster
