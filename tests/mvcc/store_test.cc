// Store: etcd v3.4's mvcc semantics, as specifications.
#include "mvcc/store.h"

#include <stdlib.h>

#include <filesystem>
#include <map>
#include <random>

#include "backend/backend.h"
#include "mvcc/point_cache.h"
#include "tests/mvcc/store_env.h"
#include "gtest/gtest.h"

namespace revkv::mvcc {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_.Open();
    store_ = env_.store();
  }
  // The store restores from the file.
  void ReopenFromDisk() {
    env_.Reopen();
    store_ = env_.store();
  }

  int64_t Put(std::string_view k, std::string_view v) {
    auto r = store_->Put(k, v);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : -1;
  }

  KeyValue Get1(std::string_view k, int64_t rev = 0) {
    auto r = store_->Range(k, "", RangeOptions{0, rev, false});
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok() || r->kvs.size() != 1) {
      ADD_FAILURE() << "no single kv for " << k;
      return KeyValue();
    }
    return r->kvs[0];
  }

  StoreEnv env_;
  Store* store_ = nullptr;
};

// Two keys whose hashes share a slot and tag of the point cache's smallest
// table (4096 slots), found by the birthday bound among some 20,000 keys.
std::pair<std::string, std::string> KeysSharingACacheSlot() {
  std::map<uint64_t, std::string> seen;
  for (int i = 0;; ++i) {
    std::string k = "key" + std::to_string(i);
    const uint64_t h = PointCache::Hash(k);
    const uint64_t slot_and_tag = (h & 4095) | ((h >> 48) << 12);
    auto [it, inserted] = seen.emplace(slot_and_tag, k);
    if (!inserted) return {it->second, k};
  }
}

TEST_F(StoreTest, APointRangeWhoseCachedRevisionIsAnotherKeysReadsItsOwn) {
  const auto [a, b] = KeysSharingACacheSlot();
  Put(a, "va");
  Put(b, "vb");  // the slot now holds b's revision, under a's tag too
  EXPECT_EQ(Get1(a), (KeyValue{a, 2, 2, 1, "va", 0}));
  EXPECT_EQ(Get1(b), (KeyValue{b, 3, 3, 1, "vb", 0}));
  Put(a, "va2");  // and a's again
  EXPECT_EQ(Get1(b), (KeyValue{b, 3, 3, 1, "vb", 0}));
  EXPECT_EQ(Get1(a), (KeyValue{a, 2, 4, 2, "va2", 0}));
}

TEST_F(StoreTest, APointRangeOfADeletedKeyFindsNothingWhateverTheCacheHeld) {
  const auto [a, b] = KeysSharingACacheSlot();
  Put(a, "va");
  Put(b, "vb");
  ASSERT_TRUE(store_->DeleteRange(b, "").ok());  // empties the shared slot
  EXPECT_EQ(Get1(a).value, "va");  // read through the index, and cached again
  ASSERT_TRUE(store_->DeleteRange(a, "").ok());
  for (const std::string& k : {a, b}) {
    auto r = store_->Range(k, "", {});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->count, 0);
    EXPECT_TRUE(r->kvs.empty());
  }
}

TEST_F(StoreTest, APointRangeAtAnOlderRevisionThanTheCachedPutReadsThatRevision) {
  Put("a", "1");
  Put("a", "2");  // cached: revision 3
  EXPECT_EQ(Get1("a", 2), (KeyValue{"a", 2, 2, 1, "1", 0}));
  EXPECT_EQ(Get1("a", 3), (KeyValue{"a", 2, 3, 2, "2", 0}));
}

TEST_F(StoreTest, FreshStoreIsAtRevisionOne) {
  EXPECT_EQ(store_->Rev(), 1);
  EXPECT_EQ(store_->CompactRev(), -1);
}

