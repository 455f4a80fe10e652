// Wrong answers the store once gave, each a test named for what it checks:
// deleted keys back after a compaction, a read transaction's answer changed
// by a compaction, reads at the current revision refused during
// compactions, a store stopped mid-compaction that could not reopen; and
// the defects a review found (compaction order, revisions that go
// backwards, an index out of step with the backend).
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "backend/backend.h"
#include "gtest/gtest.h"
#include "mvcc/store.h"
#include "tests/mvcc/store_env.h"

namespace revkv::mvcc {
namespace {

std::string Key(int i) { return absl::StrFormat("key-%06d", i); }

// Bug 1: growing the point cache copied buckets into the buckets they split
// into; a delete emptied only the home bucket; the shrink a large compaction
// triggers folded the stale copies back home, where their records still
// existed until the background compaction deleted them.
TEST(StoreTrust, DeletedKeysStayDeletedAfterACompactionShrinksThePointCache) {
  StoreEnv env;
  env.Open();
  Store* s = env.store();
  constexpr int kKeys = 40000;
  for (int i = 0; i < kKeys; ++i) ASSERT_TRUE(s->Put(Key(i), "v" + std::to_string(i)).ok());
  for (int i = 0; i < kKeys; ++i) {
    absl::StatusOr<RangeResult> r = s->Range(Key(i), "");
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->kvs.size(), 1u);
  }
  for (int i = 0; i < kKeys; ++i) ASSERT_TRUE(s->DeleteRange(Key(i), "").ok());
  ASSERT_TRUE(s->Compact(s->Rev()).ok());
  int back = 0;
  for (int i = 0; i < kKeys; ++i) {
    absl::StatusOr<RangeResult> r = s->Range(Key(i), "");
    ASSERT_TRUE(r.ok()) << r.status();
    back += int(r->kvs.size());
  }
  EXPECT_EQ(back, 0) << "deleted keys came back";
  ASSERT_TRUE(s->WaitCompaction().ok());
}

// Bug 2: a compaction past a read transaction's revision changed what the
// transaction's next range returned. Same transaction, same answer, or
// ErrCompacted.
TEST(StoreTrust, AReadTransactionGivesTheSameAnswerOrCompactedAfterACompactionPassesIt) {
  StoreEnv env;
  env.Open();
  Store* s = env.store();
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(s->Put(Key(i), "v").ok());
  absl::StatusOr<std::unique_ptr<TxnRead>> txn = s->Read();
  ASSERT_TRUE(txn.ok());
  absl::StatusOr<RangeResult> first = (*txn)->Range(Key(0), std::string(1, '\0'), {});
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->kvs.size(), 100u);
  for (int i = 0; i < 100; i += 2) ASSERT_TRUE(s->DeleteRange(Key(i), "").ok());
  std::thread compactor([&] { EXPECT_TRUE(s->Compact(s->Rev()).ok()); });
  compactor.join();
  for (int64_t rev : {int64_t{0}, (*txn)->Rev()}) {
    RangeOptions opts;
    opts.rev = rev;
    absl::StatusOr<RangeResult> again = (*txn)->Range(Key(0), std::string(1, '\0'), opts);
    if (again.ok()) {
      EXPECT_EQ(again->kvs.size(), 100u) << "a partial answer at revision " << rev;
    } else {
      EXPECT_TRUE(IsCompacted(again.status())) << again.status();
    }
    absl::StatusOr<RangeResult> point = (*txn)->Range(Key(0), "", opts);
    if (point.ok()) {
      EXPECT_EQ(point->kvs.size(), 1u);
    } else {
      EXPECT_TRUE(IsCompacted(point.status())) << point.status();
    }
  }
  txn->reset();
  ASSERT_TRUE(s->WaitCompaction().ok());
}

