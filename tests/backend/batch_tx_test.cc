// BatchTx batching: when commits happen (observed through the btree txid,
// never through time) and the errors writes report.
#include "backend/batch_tx.h"

#include <chrono>
#include <future>
#include <string>

#include "backend/backend.h"
#include "btree/options.h"
#include "gtest/gtest.h"
#include "tests/backend/backend_test_util.h"

namespace revkv::backend {
namespace {

using testutil::ManualConfig;
using testutil::Write;

TEST(BatchTxTest, UnlockCommitsWhenPendingReachesTheLimit) {
  BackendConfig c = ManualConfig();
  c.batch_limit = 3;
  ASSERT_OK_AND_ASSIGN(auto b, NewTmpBackend(c));
  const btree::txid_t start = b->LastTxid();
  ASSERT_OK(Write(*b, [](BatchTx& tx) { return tx.UnsafeCreateBucket("b"); }));
  ASSERT_OK(Write(*b, [](BatchTx& tx) { return tx.UnsafePut("b", "k1", "v"); }));
  EXPECT_EQ(b->LastTxid(), start) << "2 pending < limit 3";
  ASSERT_OK(Write(*b, [](BatchTx& tx) { return tx.UnsafePut("b", "k2", "v"); }));
  EXPECT_EQ(b->LastTxid(), start + 1) << "3 pending reach the limit";
  b->batch_tx().Lock();
  EXPECT_EQ(b->batch_tx().UnsafePending(), 0);
  b->batch_tx().Unlock();
}

TEST(BatchTxTest, WithoutLimitOrIntervalNothingCommitsUntilForced) {
  ASSERT_OK_AND_ASSIGN(auto b, NewTmpBackend(ManualConfig()));
  const btree::txid_t start = b->LastTxid();
  ASSERT_OK(Write(*b, [](BatchTx& tx) {
    if (absl::Status s = tx.UnsafeCreateBucket("b"); !s.ok()) return s;
    for (int i = 0; i < 100; ++i) {
      if (absl::Status s = tx.UnsafePut("b", "k" + std::to_string(i), "v"); !s.ok()) return s;
    }
    return absl::OkStatus();
  }));
  EXPECT_EQ(b->LastTxid(), start);
  ASSERT_OK(b->ForceCommit());
  EXPECT_EQ(b->LastTxid(), start + 1);
}

TEST(BatchTxTest, CommitWithNothingPendingDoesNotCommit) {
  ASSERT_OK_AND_ASSIGN(auto b, NewTmpBackend(ManualConfig()));
  const btree::txid_t start = b->LastTxid();
  ASSERT_OK(b->ForceCommit());
  ASSERT_OK(Write(*b, [](BatchTx& tx) { return tx.UnsafeRange("none", "a", "z", 0).status(); }));
  ASSERT_OK(b->batch_tx().Commit());
  EXPECT_EQ(b->LastTxid(), start);
}

TEST(BatchTxTest, ThePreCommitHookWritesIntoEveryCommitThatHasWrites) {
  ASSERT_OK_AND_ASSIGN(auto b, NewTmpBackend(ManualConfig()));
  int calls = 0;
  BatchTx& tx = b->batch_tx();
  tx.Lock();
  ASSERT_OK(tx.UnsafeCreateBucket("b"));
  tx.UnsafeSetPreCommitHook([&calls](BatchTx& t) {
    ++calls;
    return t.UnsafePut("b", "hook", std::to_string(calls));
  });
  tx.Unlock();
  ASSERT_OK(b->ForceCommit());
  EXPECT_EQ(calls, 1);
  const btree::txid_t after_first = b->LastTxid();
  ASSERT_OK(b->ForceCommit());
  EXPECT_EQ(calls, 1) << "nothing pending: no commit, no hook";
  EXPECT_EQ(b->LastTxid(), after_first);
  ASSERT_OK(Write(*b, [](BatchTx& t) { return t.UnsafePut("b", "k", "v"); }));
  ASSERT_OK(b->ForceCommit());
  EXPECT_EQ(calls, 2);
  auto view = b->NewConcurrentReadTx();
  ASSERT_OK(view.status());
  auto v = (*view)->UnsafeGet("b", "hook");
  ASSERT_OK(v.status());
  EXPECT_EQ(*v, "2");
  tx.Lock();
  tx.UnsafeSetPreCommitHook(nullptr);
  tx.Unlock();
}

TEST(BatchTxTest, APreCommitHookErrorFailsTheCommitAndKeepsTheLastOne) {
  ASSERT_OK_AND_ASSIGN(auto b, NewTmpBackend(ManualConfig()));
  ASSERT_OK(Write(*b, [](BatchTx& t) { return t.UnsafeCreateBucket("b"); }));
  ASSERT_OK(b->ForceCommit());
  const btree::txid_t start = b->LastTxid();
  BatchTx& tx = b->batch_tx();
  tx.Lock();
  tx.UnsafeSetPreCommitHook([](BatchTx&) { return absl::InternalError("hook broke"); });
  tx.Unlock();
  ASSERT_OK(Write(*b, [](BatchTx& t) { return t.UnsafePut("b", "k", "v"); }));
  absl::Status s = b->ForceCommit();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("hook broke"), std::string_view::npos) << s;
  EXPECT_EQ(b->LastTxid(), start);
  auto view = b->NewConcurrentReadTx();
  ASSERT_OK(view.status());
  EXPECT_TRUE(absl::IsNotFound((*view)->UnsafeGet("b", "k").status()))
      << "the failed commit's writes are no longer visible";
  tx.Lock();
  tx.UnsafeSetPreCommitHook(nullptr);
  tx.Unlock();
}

TEST(BatchTxTest, CommitterCommitsAfterTheInterval) {
  BackendConfig c = ManualConfig();
  c.batch_interval = std::chrono::milliseconds(5);
  ASSERT_OK_AND_ASSIGN(auto b, NewTmpBackend(c));
  const btree::txid_t start = b->LastTxid();
  ASSERT_OK(Write(*b, [](BatchTx& tx) { return tx.UnsafeCreateBucket("b"); }));
  // The btree's txid moves before the committer counts the commit: wait
  // for both, or the count below may be read before the increment.
  EXPECT_TRUE(testutil::WaitUntil([&] { return b->LastTxid() > start && b->CommitCount() > 0; }))
      << "the committer never committed";
  // Idle intervals commit nothing.
  const uint64_t commits = b->CommitCount();
  ASSERT_OK(b->ForceCommit());
  EXPECT_EQ(b->CommitCount(), commits);
}

TEST(BatchTxTest, CommitIfDueCommitsOnlyOnceTheOldestPendingWriteIsOldEnough) {
  ASSERT_OK_AND_ASSIGN(auto b, NewTmpBackend(ManualConfig()));
  BatchTx& tx = b->batch_tx();
  const auto hour = std::chrono::steady_clock::duration(std::chrono::hours(1));
  EXPECT_EQ(tx.CommitIfDue(hour), hour) << "nothing pending: wait a whole interval";
  const btree::txid_t start = b->LastTxid();
  ASSERT_OK(Write(*b, [](BatchTx& t) { return t.UnsafeCreateBucket("b"); }));
  const auto wait = tx.CommitIfDue(hour);
  EXPECT_GT(wait, std::chrono::steady_clock::duration::zero());
  EXPECT_LE(wait, hour);
  EXPECT_EQ(b->LastTxid(), start) << "a fresh write is not due yet";
  ASSERT_OK(Write(*b, [](BatchTx& t) { return t.UnsafePut("b", "k", "v"); }));
  EXPECT_LE(tx.CommitIfDue(hour), wait) << "the first pending write sets the deadline";
  EXPECT_EQ(tx.CommitIfDue(std::chrono::steady_clock::duration::zero()),
            std::chrono::steady_clock::duration::zero());
  EXPECT_GT(b->LastTxid(), start) << "due: committed";
  tx.Lock();
  EXPECT_EQ(tx.UnsafePending(), 0);
  tx.Unlock();
}

TEST(BatchTxTest, CommitAndStopCommitsThenRefusesWrites) {
  ASSERT_OK_AND_ASSIGN(auto b, NewTmpBackend(ManualConfig()));
  const btree::txid_t start = b->LastTxid();
  ASSERT_OK(Write(*b, [](BatchTx& tx) { return tx.UnsafeCreateBucket("b"); }));
  ASSERT_OK(b->batch_tx().CommitAndStop());
  EXPECT_EQ(b->LastTxid(), start + 1);
  absl::Status s = Write(*b, [](BatchTx& tx) { return tx.UnsafePut("b", "k", "v"); });
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
}

TEST(BatchTxTest, WritesToAMissingBucketFailWithNotFound) {
  ASSERT_OK_AND_ASSIGN(auto b, NewTmpBackend(ManualConfig()));
  EXPECT_TRUE(absl::IsNotFound(Write(*b, [](BatchTx& tx) { return tx.UnsafePut("nope", "k", "v"); })));
  EXPECT_TRUE(absl::IsNotFound(Write(*b, [](BatchTx& tx) { return tx.UnsafeDelete("nope", "k"); })));
  // Nothing was written: nothing to commit.
  const btree::txid_t start = b->LastTxid();
  ASSERT_OK(b->ForceCommit());
  EXPECT_EQ(b->LastTxid(), start);
}

TEST(BatchTxTest, WritesAfterCloseFail) {
  ASSERT_OK_AND_ASSIGN(auto b, NewTmpBackend(ManualConfig()));
  ASSERT_OK(b->Close());
  absl::Status s = Write(*b, [](BatchTx& tx) { return tx.UnsafeCreateBucket("b"); });
  EXPECT_TRUE(absl::IsFailedPrecondition(s)) << s;
  EXPECT_TRUE(absl::IsFailedPrecondition(b->NewConcurrentReadTx().status()));
  EXPECT_OK(b->Close());  // idempotent
}

TEST(BatchTxTest, InvalidKeyIsRefusedWithoutFailingTheBackend) {
  ASSERT_OK_AND_ASSIGN(auto b, NewTmpBackend(ManualConfig()));
  ASSERT_OK(Write(*b, [](BatchTx& tx) { return tx.UnsafeCreateBucket("b"); }));
  EXPECT_FALSE(Write(*b, [](BatchTx& tx) { return tx.UnsafePut("b", "", "v"); }).ok());
  ASSERT_OK(Write(*b, [](BatchTx& tx) { return tx.UnsafePut("b", "k", "v"); }));
  ASSERT_OK(b->ForceCommit());
}

TEST(BatchTxTest, CommittedWritesSurviveReopen) {
  ASSERT_OK_AND_ASSIGN(auto b, NewTmpBackend(ManualConfig()));
  std::string path = b->config().path;
  ASSERT_OK(Write(*b, [](BatchTx& tx) {
    if (absl::Status s = tx.UnsafeCreateBucket("b"); !s.ok()) return s;
    for (int i = 0; i < 50; ++i) {
      if (absl::Status s = tx.UnsafePut("b", "k" + std::to_string(100 + i), "v"); !s.ok()) {
        return s;
      }
    }
    return tx.UnsafeDelete("b", "k100");
  }));
  ASSERT_OK(b->Close());
  BackendConfig c = ManualConfig();
  c.path = path;
  ASSERT_OK_AND_ASSIGN(auto again, Backend::Open(c));
  ASSERT_OK_AND_ASSIGN(auto rtx, again->NewConcurrentReadTx());
  testutil::KV all = testutil::ReadAll(*rtx, "b");
  EXPECT_EQ(all.size(), 49u);
  EXPECT_EQ(all.count("k100"), 0u);
}

TEST(BatchTxTest, CommitIfDueNeverWaitsForTheLockAndLeavesTheCheckToUnlock) {
  ASSERT_OK_AND_ASSIGN(auto b, NewTmpBackend(ManualConfig()));
  BatchTx& tx = b->batch_tx();
  const btree::txid_t start = b->LastTxid();
  ASSERT_OK(Write(*b, [](BatchTx& t) { return t.UnsafeCreateBucket("b"); }));
  tx.Lock();
  auto due = std::async(std::launch::async, [&tx] {
    return tx.CommitIfDue(std::chrono::steady_clock::duration::zero());
  });
  // A deadline to report a hang as a failure, not a synchronisation.
  ASSERT_EQ(due.wait_for(std::chrono::seconds(30)), std::future_status::ready)
      << "CommitIfDue waited for the lock";
  EXPECT_EQ(b->LastTxid(), start) << "nothing commits while the holder writes";
  ASSERT_OK(tx.UnsafePut("b", "k", "v"));
  tx.Unlock();  // ManualConfig's zero interval: the pending writes are due
  EXPECT_EQ(b->LastTxid(), start + 1) << "Unlock made the check CommitIfDue could not";
}

TEST(BatchTxTest, ABucketCreatedInTheCycleTakesWritesAndOneDeletedRefusesThem) {
  ASSERT_OK_AND_ASSIGN(auto b, NewTmpBackend(ManualConfig()));
  BatchTx& tx = b->batch_tx();
  tx.Lock();
  EXPECT_TRUE(absl::IsNotFound(tx.UnsafeDeleteBucket("b")));
  ASSERT_OK(tx.UnsafeCreateBucket("b"));
  ASSERT_OK(tx.UnsafePut("b", "k", "v"));
  ASSERT_OK(tx.UnsafeDeleteBucket("b"));
  EXPECT_TRUE(absl::IsNotFound(tx.UnsafePut("b", "k", "v")));
  tx.Unlock();
  ASSERT_OK(b->ForceCommit());
  // The committed state agrees with what the writer was told.
  ASSERT_OK_AND_ASSIGN(auto view, b->NewConcurrentReadTx());
  EXPECT_TRUE(testutil::ReadAll(*view, "b").empty());
  EXPECT_TRUE(absl::IsNotFound(Write(*b, [](BatchTx& t) { return t.UnsafePut("b", "k", "v"); })));
}

TEST(BatchTxTest, AKeyOverTheBtreeLimitIsRefusedBeforeTheCommit) {
  ASSERT_OK_AND_ASSIGN(auto b, NewTmpBackend(ManualConfig()));
  ASSERT_OK(Write(*b, [](BatchTx& tx) { return tx.UnsafeCreateBucket("b"); }));
  const std::string big(btree::kMaxKeySize + 1, 'k');
  absl::Status s = Write(*b, [&](BatchTx& tx) { return tx.UnsafePut("b", big, "v"); });
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_OK(Write(*b, [&](BatchTx& tx) {
    return tx.UnsafePut("b", std::string(btree::kMaxKeySize, 'k'), "v");
  }));
  // The commit takes every write that was accepted.
  ASSERT_OK(b->ForceCommit());
}

}  // namespace
}  // namespace revkv::backend
