// Reads: applied writes are visible before their commit, a ConcurrentReadTx
// keeps its view, ranges merge the buffer with the btree.
#include "backend/read_tx.h"

#include <string>
#include <vector>

#include "backend/backend.h"
#include "gtest/gtest.h"
#include "tests/backend/backend_test_util.h"

namespace revkv::backend {
namespace {

using testutil::KV;
using testutil::ManualConfig;
using testutil::ReadAll;
using testutil::ToMap;
using testutil::Write;

class ReadTxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto b = NewTmpBackend(ManualConfig());
    ASSERT_TRUE(b.ok()) << b.status();
    b_ = *std::move(b);
    ASSERT_OK(Write(*b_, [](BatchTx& tx) { return tx.UnsafeCreateBucket("b"); }));
  }
  absl::Status Put(std::string k, std::string v) {
    return Write(*b_, [&](BatchTx& tx) { return tx.UnsafePut("b", k, v); });
  }
  absl::Status Del(std::string k) {
    return Write(*b_, [&](BatchTx& tx) { return tx.UnsafeDelete("b", k); });
  }
  std::unique_ptr<Backend> b_;
};

TEST_F(ReadTxTest, ConcurrentReadTxSeesUnlockedWritesBeforeCommit) {
  const btree::txid_t start = b_->LastTxid();
  ASSERT_OK(Put("k", "v"));
  ASSERT_EQ(b_->LastTxid(), start) << "not committed yet";
  ASSERT_OK_AND_ASSIGN(auto rtx, b_->NewConcurrentReadTx());
  EXPECT_EQ(ReadAll(*rtx, "b"), (KV{{"k", "v"}}));
}

TEST_F(ReadTxTest, WritesInsideAnUnreleasedLockAreNotVisible) {
  BatchTx& tx = b_->batch_tx();
  tx.Lock();
  ASSERT_OK(tx.UnsafePut("b", "k", "v"));
  ASSERT_OK_AND_ASSIGN(auto rtx, b_->NewConcurrentReadTx());
  tx.Unlock();
  EXPECT_TRUE(ReadAll(*rtx, "b").empty());
}

TEST_F(ReadTxTest, ConcurrentReadTxKeepsItsViewAcrossWritesAndCommits) {
  ASSERT_OK(Put("a", "1"));
  ASSERT_OK(b_->ForceCommit());
  ASSERT_OK(Put("b", "1"));
  ASSERT_OK_AND_ASSIGN(auto rtx, b_->NewConcurrentReadTx());
  const KV before{{"a", "1"}, {"b", "1"}};
  ASSERT_OK(Put("a", "2"));
  ASSERT_OK(Del("b"));
  ASSERT_OK(Put("c", "2"));
  EXPECT_EQ(ReadAll(*rtx, "b"), before);
  ASSERT_OK(b_->ForceCommit());
  EXPECT_EQ(ReadAll(*rtx, "b"), before);
  ASSERT_OK_AND_ASSIGN(auto later, b_->NewConcurrentReadTx());
  EXPECT_EQ(ReadAll(*later, "b"), (KV{{"a", "2"}, {"c", "2"}}));
}

TEST_F(ReadTxTest, RangeMergesBufferAndBtreeInKeyOrderWithLimitAfterMerge) {
  // Committed: k0..k9. Buffered: deletes of k1, k2, puts of k15 and k3.
  ASSERT_OK(Write(*b_, [](BatchTx& tx) {
    for (int i = 0; i < 10; ++i) {
      if (absl::Status s = tx.UnsafePut("b", "k" + std::to_string(i), "c"); !s.ok()) return s;
    }
    return absl::OkStatus();
  }));
  ASSERT_OK(b_->ForceCommit());
  ASSERT_OK(Del("k1"));
  ASSERT_OK(Del("k2"));
  ASSERT_OK(Put("k15", "buf"));
  ASSERT_OK(Put("k3", "buf"));
  ASSERT_OK_AND_ASSIGN(auto rtx, b_->NewConcurrentReadTx());
  ASSERT_OK_AND_ASSIGN(KeyValues got, rtx->UnsafeRange("b", "k0", "k9", 4));
  EXPECT_EQ(got.keys, (std::vector<std::string>{"k0", "k15", "k3", "k4"}));
  EXPECT_EQ(got.values, (std::vector<std::string>{"c", "buf", "buf", "c"}));
  ASSERT_OK_AND_ASSIGN(got, rtx->UnsafeRange("b", "k1", "", 0));
  EXPECT_EQ(got.size(), 0u) << "a buffered delete hides the committed key";
  ASSERT_OK_AND_ASSIGN(got, rtx->UnsafeRange("b", "k3", "", 0));
  EXPECT_EQ(got.values, (std::vector<std::string>{"buf"}));
}

