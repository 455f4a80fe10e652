// Three ClusterMembers in one process (raft on loopback TCP, each member's
// revkvpb.Internal service on its own gRPC server on a free port): writes
// proposed on any member -- followers forward them -- from several threads
// are acknowledged once, and a ReadBarrier on any member afterwards reads
// them (the read index covers every acknowledged write); reads arriving
// while a barrier is in flight share the next one; a member stopping under
// waiting reads answers them. Tagged concurrency (run under TSan).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "raft/cluster_member.h"
#include "server/errors.h"
#include "tests/cmd/process.h"

namespace revkv::cluster {
namespace {

using Clock = std::chrono::steady_clock;

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

struct Node {
  std::unique_ptr<ClusterMember> member;
  std::unique_ptr<grpc::Server> grpc;
};

class ClusterMemberTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string root = revkv::testing::NewTempDir("cluster-member");
    std::vector<Peer> peers;
    std::vector<int> client_ports;
    for (int i = 0; i < 3; ++i) {
      Peer p;
      p.id = uint64_t(100 + i);
      p.name = "m" + std::to_string(i);
      const int port = FreePort();
      ASSERT_GT(port, 0);
      p.address = "127.0.0.1:" + std::to_string(port);
      p.peer_url = "http://" + p.address;
      peers.push_back(p);
      client_ports.push_back(FreePort());
      ASSERT_GT(client_ports.back(), 0);
    }
    nodes_.resize(3);
    for (int i = 0; i < 3; ++i) {
      ClusterMemberOptions o;
      o.id = peers[size_t(i)].id;
      o.name = peers[size_t(i)].name;
      o.client_urls = {"http://127.0.0.1:" + std::to_string(client_ports[size_t(i)])};
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
      grpc::ServerBuilder b;
      int bound = 0;
      b.AddListeningPort("127.0.0.1:" + std::to_string(client_ports[size_t(i)]),
                         grpc::InsecureServerCredentials(), &bound);
      for (grpc::Service* s : nodes_[size_t(i)].member->replication().services) {
        b.RegisterService(s);
      }
      nodes_[size_t(i)].grpc = b.BuildAndStart();
      ASSERT_NE(nodes_[size_t(i)].grpc, nullptr);
      ASSERT_EQ(bound, client_ports[size_t(i)]);
    }
  }

  void TearDown() override {
    for (Node& n : nodes_) {
      if (n.grpc != nullptr) n.grpc->Shutdown(std::chrono::system_clock::now());
      n.member.reset();
    }
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

TEST_F(ClusterMemberTest, ReadsArrivingDuringABarrierShareTheNextOne) {
  const int leader = Leader();
  ASSERT_GE(leader, 0);
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
  EXPECT_EQ(ri->rounds() - before, 2u);  // one in flight, one shared by the rest
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
  lead.grpc->Shutdown(std::chrono::system_clock::now());
  lead.member->Stop();
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(answered.load(), 4);
  // A stopped member answers at once.
  EXPECT_FALSE(lead.member->forwarder()->Propose(Put("late", "v")).ok());
}

}  // namespace
}  // namespace revkv::cluster