TEST_F(StoreTest, FirstPutIsRevisionTwoWithVersionOne) {
  EXPECT_EQ(Put("a", "1"), 2);
  KeyValue kv = Get1("a");
  EXPECT_EQ(kv, (KeyValue{"a", 2, 2, 1, "1", 0}));
}

TEST_F(StoreTest, PutAgainBumpsVersionAndModRevision) {
  Put("a", "1");
  Put("a", "1");
  EXPECT_EQ(Get1("a"), (KeyValue{"a", 2, 3, 2, "1", 0}));
}

TEST_F(StoreTest, DeleteEndsTheGenerationAndPutStartsANewOne) {
  Put("a", "1");
  auto d = store_->DeleteRange("a", "");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->first, 1);
  EXPECT_EQ(d->second, 3);
  Put("a", "2");
  EXPECT_EQ(Get1("a"), (KeyValue{"a", 4, 4, 1, "2", 0}));
}

TEST_F(StoreTest, DeletingNothingDoesNotBumpTheRevision) {
  Put("a", "1");
  auto d = store_->DeleteRange("zzz", "");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->first, 0);
  EXPECT_EQ(store_->Rev(), 2);
}

TEST_F(StoreTest, DeleteRangeUsesOneRevisionWithSubRevisionsInKeyOrder) {
  Put("b", "1");
  Put("a", "1");
  Put("c", "1");
  auto d = store_->DeleteRange("a", "c");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->first, 2);
  EXPECT_EQ(store_->Rev(), 5);
  auto r = store_->Range("a", std::string(1, '\0'), {});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->kvs.size(), 1u);
  EXPECT_EQ(r->kvs[0].key, "c");
}

TEST_F(StoreTest, RangeAtAnOldRevisionSeesTheOldValue) {
  Put("a", "1");
  Put("a", "2");
  EXPECT_EQ(Get1("a", 2).value, "1");
  EXPECT_EQ(Get1("a", 3).value, "2");
}

TEST_F(StoreTest, RangeCountIgnoresLimit) {
  for (char c = 'a'; c <= 'e'; ++c) Put(std::string(1, c), "v");
  auto r = store_->Range("a", "z", RangeOptions{2, 0, false});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kvs.size(), 2u);
  EXPECT_EQ(r->count, 5);
  EXPECT_EQ(r->rev, 6);
  auto c = store_->Range("a", "z", RangeOptions{0, 0, true});
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->kvs.empty());
  EXPECT_EQ(c->count, 5);
}

TEST_F(StoreTest, ARangeIsInKeyOrderWhateverOrderItsKeysWereWrittenIn) {
  // Written back to front, half of them again and a few deleted, with a
  // commit half way: the records of the range lie in the key bucket in no
  // particular order, some committed, some still buffered.
  constexpr int kKeys = 3000;
  auto key = [](int i) { return "key" + std::to_string(10000 + i); };
  std::map<std::string, std::string> want;
  for (int i = kKeys - 1; i >= 0; --i) {
    Put(key(i), "v" + std::to_string(i));
    want[key(i)] = "v" + std::to_string(i);
    if (i == kKeys / 2) {
      ASSERT_TRUE(env_.backend()->ForceCommit().ok());
    }
  }
  for (int i = 0; i < kKeys; i += 2) {
    Put(key(i), "w" + std::to_string(i));
    want[key(i)] = "w" + std::to_string(i);
  }
  for (int i = 0; i < kKeys; i += 7) {
    ASSERT_TRUE(store_->DeleteRange(key(i), "").ok());
    want.erase(key(i));
  }
  auto r = store_->Range(key(0), key(kKeys), {});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->kvs.size(), want.size());
  auto w = want.begin();
  for (const KeyValue& kv : r->kvs) {
    ASSERT_EQ(kv.key, w->first);
    ASSERT_EQ(kv.value, w->second);
    EXPECT_EQ(kv.mod_revision, Get1(kv.key).mod_revision);
    ++w;
  }
}