TEST_F(ReadTxTest, BatchTxRangeSeesItsOwnWrites) {
  BatchTx& tx = b_->batch_tx();
  tx.Lock();
  ASSERT_OK(tx.UnsafePut("b", "k", "v"));
  absl::StatusOr<KeyValues> got = tx.UnsafeRange("b", "a", "z", 0);
  tx.Unlock();
  ASSERT_OK(got);
  EXPECT_EQ(ToMap(*got), (KV{{"k", "v"}}));
}

TEST_F(ReadTxTest, BufferedBucketDeletionHidesCommittedKeys) {
  ASSERT_OK(Put("a", "1"));
  ASSERT_OK(b_->ForceCommit());
  ASSERT_OK(Write(*b_, [](BatchTx& tx) {
    if (absl::Status s = tx.UnsafeDeleteBucket("b"); !s.ok()) return s;
    if (absl::Status s = tx.UnsafeCreateBucket("b"); !s.ok()) return s;
    return tx.UnsafePut("b", "z", "2");
  }));
  ASSERT_OK_AND_ASSIGN(auto rtx, b_->NewConcurrentReadTx());
  EXPECT_EQ(ReadAll(*rtx, "b"), (KV{{"z", "2"}}));
}

TEST_F(ReadTxTest, ManyUnlocksKeepFewSegments) {
  for (int i = 0; i < 2000; ++i) ASSERT_OK(Put("k" + std::to_string(i % 500), std::to_string(i)));
  ASSERT_OK_AND_ASSIGN(auto rtx, b_->NewConcurrentReadTx());
  EXPECT_LE(rtx->segment_count(), 14u);
  EXPECT_EQ(ReadAll(*rtx, "b").size(), 500u);
}

TEST_F(ReadTxTest, OpenReadTxNCountsLiveViews) {
  EXPECT_EQ(b_->OpenReadTxN(), 0);
  {
    ASSERT_OK_AND_ASSIGN(auto r1, b_->NewConcurrentReadTx());
    ASSERT_OK_AND_ASSIGN(auto r2, b_->NewConcurrentReadTx());
    EXPECT_EQ(b_->OpenReadTxN(), 2);
  }
  EXPECT_EQ(b_->OpenReadTxN(), 0);
}

TEST_F(ReadTxTest, ViewsOpenAtCloseKeepWorking) {
  ASSERT_OK(Put("k", "v"));
  ASSERT_OK_AND_ASSIGN(auto rtx, b_->NewConcurrentReadTx());
  ASSERT_OK(b_->Close());
  EXPECT_EQ(ReadAll(*rtx, "b"), (KV{{"k", "v"}}));
  EXPECT_TRUE(absl::IsFailedPrecondition(b_->NewConcurrentReadTx().status()));
}

TEST_F(ReadTxTest, ViewsBetweenTwoCommitsShareOneBtreeSnapshot) {
  ASSERT_OK(Put("k", "v1"));
  ASSERT_OK(b_->ForceCommit());
  ASSERT_OK_AND_ASSIGN(auto r1, b_->NewConcurrentReadTx());
  ASSERT_OK(Put("k", "v2"));  // buffered: no commit, the same snapshot below
  ASSERT_OK_AND_ASSIGN(auto r2, b_->NewConcurrentReadTx());
  EXPECT_EQ(r1->btree_txid(), b_->LastTxid());
  EXPECT_EQ(r2->btree_txid(), r1->btree_txid());
  EXPECT_EQ(ReadAll(*r1, "b"), (KV{{"k", "v1"}}));
  EXPECT_EQ(ReadAll(*r2, "b"), (KV{{"k", "v2"}}));
}

TEST_F(ReadTxTest, AViewAfterACommitReadsTheNewSnapshotWhileOlderViewsKeepTheirs) {
  ASSERT_OK(Put("k", "v1"));
  ASSERT_OK(b_->ForceCommit());
  ASSERT_OK_AND_ASSIGN(auto before, b_->NewConcurrentReadTx());
  ASSERT_OK(Put("k", "v2"));
  ASSERT_OK(b_->ForceCommit());
  ASSERT_OK_AND_ASSIGN(auto after, b_->NewConcurrentReadTx());
  EXPECT_LT(before->btree_txid(), after->btree_txid());
  EXPECT_EQ(after->btree_txid(), b_->LastTxid());
  EXPECT_EQ(after->segment_count(), 0u);
  EXPECT_EQ(ReadAll(*before, "b"), (KV{{"k", "v1"}}));
  EXPECT_EQ(ReadAll(*after, "b"), (KV{{"k", "v2"}}));
}

