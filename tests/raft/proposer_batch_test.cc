// RaftProposer's batches (proposer.h): requests queued while the loop is
// busy go to raft as one raft_apply, and every request is still answered
// once, with its own entry's result, in log order -- though raft 0.15
// answers only a batch's first entry. A single-member cluster commits
// alone, so the loop can be held (a posted task waits on a notification)
// while the test queues requests, which makes the batch deterministic.
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "raft/fsm.h"
#include "raft/node.h"
#include "raft/proposer.h"
#include "server/errors.h"
#include "tests/cmd/process.h"
#include "tests/raft/in_process_cluster.h"
#include "util/mutex.h"

namespace revkv::cluster {
namespace {

struct Answer {
  int times = 0;
  absl::StatusOr<server::ApplyResult> result = absl::UnknownError("unanswered");
  uint64_t index = 0;
};

class ProposerBatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string root = revkv::testing::NewTempDir("raftbatch");
    ASSERT_EQ(::mkdir((root + "/raft").c_str(), 0700), 0);
    absl::StatusOr<std::unique_ptr<Fsm>> fsm = Fsm::Open(root + "/data", revkv::Options{});
    ASSERT_TRUE(fsm.ok()) << fsm.status();
    fsm_ = *std::move(fsm);
    NodeOptions o;
    o.id = 1;
    const int port = testutil::FreePort();
    ASSERT_GT(port, 0);
    o.address = "127.0.0.1:" + std::to_string(port);
    o.raft_dir = root + "/raft";
    o.initial_cluster = {{1, o.address}};
    absl::StatusOr<std::unique_ptr<RaftNode>> node = RaftNode::Start(o, fsm_.get());
    ASSERT_TRUE(node.ok()) << node.status();
    node_ = *std::move(node);
    proposer_ = std::make_unique<RaftProposer>(node_.get(), 1 << 20);
    ASSERT_TRUE(node_->WaitFor([](const NodeStatus& s) { return s.state == RAFT_LEADER; },
                               std::chrono::steady_clock::now() + std::chrono::seconds(30)));
  }
  void TearDown() override {
    proposer_.reset();
    if (node_) node_->Stop();
  }

  // Holds the loop thread until the returned notification is notified.
  std::shared_ptr<absl::Notification> HoldLoop() {
    auto release = std::make_shared<absl::Notification>();
    auto held = std::make_shared<absl::Notification>();
    EXPECT_TRUE(node_->Post([release, held](raft*) {
      held->Notify();
      release->WaitForNotification();
    }));
    held->WaitForNotification();
    return release;
  }

  static revkvpb::InternalRequest Put(int i) {
    revkvpb::InternalRequest req;
    req.mutable_put()->set_key("k" + std::to_string(i % 7));
    req.mutable_put()->set_value("v" + std::to_string(i));
    return req;
  }

  std::unique_ptr<Fsm> fsm_;
  std::unique_ptr<RaftNode> node_;
  std::unique_ptr<RaftProposer> proposer_;
};

// 200 puts queued behind a held loop: one batch of 200 entries, each put
// answered once, its revision one past the previous put's, its index the
// next log index.
TEST_F(ProposerBatchTest, QueuedRequestsGoAsOneBatchAndEachGetsItsOwnAnswer) {
  constexpr int kPuts = 200;
  static_assert(kPuts <= int(RaftProposer::kMaxBatchEntries));
  util::Mutex mu;
  std::vector<Answer> answers(kPuts);
  std::atomic<int> done{0};
  absl::Notification all;
  const uint64_t drains0 = proposer_->drains(), entries0 = proposer_->entries_appended();
  std::shared_ptr<absl::Notification> release = HoldLoop();
  for (int i = 0; i < kPuts; ++i) {
    proposer_->ProposeAsync(Put(i), [&, i](absl::StatusOr<server::ApplyResult> r, uint64_t index) {
      util::MutexLock l(mu);
      answers[size_t(i)].times++;
      answers[size_t(i)].result = std::move(r);
      answers[size_t(i)].index = index;
      if (done.fetch_add(1) + 1 == kPuts) all.Notify();
    });
  }
  release->Notify();
  ASSERT_TRUE(all.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_EQ(proposer_->drains() - drains0, 1u);
  EXPECT_EQ(proposer_->entries_appended() - entries0, uint64_t(kPuts));
  util::MutexLock l(mu);
  for (int i = 0; i < kPuts; ++i) {
    const Answer& a = answers[size_t(i)];
    EXPECT_EQ(a.times, 1) << i;
    ASSERT_TRUE(a.result.ok()) << i << ": " << a.result.status();
    const auto* put = std::get_if<etcdserverpb::PutResponse>(&*a.result);
    ASSERT_NE(put, nullptr) << i;
    if (i > 0) {
      const auto& prev = std::get<etcdserverpb::PutResponse>(*answers[size_t(i - 1)].result);
      EXPECT_EQ(put->header().revision(), prev.header().revision() + 1) << i;
      EXPECT_EQ(a.index, answers[size_t(i - 1)].index + 1) << i;
    }
  }
  // The DB holds each put's value at its revision.
  for (int i = kPuts - 7; i < kPuts; ++i) {
    const auto& put = std::get<etcdserverpb::PutResponse>(*answers[size_t(i)].result);
    absl::StatusOr<mvcc::RangeResult> got = fsm_->db()->Range("k" + std::to_string(i % 7), "",
                                                             {.rev = put.header().revision()});
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_EQ(got->kvs.size(), 1u);
    EXPECT_EQ(got->kvs[0].value, "v" + std::to_string(i));
  }
  EXPECT_EQ(fsm_->awaited(), 0u);
}

// Synchronous writers from several threads, batched as they come; a stop
// answers what a batch still awaits (raft answered its first entry only).
TEST_F(ProposerBatchTest, ConcurrentWritersAreAnsweredOnceEachAcrossBatchesAndStop) {
  const uint64_t seed = std::random_device{}();
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  std::atomic<int> ok{0}, stopped{0}, unexpected{0};
  std::vector<std::thread> writers;
  absl::Notification enough;
  for (int w = 0; w < 6; ++w) {
    writers.emplace_back([&, w] {
      std::mt19937_64 rng(seed + uint64_t(w));
      for (int i = 0; i < 20000; ++i) {  // bounded; the stop ends it first
        absl::StatusOr<server::ApplyResult> r = proposer_->Propose(Put(int(rng() % 1000)));
        if (r.ok()) {
          if (ok.fetch_add(1) + 1 == 600) enough.Notify();
        } else if (server::IsEtcdError(r.status(), "stopped") ||
                   server::IsEtcdError(r.status(), "leader-changed")) {
          ++stopped;
          return;
        } else {
          ++unexpected;
          return;
        }
      }
    });
  }
  ASSERT_TRUE(enough.WaitForNotificationWithTimeout(absl::Seconds(60)));
  node_->Stop();
  for (std::thread& t : writers) t.join();
  EXPECT_EQ(unexpected.load(), 0);
  EXPECT_GE(ok.load(), 600);
  EXPECT_EQ(fsm_->awaited(), 0u);
  // Six writers in flight: batches hold more than one entry on average.
  EXPECT_GT(proposer_->entries_appended(), proposer_->drains());
  std::printf("%llu entries in %llu batches\n",
              static_cast<unsigned long long>(proposer_->entries_appended()),
              static_cast<unsigned long long>(proposer_->drains()));
}

}  // namespace
}  // namespace revkv::cluster