TEST_F(StoreTest, RangeAboveTheCurrentRevisionIsAFutureRevision) {
  Put("a", "1");
  auto r = store_->Range("a", "", RangeOptions{0, 3, false});
  EXPECT_TRUE(IsFutureRev(r.status())) << r.status();
  EXPECT_EQ(r.status().message(), "mvcc: required revision is a future revision");
}

TEST_F(StoreTest, RangeBelowTheCompactedRevisionIsCompacted) {
  Put("a", "1");
  Put("a", "2");
  Put("a", "3");
  ASSERT_TRUE(store_->Compact(3).ok());
  auto r = store_->Range("a", "", RangeOptions{0, 2, false});
  EXPECT_TRUE(IsCompacted(r.status())) << r.status();
  EXPECT_EQ(Get1("a", 3).value, "2");  // the compacted revision itself reads
}

TEST_F(StoreTest, CompactErrorsAsEtcd) {
  Put("a", "1");
  EXPECT_TRUE(IsFutureRev(store_->Compact(3)));
  ASSERT_TRUE(store_->Compact(2).ok());
  EXPECT_TRUE(IsCompacted(store_->Compact(2)));
  EXPECT_TRUE(IsCompacted(store_->Compact(1)));
}

TEST_F(StoreTest, CompactionZeroOnANeverCompactedStoreSucceeds) {
  ASSERT_TRUE(store_->Compact(0).ok());
  EXPECT_EQ(store_->CompactRev(), 0);
}

// Regression: a finished compaction at revision 0 was restored as "never
// compacted" (-1), so hashkv after a reopen printed compact_revision -1.
TEST_F(StoreTest, CompactionZeroSurvivesReopen) {
  ASSERT_TRUE(store_->Compact(0).ok());
  ASSERT_TRUE(store_->WaitCompaction().ok());
  ReopenFromDisk();
  EXPECT_EQ(store_->CompactRev(), 0);
  EXPECT_TRUE(IsCompacted(store_->Compact(0)));
}

TEST_F(StoreTest, TxnWritesShareOneRevisionAndReadTheirOwnWrites) {
  auto txn = store_->Write();
  ASSERT_TRUE(txn.ok());
  ASSERT_TRUE((*txn)->Put("a", "1").ok());
  ASSERT_TRUE((*txn)->Put("b", "2").ok());
  auto r = (*txn)->Range("a", "", {});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->kvs.size(), 1u);
  EXPECT_EQ(r->kvs[0].value, "1");
  EXPECT_EQ(r->rev, 2);
  ASSERT_TRUE((*txn)->DeleteRange("a", "").ok());
  r = (*txn)->Range("a", "", {});
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->kvs.empty());
  ASSERT_TRUE((*txn)->End().ok());
  EXPECT_EQ(store_->Rev(), 2);
  EXPECT_EQ(Get1("b"), (KeyValue{"b", 2, 2, 1, "2", 0}));
}

TEST_F(StoreTest, ReadersDoNotSeeAnUnfinishedWriteTxn) {
  Put("a", "1");
  auto txn = store_->Write();
  ASSERT_TRUE(txn.ok());
  ASSERT_TRUE((*txn)->Put("a", "2").ok());
  EXPECT_EQ(Get1("a").value, "1");
  ASSERT_TRUE((*txn)->End().ok());
  EXPECT_EQ(Get1("a").value, "2");
}

TEST_F(StoreTest, EmptyKeyIsRejected) {
  auto r = store_->Put("", "v");
  EXPECT_EQ(r.status().message(), "etcdserver: key is not provided");
}