TEST_F(ReadTxTest, ABucketMissingFromOneSnapshotIsFoundInTheNextOnceCommitted) {
  ASSERT_OK_AND_ASSIGN(auto early, b_->NewConcurrentReadTx());
  ASSERT_EQ(ReadAll(*early, "late").size(), 0u);  // looked up, and missing
  ASSERT_OK(Write(*b_, [](BatchTx& tx) {
    if (absl::Status s = tx.UnsafeCreateBucket("late"); !s.ok()) return s;
    return tx.UnsafePut("late", "k", "v");
  }));
  ASSERT_OK(b_->ForceCommit());
  early.reset();
  ASSERT_OK_AND_ASSIGN(auto rtx, b_->NewConcurrentReadTx());
  EXPECT_EQ(rtx->segment_count(), 0u) << "read from the btree, not the buffer";
  EXPECT_EQ(ReadAll(*rtx, "late"), (KV{{"k", "v"}}));
  ASSERT_OK_AND_ASSIGN(std::string_view v, rtx->UnsafeGet("late", "k"));
  EXPECT_EQ(v, "v");
}

TEST_F(ReadTxTest, MissingBucketReadsAsEmpty) {
  ASSERT_OK_AND_ASSIGN(auto rtx, b_->NewConcurrentReadTx());
  ASSERT_OK_AND_ASSIGN(KeyValues got, rtx->UnsafeRange("none", "a", "z", 0));
  EXPECT_EQ(got.size(), 0u);
}

// UnsafeGetSorted(keys) against an UnsafeGet per key on one view.
void ExpectGetSortedAsGet(ConcurrentReadTx& rtx, std::string_view bucket,
                          const std::vector<std::string>& keys) {
  const std::vector<std::string_view> views(keys.begin(), keys.end());
  std::vector<btree::Bucket::Found> found;
  ASSERT_OK(rtx.UnsafeGetSorted(bucket, views, &found));
  ASSERT_EQ(found.size(), keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    absl::StatusOr<std::string_view> want = rtx.UnsafeGet(bucket, keys[i]);
    ASSERT_TRUE(want.ok() || absl::IsNotFound(want.status())) << want.status();
    ASSERT_EQ(found[i].found, want.ok()) << keys[i];
    if (want.ok()) {
      ASSERT_EQ(found[i].value, *want) << keys[i];
    }
  }
}

TEST_F(ReadTxTest, GetSortedReadsBufferedPutsAndDeletesOverTheBtree) {
  std::vector<std::string> keys;
  for (int i = 0; i < 3000; ++i) keys.push_back("k" + std::to_string(10000 + i));
  for (int i = 0; i < 3000; i += 2) ASSERT_OK(Put(keys[size_t(i)], "old" + std::to_string(i)));
  ASSERT_OK(b_->ForceCommit());
  for (int i = 0; i < 3000; i += 3) ASSERT_OK(Put(keys[size_t(i)], "new" + std::to_string(i)));
  for (int i = 0; i < 3000; i += 5) ASSERT_OK(Del(keys[size_t(i)]));
  ASSERT_OK_AND_ASSIGN(auto rtx, b_->NewConcurrentReadTx());
  ASSERT_GT(rtx->segment_count(), 1u);
  ExpectGetSortedAsGet(*rtx, "b", keys);
  std::vector<btree::Bucket::Found> found;
  const std::vector<std::string_view> three = {keys[0], keys[2], keys[3]};
  ASSERT_OK(rtx->UnsafeGetSorted("b", three, &found));
  EXPECT_FALSE(found[0].found);          // committed, then deleted in the buffer
  EXPECT_EQ(found[1].value, "old2");     // committed only
  EXPECT_EQ(found[2].value, "new3");     // buffered only
}

TEST_F(ReadTxTest, GetSortedAfterABufferedBucketResetSeesOnlyTheNewBucket) {
  ASSERT_OK(Put("a", "1"));
  ASSERT_OK(Put("c", "1"));
  ASSERT_OK(b_->ForceCommit());
  ASSERT_OK(Write(*b_, [](BatchTx& tx) {
    if (absl::Status s = tx.UnsafeDeleteBucket("b"); !s.ok()) return s;
    if (absl::Status s = tx.UnsafeCreateBucket("b"); !s.ok()) return s;
    return tx.UnsafePut("b", "c", "2");
  }));
  ASSERT_OK_AND_ASSIGN(auto rtx, b_->NewConcurrentReadTx());
  ExpectGetSortedAsGet(*rtx, "b", {"a", "b", "c"});
  std::vector<btree::Bucket::Found> found;
  const std::vector<std::string_view> keys = {"a", "c"};
  ASSERT_OK(rtx->UnsafeGetSorted("b", keys, &found));
  EXPECT_FALSE(found[0].found);
  EXPECT_EQ(found[1].value, "2");
}

TEST_F(ReadTxTest, GetSortedInAMissingBucketFindsNothing) {
  ASSERT_OK_AND_ASSIGN(auto rtx, b_->NewConcurrentReadTx());
  std::vector<btree::Bucket::Found> found;
  const std::vector<std::string_view> keys = {"a", "b"};
  ASSERT_OK(rtx->UnsafeGetSorted("none", keys, &found));
  ASSERT_EQ(found.size(), 2u);
  EXPECT_FALSE(found[0].found);
  EXPECT_FALSE(found[1].found);
}

}  // namespace
}  // namespace revkv::backend
