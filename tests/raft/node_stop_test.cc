// RaftNode::Stop racing proposals: writers keep proposing through a
// single-member cluster (it commits alone) while the main thread stops the
// node. Every proposal is answered -- applied, or refused by name
// ("stopped", or "leader-changed" for one raft fails at close) -- every
// writer finishes, and nothing touches the loop after it closed (TSan, ASan).
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
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "raft/fsm.h"
#include "raft/node.h"
#include "raft/proposer.h"
#include "server/errors.h"
#include "tests/cmd/process.h"
#include "tests/raft/model.h"

namespace revkv::cluster {
namespace {

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

TEST(NodeStopTest, StopAnswersEveryProposalInFlight) {
  const uint64_t seed = std::random_device{}();
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  const std::string root = revkv::testing::NewTempDir("raftstop");
  ASSERT_EQ(::mkdir((root + "/raft").c_str(), 0700), 0);
  absl::StatusOr<std::unique_ptr<Fsm>> fsm = Fsm::Open(root + "/data", revkv::Options{});
  ASSERT_TRUE(fsm.ok()) << fsm.status();
  NodeOptions o;
  o.id = 1;
  const int port = FreePort();
  ASSERT_GT(port, 0);
  o.address = "127.0.0.1:" + std::to_string(port);  // raft listens on it
  o.raft_dir = root + "/raft";
  o.initial_cluster = {{1, o.address}};
  absl::StatusOr<std::unique_ptr<RaftNode>> node = RaftNode::Start(o, fsm->get());
  ASSERT_TRUE(node.ok()) << node.status();
  RaftProposer proposer(node->get(), 1 << 20);
  ASSERT_TRUE((*node)->WaitFor([](const NodeStatus& s) { return s.state == RAFT_LEADER; },
                               std::chrono::steady_clock::now() + std::chrono::seconds(30)));

  std::atomic<int> applied{0}, refused{0}, unexpected{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      std::mt19937_64 rng(seed + uint64_t(w));
      for (int i = 0; i < 100000; ++i) {  // bounded; Stop ends it long before
        absl::StatusOr<server::ApplyResult> r = proposer.Propose(testing::RandomRequest(rng));
        if (r.ok()) {
          ++applied;
        } else if (server::IsEtcdError(r.status(), "stopped")) {
          ++refused;
          return;
        } else if (server::IsEtcdError(r.status(), "leader-changed")) {
          ++refused;  // failed by raft_close while in flight
        } else {
          ++unexpected;
          std::printf("unexpected: %s\n", r.status().ToString().c_str());
          return;
        }
      }
    });
  }
  // Stop once the writers are well under way (answers, not time).
  while (applied.load() < 200 && unexpected.load() == 0) std::this_thread::yield();
  (*node)->Stop();
  for (auto& t : writers) t.join();
  std::printf("applied %d refused %d\n", applied.load(), refused.load());
  EXPECT_EQ(unexpected.load(), 0);
  EXPECT_GE(refused.load(), 4);  // each writer ended on a refusal
  EXPECT_GE(applied.load(), 200);
  EXPECT_TRUE((*node)->status().stopped);
  // Everything answered as applied is in the DB (the loop is gone: ours now).
  EXPECT_GE((*fsm)->applied_index(), uint64_t(applied.load()));
}

}  // namespace
}  // namespace revkv::cluster