// The golden history: hashes from etcd 3.4.23 (etcdctl endpoint hashkv) for
//   put a 1; put b 2; put a 3; del b; put c ""; put b 4;
//   txn {put d x; put e y; del c}; put a 5; then compaction 5.
TEST_F(StoreTest, HashByRevEqualsEtcdForAGoldenHistory) {
  auto h0 = store_->HashByRev(0);
  ASSERT_TRUE(h0.ok());
  EXPECT_EQ(h0->hash, 1084519789u);
  Put("a", "1");
  Put("b", "2");
  Put("a", "3");
  ASSERT_TRUE(store_->DeleteRange("b", "").ok());
  Put("c", "");
  Put("b", "4");
  {
    auto txn = store_->Write();
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE((*txn)->Put("d", "x").ok());
    ASSERT_TRUE((*txn)->Put("e", "y").ok());
    ASSERT_TRUE((*txn)->DeleteRange("c", "").ok());
    ASSERT_TRUE((*txn)->End().ok());
  }
  Put("a", "5");
  std::map<int64_t, uint32_t> before = {{0, 2474468952u}, {2, 2587454935u}, {3, 1827592406u},
                                        {5, 1125682900u}, {7, 4007994441u}, {8, 3846255020u}};
  for (auto [rev, want] : before) {
    auto h = store_->HashByRev(rev);
    ASSERT_TRUE(h.ok()) << h.status();
    EXPECT_EQ(h->hash, want) << "rev " << rev;
    EXPECT_EQ(h->rev, 9);
    EXPECT_EQ(h->compact_rev, -1);
  }
  ASSERT_TRUE(store_->Compact(5).ok());
  ASSERT_TRUE(store_->WaitCompaction().ok());
  std::map<int64_t, uint32_t> after = {
      {0, 1810981217u}, {6, 244968164u}, {7, 2750620473u}, {8, 1039126393u}};
  for (auto [rev, want] : after) {
    auto h = store_->HashByRev(rev);
    ASSERT_TRUE(h.ok()) << h.status();
    EXPECT_EQ(h->hash, want) << "rev " << rev;
    EXPECT_EQ(h->compact_rev, 5);
  }
  EXPECT_TRUE(IsCompacted(store_->HashByRev(5).status()));
  EXPECT_TRUE(IsFutureRev(store_->HashByRev(10).status()));
}

TEST_F(StoreTest, RestoreAfterReopenEqualsTheStateBefore) {
  Put("a", "1");
  Put("b", "2");
  ASSERT_TRUE(store_->DeleteRange("a", "").ok());
  Put("a", "3");
  Put("c", "4");
  ASSERT_TRUE(store_->Compact(4).ok());
  ASSERT_TRUE(store_->WaitCompaction().ok());
  auto before = store_->HashByRev(0);
  ASSERT_TRUE(before.ok());
  ReopenFromDisk();
  EXPECT_EQ(store_->Rev(), 6);
  EXPECT_EQ(store_->CompactRev(), 4);
  auto after = store_->HashByRev(0);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->hash, before->hash);
  EXPECT_EQ(Get1("a"), (KeyValue{"a", 5, 5, 1, "3", 0}));
  EXPECT_EQ(Put("a", "x"), 7);
  EXPECT_EQ(Get1("a"), (KeyValue{"a", 5, 7, 2, "x", 0}));
}

// --- The consistent index (etcd's meta "consistent_index") -----------------

// The meta bucket's consistent_index as the backend's last commit holds it
// (-1 when absent).
int64_t CommittedConsistentIndex(backend::Backend* b) {
  auto view = b->NewConcurrentReadTx();
  EXPECT_TRUE(view.ok()) << view.status();
  if (!view.ok()) return -2;
  auto v = (*view)->UnsafeGet(kMetaBucket, kConsistentIndexKey);
  if (absl::IsNotFound(v.status())) return -1;
  EXPECT_TRUE(v.ok()) << v.status();
  if (!v.ok() || v->size() != 8) return -2;
  uint64_t n = 0;
  for (char c : *v) n = (n << 8) | uint8_t(c);
  return int64_t(n);
}

