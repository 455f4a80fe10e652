// A follower's writes go to the leader in batches (forwarder.h): while
// kForwardsInFlight ProposeBatch calls are unanswered (held by the
// in-process transport), later writes queue, and the first answer sends
// all of them as one batch. Every write is answered once, with its own
// result, after the follower applied it.
#include <chrono>
#include <string>
#include <variant>
#include <vector>

#include "gtest/gtest.h"
#include "tests/raft/in_process_cluster.h"
#include "util/mutex.h"

namespace revkv::cluster {
namespace {

using testutil::InProcessCluster;
using Clock = std::chrono::steady_clock;

revkvpb::InternalRequest Put(const std::string& key, const std::string& value) {
  revkvpb::InternalRequest req;
  req.mutable_put()->set_key(key);
  req.mutable_put()->set_value(value);
  return req;
}

TEST(ForwardBatchTest, WritesQueuedBehindBatchesInFlightGoAsOneBatch) {
  InProcessCluster cluster(3, "fwdbatch");
  ASSERT_TRUE(cluster.StartAll().ok());
  const int leader = cluster.Leader();
  ASSERT_GE(leader, 0);
  const int f = (leader + 1) % 3;
  ASSERT_TRUE(cluster.AllPublished(f));
  ClusterMember* follower = cluster.member(f);
  const uint64_t batches0 = follower->forwarder()->forward_batches();

  constexpr int kWrites = 50;
  util::Mutex mu;
  util::CondVar cv;
  std::vector<int> times(kWrites, 0);
  std::vector<std::string> errors;
  int answered = 0;
  cluster.transport().HoldBatches();
  for (int i = 0; i < kWrites; ++i) {
    follower->forwarder()->ProposeAsync(
        Put("k" + std::to_string(i), "v" + std::to_string(i)),
        [&, i](absl::StatusOr<server::ApplyResult> r) {
          std::string error;
          if (!r.ok()) {
            error = r.status().ToString();
          } else if (const auto* put = std::get_if<etcdserverpb::PutResponse>(&*r);
                     put == nullptr) {
            error = "not a put's answer";
          } else if (follower->db()->Rev() < put->header().revision()) {
            error = "answered before the follower applied it";
          }
          util::MutexLock l(mu);
          ++times[size_t(i)];
          ++answered;
          if (!error.empty()) errors.push_back(std::to_string(i) + ": " + error);
          cv.NotifyAll();
        });
  }
  // The first kForwardsInFlight writes went, one per call; the rest wait.
  EXPECT_EQ(cluster.transport().held(), size_t(Forwarder::kForwardsInFlight));
  {
    util::MutexLock l(mu);
    EXPECT_EQ(answered, 0);
  }
  EXPECT_EQ(cluster.transport().ReleaseHeld(), size_t(Forwarder::kForwardsInFlight));
  {
    util::MutexLock l(mu);
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    while (answered < kWrites && Clock::now() < deadline) cv.WaitUntil(mu, deadline);
    ASSERT_EQ(answered, kWrites);
    EXPECT_TRUE(errors.empty()) << errors[0];
    for (int i = 0; i < kWrites; ++i) EXPECT_EQ(times[size_t(i)], 1) << i;
  }
  // Two held calls of one write each, then the other 48 in one.
  EXPECT_EQ(follower->forwarder()->forward_batches() - batches0,
            uint64_t(Forwarder::kForwardsInFlight) + 1);
  // Each write is in the leader's DB with its own value.
  ClusterMember* lead = cluster.member(leader);
  for (int i = 0; i < kWrites; ++i) {
    absl::StatusOr<mvcc::RangeResult> got = lead->db()->Range("k" + std::to_string(i), "", {});
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_EQ(got->kvs.size(), 1u) << i;
    EXPECT_EQ(got->kvs[0].value, "v" + std::to_string(i));
  }
}

}  // namespace
}  // namespace revkv::cluster