// Bug 3: a read took the current revision, then the compacted one, with no
// lock between: a compaction in between left it unable to read its own
// revision, and Read() handed out transactions below their first revision.
TEST(StoreTrust, ReadsAtTheCurrentRevisionSucceedWhileCompactionsRun) {
  StoreEnv env;
  env.Open();
  Store* s = env.store();
  ASSERT_TRUE(s->Put("k", "0").ok());
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 1; i < 3000 && !stop; ++i) {
      absl::StatusOr<int64_t> rev = s->Put("k", std::to_string(i));
      ASSERT_TRUE(rev.ok()) << rev.status();
      ASSERT_TRUE(s->Compact(*rev).ok()) << "at " << *rev;
    }
    stop = true;
  });
  int reads = 0;
  // Failures stop the writer before they are reported: the thread must be
  // joined either way.
  auto check = [&]() -> std::string {
    absl::StatusOr<RangeResult> r = s->Range("k", "");
    if (!r.ok()) return r.status().ToString();
    if (r->kvs.size() != 1) return "the key is missing";
    absl::StatusOr<std::unique_ptr<TxnRead>> txn = s->Read();
    if (!txn.ok()) return txn.status().ToString();
    if ((*txn)->Rev() < (*txn)->FirstRev()) return "a transaction below its first revision";
    absl::StatusOr<RangeResult> own = (*txn)->Range("k", "", {});
    if (!own.ok() && !IsCompacted(own.status())) return own.status().ToString();
    return "";
  };
  std::string failure;
  while (!stop && failure.empty()) {
    failure = check();
    reads++;
  }
  stop = true;
  writer.join();
  EXPECT_EQ(failure, "") << "after " << reads << " reads";
  EXPECT_GT(reads, 0);
  ASSERT_TRUE(s->WaitCompaction().ok());
}

// Bug 4: finishedCompactRev was written only by a short batch; a store
// stopped after a compaction's last full batch had no record left to derive
// its revision from, came back at revision 1 and refused to resume the
// compaction as "future". Simulated exactly: the compaction's records are
// gone, finishedCompactRev is not written.
TEST(StoreTrust, AStoreStoppedMidCompactionReopensAtItsRevision) {
  StoreEnv env;
  StoreOptions opts;
  opts.compaction_batch = 2;
  opts.checkpoint_index = false;
  env.set_options(opts);
  env.Open();
  Store* s = env.store();
  ASSERT_TRUE(s->Put("k", "v").ok());  // 2
  ASSERT_TRUE(s->DeleteRange("k", "").ok());  // 3
  const int64_t rev = s->Rev();
  ASSERT_TRUE(s->Compact(rev).ok());
  ASSERT_TRUE(s->WaitCompaction().ok());
  // Take finishedCompactRev back out: the state of a stop before the last
  // (empty) batch.
  backend::BatchTx& tx = env.backend()->batch_tx();
  tx.Lock();
  ASSERT_TRUE(tx.UnsafeDelete(kMetaBucket, kFinishedCompactKey).ok());
  tx.Unlock();
  ASSERT_TRUE(env.backend()->ForceCommit().ok());
  env.Reopen();
  s = env.store();
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->Rev(), rev) << "the revision went backwards across the restart";
  ASSERT_TRUE(s->WaitCompaction().ok());
  absl::StatusOr<int64_t> next = s->Put("k", "again");
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(*next, rev + 1);
}

// Compactions are totally ordered: the finished revision never goes
// backwards, however many Compact calls race.
TEST(StoreTrust, ConcurrentCompactionsFinishInOrder) {
  StoreEnv env;
  StoreOptions opts;
  opts.compaction_batch = 3;
  env.set_options(opts);
  env.Open();
  Store* s = env.store();
  for (int i = 0; i < 400; ++i) ASSERT_TRUE(s->Put(Key(i % 20), std::to_string(i)).ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int64_t rev = 2 + t; rev < 400; rev += 4) {
        absl::Status st = s->Compact(rev);
        EXPECT_TRUE(st.ok() || IsCompacted(st)) << st;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_TRUE(s->WaitCompaction().ok());
  const int64_t compacted = s->CompactRev();
  backend::BatchTx& tx = env.backend()->batch_tx();
  tx.Lock();
  absl::StatusOr<int64_t> finished = ReadMetaRevision(&tx, kFinishedCompactKey);
  absl::StatusOr<int64_t> scheduled = ReadMetaRevision(&tx, kScheduledCompactKey);
  tx.Unlock();
  ASSERT_TRUE(finished.ok() && scheduled.ok());
  EXPECT_EQ(*scheduled, compacted);
  EXPECT_EQ(*finished, compacted) << "a compaction finished out of order";
}

// The revision never goes backwards across a restart, whatever compaction
// removed.
TEST(StoreTrust, TheRevisionSurvivesAReopenAfterEveryRecordWasCompacted) {
  StoreEnv env;
  StoreOptions opts;
  opts.checkpoint_index = false;
  env.set_options(opts);
  env.Open();
  Store* s = env.store();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(s->Put(Key(i), "v").ok());
  ASSERT_TRUE(s->DeleteRange(Key(0), std::string(1, '\0')).ok());
  const int64_t rev = s->Rev();
  ASSERT_TRUE(s->Compact(rev).ok());
  ASSERT_TRUE(s->WaitCompaction().ok());
  env.Reopen();
  EXPECT_EQ(env.store()->Rev(), rev);
  EXPECT_EQ(env.store()->CompactRev(), rev);
}

}  // namespace
}  // namespace revkv::mvcc