TEST_F(StoreTest, EachCommitCarriesTheCountOfWriteTransactionsSoFar) {
  Put("a", "1");
  Put("b", "2");
  ASSERT_TRUE(store_->DeleteRange("a", "").ok());
  ASSERT_TRUE(store_->DeleteRange("nothing", "").ok());  // changes nothing: not counted
  ASSERT_TRUE(env_.backend()->ForceCommit().ok());
  EXPECT_EQ(CommittedConsistentIndex(env_.backend()), 3);
  Put("c", "3");
  ASSERT_TRUE(env_.backend()->ForceCommit().ok());
  EXPECT_EQ(CommittedConsistentIndex(env_.backend()), 4);
}

TEST_F(StoreTest, TheConsistentIndexIsWrittenOncePerCommitNotPerTransaction) {
  backend::BatchTx& tx = env_.backend()->batch_tx();
  ASSERT_TRUE(env_.backend()->ForceCommit().ok());
  for (int i = 0; i < 10; ++i) Put("k" + std::to_string(i), "v");
  tx.Lock();
  const int64_t pending = tx.UnsafePending();
  tx.Unlock();
  EXPECT_EQ(pending, 10) << "one record per put, no meta write yet";
}

TEST_F(StoreTest, TheConsistentIndexSurvivesReopen) {
  Put("a", "1");
  Put("b", "2");
  ReopenFromDisk();
  EXPECT_EQ(CommittedConsistentIndex(env_.backend()), 2);
  Put("c", "3");
  ASSERT_TRUE(env_.backend()->ForceCommit().ok());
  EXPECT_EQ(CommittedConsistentIndex(env_.backend()), 3);
}

// --- The index checkpoint of a clean close (checkpoint.cc) ----------------

TEST_F(StoreTest, ACleanCloseLeavesACheckpointTheNextOpenLoads) {
  Put("a", "1");
  Put("b", "2");
  ASSERT_TRUE(store_->DeleteRange("a", "").ok());
  Put("a", "3");
  ASSERT_TRUE(store_->Compact(3).ok());
  ASSERT_TRUE(store_->WaitCompaction().ok());
  auto before = store_->HashByRev(0);
  ASSERT_TRUE(before.ok());
  ReopenFromDisk();
  EXPECT_TRUE(store_->opened_from_checkpoint());
  EXPECT_EQ(store_->Rev(), 5);
  EXPECT_EQ(store_->CompactRev(), 3);
  auto after = store_->HashByRev(0);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->hash, before->hash);
  EXPECT_EQ(Get1("a"), (KeyValue{"a", 5, 5, 1, "3", 0}));
  EXPECT_EQ(Get1("b"), (KeyValue{"b", 3, 3, 1, "2", 0}));
  EXPECT_EQ(Put("b", "x"), 6);
  EXPECT_EQ(Get1("b"), (KeyValue{"b", 3, 6, 2, "x", 0}));
}

TEST_F(StoreTest, WritesAfterTheCheckpointAreReplayedOverIt) {
  Put("a", "1");
  ReopenFromDisk();  // a clean close: checkpoint of {a}
  ASSERT_TRUE(store_->opened_from_checkpoint());
  StoreOptions no_checkpoint;
  no_checkpoint.checkpoint_index = false;
  env_.set_options(no_checkpoint);
  ReopenFromDisk();
  EXPECT_FALSE(store_->opened_from_checkpoint());
  Put("b", "2");  // then a close that writes no checkpoint, as a crash
  ASSERT_TRUE(store_->DeleteRange("a", "").ok());
  Put("a", "3");
  env_.set_options(StoreOptions{});
  ReopenFromDisk();
  EXPECT_TRUE(store_->opened_from_checkpoint());  // the old one, and the records after it
  EXPECT_EQ(store_->Rev(), 5);
  EXPECT_EQ(Get1("a"), (KeyValue{"a", 5, 5, 1, "3", 0}));
  EXPECT_EQ(Get1("b"), (KeyValue{"b", 3, 3, 1, "2", 0}));
  EXPECT_EQ(Put("b", "x"), 6);
  EXPECT_EQ(Get1("b"), (KeyValue{"b", 3, 6, 2, "x", 0}));
}

// The checkpoint's header as stored (empty if none).
std::string CheckpointHeader(backend::Backend* b) {
  backend::BatchTx& tx = b->batch_tx();
  tx.Lock();
  absl::StatusOr<backend::KeyValues> kvs = tx.UnsafeRange(kIndexBucket, "header", "", 0);
  tx.Unlock();
  return kvs.ok() && kvs->size() == 1 ? kvs->values[0] : "";
}

// A put on a large store writes its record, not the whole index again.
TEST_F(StoreTest, APutOnALargeStoreLeavesTheCheckpointAsItIs) {
  for (int i = 0; i < 20000; ++i) Put("key" + std::to_string(i), "v");
  ReopenFromDisk();
  const std::string header = CheckpointHeader(env_.backend());
  ASSERT_NE(header, "");
  for (int i = 0; i < 10; ++i) {
    Put("one-more", std::to_string(i));
    ReopenFromDisk();
    ASSERT_TRUE(store_->opened_from_checkpoint());
    EXPECT_EQ(CheckpointHeader(env_.backend()), header) << "rewritten after put " << i;
    EXPECT_EQ(Get1("one-more").value, std::to_string(i));
    EXPECT_EQ(store_->Rev(), 20001 + i + 1);
  }
  // Once the records after it outnumber a share of the index, it is.
  for (int i = 0; i < 6000; ++i) Put("key" + std::to_string(i), "w");
  ReopenFromDisk();
  EXPECT_NE(CheckpointHeader(env_.backend()), header);
  ASSERT_TRUE(store_->opened_from_checkpoint());
  EXPECT_EQ(Get1("key5999").value, "w");
}

TEST_F(StoreTest, ACompactionMakesTheCheckpointStaleAndTheNextCloseRewritesIt) {
  Put("a", "1");
  Put("a", "2");
  ReopenFromDisk();
  const std::string header = CheckpointHeader(env_.backend());
  StoreOptions no_checkpoint;
  no_checkpoint.checkpoint_index = false;
  env_.set_options(no_checkpoint);
  ReopenFromDisk();  // this store's close writes none
  ASSERT_TRUE(store_->Compact(3).ok());
  ASSERT_TRUE(store_->WaitCompaction().ok());
  env_.set_options(StoreOptions{});
  ReopenFromDisk();
  EXPECT_FALSE(store_->opened_from_checkpoint()) << "a checkpoint from before the compaction";
  EXPECT_EQ(store_->CompactRev(), 3);
  ReopenFromDisk();
  EXPECT_NE(CheckpointHeader(env_.backend()), header);
  EXPECT_TRUE(store_->opened_from_checkpoint());
  EXPECT_EQ(Get1("a"), (KeyValue{"a", 2, 3, 2, "2", 0}));
}

TEST_F(StoreTest, ADamagedCheckpointIsIgnoredAndTheIndexRebuilt) {
  Put("a", "1");
  Put("b", "2");
  ReopenFromDisk();
  ASSERT_TRUE(store_->opened_from_checkpoint());
  // Damage the checkpoint's data behind the store; its header still matches.
  backend::BatchTx& tx = env_.backend()->batch_tx();
  tx.Lock();
  ASSERT_TRUE(tx.UnsafePut(kIndexBucket, "chunk-00000000", "\x05garbage").ok());
  tx.Unlock();
  ReopenFromDisk();
  EXPECT_FALSE(store_->opened_from_checkpoint());
  EXPECT_EQ(store_->Rev(), 3);
  EXPECT_EQ(Get1("a"), (KeyValue{"a", 2, 2, 1, "1", 0}));
  EXPECT_EQ(Get1("b"), (KeyValue{"b", 3, 3, 1, "2", 0}));
}

}  // namespace
}  // namespace revkv::mvcc
