// The key-ordered base (mvcc/key_order_base.h) beside writers, readers and
// compactions, its background rounds, its option, and what it must leave
// alone (HashKV, the backend hash). The random model with rounds at random
// points is model_test; a kill inside a round and a damaged base page are
// key_order_base_crash_test. Seeds are printed; REVKV_SEED replays one.
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "mvcc/key_order_base.h"
#include "mvcc/store.h"
#include "tests/mvcc/store_env.h"

namespace revkv::mvcc {
namespace {

uint64_t Seed() {
  uint64_t seed = std::random_device{}();
  if (const char* env = getenv("REVKV_SEED")) seed = strtoull(env, nullptr, 10);
  std::printf("seed %llu (REVKV_SEED reruns it)\n", static_cast<unsigned long long>(seed));
  return seed;
}

std::string Key(int i) { return absl::StrFormat("k%05d", i); }
// A value that names its key and the revision that wrote it, so a reader
// can check any record it gets without a model.
std::string Value(const std::string& key, int64_t rev) {
  return absl::StrFormat("%s@%d", key, rev);
}

StoreOptions ManualBase() {
  StoreOptions o;
  o.base_min_changes = int64_t{1} << 40;  // only RebuildKeyOrderBase builds
  return o;
}

void Load(Store* store, int keys) {
  for (int i = 0; i < keys; ++i) {
    const std::string k = Key(i);
    ASSERT_TRUE(store->Put(k, Value(k, store->Rev() + 1)).ok());
  }
}

// Every record a range returns is its key's at its mod revision, in key
// order, inside the range.
void CheckRange(const RangeResult& r, const std::string& from, const std::string& to) {
  for (size_t i = 0; i < r.kvs.size(); ++i) {
    const KeyValue& kv = r.kvs[i];
    ASSERT_EQ(kv.value, Value(kv.key, kv.mod_revision));
    ASSERT_GE(kv.key, from);
    ASSERT_LT(kv.key, to);
    if (i > 0) {
      ASSERT_LT(r.kvs[i - 1].key, kv.key);
    }
  }
}

// One writer (puts, deletes, compactions), two readers (ranges at the
// current revision, and the same range twice through a read transaction
// held across rounds), and rounds back to back. TSan checks the threads;
// the readers check every answer.
TEST(KeyOrderBaseTest, ReadersWritersCompactionsAndRoundsAgree) {
  const uint64_t seed = Seed();
  StoreEnv env(/*batch_limit=*/500);
  env.set_options(ManualBase());
  env.Open();
  Store* store = env.store();
  constexpr int kKeys = 5000;
  Load(store, kKeys);
  ASSERT_TRUE(store->RebuildKeyOrderBase().ok());

  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::thread writer([&] {
    std::mt19937_64 rng(seed);
    for (int i = 0; i < 20000 && failures == 0; ++i) {
      const std::string k = Key(int(rng() % kKeys));
      if (rng() % 5 == 0) {
        if (!store->DeleteRange(k, "").ok()) failures++;
      } else if (!store->Put(k, Value(k, store->Rev() + 1)).ok()) {
        failures++;
      }
      if (i % 2000 == 1999 && !store->Compact(store->Rev() - 100).ok()) failures++;
    }
    done = true;
  });
  std::thread rounds([&] {
    int n = 0;
    while (!done || n < 3) {
      absl::Status s = store->RebuildKeyOrderBase();
      if (!s.ok() && !IsCompacted(s)) {
        ADD_FAILURE() << s;
        failures++;
        return;
      }
      n += s.ok();
    }
  });
  auto reader = [&](uint64_t rseed) {
    std::mt19937_64 rng(rseed);
    for (int i = 0; i < 3000 && failures == 0; ++i) {
      const int a = int(rng() % kKeys);
      const std::string from = Key(a), to = Key(a + 16 + int(rng() % 400));
      if (rng() % 2 == 0) {
        absl::StatusOr<RangeResult> r = store->Range(from, to);
        if (!r.ok()) {
          ADD_FAILURE() << r.status();
          failures++;
          return;
        }
        CheckRange(*r, from, to);
      } else {
        absl::StatusOr<std::unique_ptr<TxnRead>> txn = store->Read();
        ASSERT_TRUE(txn.ok());
        absl::StatusOr<RangeResult> first = (*txn)->Range(from, to, {});
        std::this_thread::yield();  // let a round or a write in between
        absl::StatusOr<RangeResult> second = (*txn)->Range(from, to, {});
        if (!first.ok() || !second.ok()) {
          // Only a compaction past the transaction's revision may refuse it.
          const absl::Status s = first.ok() ? second.status() : first.status();
          if (!IsCompacted(s)) {
            ADD_FAILURE() << s;
            failures++;
          }
          continue;
        }
        CheckRange(*first, from, to);
        ASSERT_EQ(first->kvs, second->kvs) << "a read transaction's answer changed";
      }
    }
  };
  std::thread r1(reader, seed + 1), r2(reader, seed + 2);
  writer.join();
  r1.join();
  r2.join();
  rounds.join();
  ASSERT_EQ(failures, 0);
  const KeyOrderBaseInfo info = store->key_order_base();
  EXPECT_GE(info.rounds, 4);
  EXPECT_GT(info.entries_served, 0);
  EXPECT_TRUE(info.damage.ok()) << info.damage;
  EXPECT_TRUE(store->VerifyKeyOrderBase().ok());
}

// With the background thread on, a round runs once writes pause.
TEST(KeyOrderBaseTest, BackgroundRoundRunsWhenWritesPause) {
  StoreEnv env;
  StoreOptions o;
  o.base_min_changes = 1000;
  env.set_options(o);
  env.Open();
  Load(env.store(), 3000);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (env.store()->key_order_base().rounds == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // polls a background thread
  }
  const KeyOrderBaseInfo info = env.store()->key_order_base();
  ASSERT_EQ(info.rounds, 1);
  EXPECT_EQ(info.rev, env.store()->Rev());
  absl::StatusOr<RangeResult> r = env.store()->Range(Key(0), Key(3000));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kvs.size(), 3000u);
  EXPECT_EQ(env.store()->key_order_base().entries_served, 3000);
}

// The base survives a reopen (its generation is in the meta bucket) and is
// read at once; with the option off, nothing builds or reads it.
TEST(KeyOrderBaseTest, ReopenKeepsTheBaseAndTheOptionTurnsItOff) {
  StoreEnv env;
  env.set_options(ManualBase());
  env.Open();
  Load(env.store(), 2000);
  ASSERT_TRUE(env.store()->RebuildKeyOrderBase().ok());
  ASSERT_TRUE(env.store()->RebuildKeyOrderBase().ok());
  EXPECT_EQ(env.store()->key_order_base().gen, 1u);  // the second merged into the first
  env.Reopen();
  EXPECT_EQ(env.store()->key_order_base().gen, 1u);
  EXPECT_EQ(env.store()->key_order_base().rev, env.store()->Rev());
  ASSERT_TRUE(env.store()->Range(Key(0), Key(2000)).ok());
  EXPECT_EQ(env.store()->key_order_base().entries_served, 2000);

  StoreOptions off = ManualBase();
  off.key_order_base = false;
  env.set_options(off);
  env.Reopen();
  EXPECT_TRUE(absl::IsFailedPrecondition(env.store()->RebuildKeyOrderBase()));
  absl::StatusOr<RangeResult> r = env.store()->Range(Key(0), Key(2000));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kvs.size(), 2000u);
  EXPECT_EQ(env.store()->key_order_base().entries_served, 0);
}

// A stale base is still right: keys changed, deleted and added after the
// round are read by revision, the rest from the base.
TEST(KeyOrderBaseTest, StaleEntriesAreNeverServed) {
  StoreEnv env;
  env.set_options(ManualBase());
  env.Open();
  Store* store = env.store();
  Load(store, 1000);
  ASSERT_TRUE(store->RebuildKeyOrderBase().ok());
  const int64_t built = store->Rev();
  for (int i = 0; i < 1000; i += 10) {
    const std::string k = Key(i);
    ASSERT_TRUE(store->Put(k, Value(k, store->Rev() + 1)).ok());
  }
  ASSERT_TRUE(store->DeleteRange(Key(500), Key(600)).ok());
  ASSERT_TRUE(store->Put("k00500x", Value("k00500x", store->Rev() + 1)).ok());
  absl::StatusOr<RangeResult> r = store->Range(Key(0), Key(1000));
  ASSERT_TRUE(r.ok());
  CheckRange(*r, Key(0), Key(1000));
  EXPECT_EQ(r->kvs.size(), 901u);
  // 900 keys unchanged since the round less the 10 changed among them.
  EXPECT_EQ(store->key_order_base().entries_served, 810);
  // At the round's revision every key is the base's.
  RangeOptions at;
  at.rev = built;
  absl::StatusOr<RangeResult> old = store->Range(Key(0), Key(1000), at);
  ASSERT_TRUE(old.ok());
  CheckRange(*old, Key(0), Key(1000));
  EXPECT_EQ(old->kvs.size(), 1000u);
  EXPECT_EQ(store->key_order_base().entries_served, 810 + 1000);
  // A limit: the first 20 keys, and the count of all.
  RangeOptions lim;
  lim.limit = 20;
  absl::StatusOr<RangeResult> cut = store->Range(Key(0), Key(1000), lim);
  ASSERT_TRUE(cut.ok());
  EXPECT_EQ(cut->count, 901);
  ASSERT_EQ(cut->kvs.size(), 20u);
  EXPECT_EQ(cut->kvs.back().key, Key(19));
  CheckRange(*cut, Key(0), Key(20));
}

// A round merges into the base in place, chunk by chunk through views of
// its own, committing every few chunks: rounds after updates never hold a
// second copy of the base, so the file outgrows the same store without a
// base by about one base (a round that wrote a whole new copy before
// dropping the old would make that two).
TEST(KeyOrderBaseTest, RoundsMergeInPlaceAndTheFileHoldsOneBase) {
  const uint64_t seed = Seed();
  constexpr int kKeys = 80000;  // 80 chunks of a round, 5 commits
  // The file after the load and after five rounds of updates, compaction
  // and (with the base) a round.
  auto run = [&](bool base, uintmax_t* loaded, uintmax_t* final) {
    std::mt19937_64 rng(seed);
    StoreEnv env;
    StoreOptions o = ManualBase();
    o.key_order_base = base;
    env.set_options(o);
    env.Open();
    Store* store = env.store();
    const auto file = [&] { return std::filesystem::file_size(env.dir() + "/db"); };
    const auto settle = [&] {
      if (base) {
        ASSERT_TRUE(store->RebuildKeyOrderBase().ok());
      }
      ASSERT_TRUE(store->Compact(store->Rev()).ok());
      ASSERT_TRUE(store->WaitCompaction().ok());
      ASSERT_TRUE(env.backend()->ForceCommit().ok());
    };
    Load(store, kKeys);
    settle();
    *loaded = file();
    for (int round = 0; round < 5; ++round) {
      for (int i = 0; i < kKeys / 20; ++i) {
        const std::string k = Key(int(rng() % kKeys));
        ASSERT_TRUE(store->Put(k, Value(k, store->Rev() + 1)).ok());
      }
      settle();
    }
    *final = file();
    if (!base) return;
    EXPECT_EQ(store->key_order_base().gen, 1u);
    const int64_t served = store->key_order_base().entries_served;
    absl::StatusOr<RangeResult> r = store->Range(Key(0), Key(kKeys));
    ASSERT_TRUE(r.ok());
    CheckRange(*r, Key(0), Key(kKeys));
    EXPECT_EQ(store->key_order_base().entries_served - served, kKeys);
    EXPECT_TRUE(store->VerifyKeyOrderBase().ok());
  };
  uintmax_t plain_loaded, plain_final, base_loaded, base_final;
  run(false, &plain_loaded, &plain_final);
  run(true, &base_loaded, &base_final);
  ASSERT_GT(base_loaded, plain_loaded);
  const double one_base = double(base_loaded - plain_loaded);
  EXPECT_LT(double(base_final) - double(plain_final), 1.5 * one_base)
      << "without the base " << plain_loaded << " then " << plain_final << "; with it "
      << base_loaded << " then " << base_final;
}

// VerifyKeyOrderBase finds an entry whose bytes differ from the record at
// its revision (what a bug writing the base would leave: disk damage fails
// the page checksum instead), marks the base damaged so that reads stop
// using it, and the next round writes a new generation from the records.
TEST(KeyOrderBaseTest, VerifyFindsAWrongEntryAndARoundRepairsIt) {
  StoreEnv env;
  env.set_options(ManualBase());
  env.Open();
  Store* store = env.store();
  Load(store, 100);
  ASSERT_TRUE(store->RebuildKeyOrderBase().ok());
  ASSERT_TRUE(store->VerifyKeyOrderBase().ok());
  absl::StatusOr<RangeResult> k50 = store->Range(Key(50), "");
  ASSERT_TRUE(k50.ok() && k50->kvs.size() == 1);
  KeyValue wrong = k50->kvs[0];
  wrong.value = "not the record";
  std::string entry;
  AppendBaseEntry(Revision{wrong.mod_revision, 0}, EncodeKeyValue(wrong), &entry);
  backend::BatchTx& tx = env.backend()->batch_tx();
  tx.Lock();
  ASSERT_TRUE(tx.UnsafePut(BaseBucketName(1), Key(50), entry).ok());
  tx.Unlock();

  const absl::Status v = store->VerifyKeyOrderBase();
  EXPECT_TRUE(absl::IsDataLoss(v)) << v;
  EXPECT_TRUE(absl::IsDataLoss(store->key_order_base().damage));
  const int64_t served = store->key_order_base().entries_served;
  absl::StatusOr<RangeResult> r = store->Range(Key(0), Key(100));
  ASSERT_TRUE(r.ok());
  CheckRange(*r, Key(0), Key(100));
  EXPECT_EQ(store->key_order_base().entries_served, served) << "a damaged base was read";

  ASSERT_TRUE(store->RebuildKeyOrderBase().ok());
  const KeyOrderBaseInfo info = store->key_order_base();
  EXPECT_EQ(info.gen, 2u);
  EXPECT_EQ(info.repairs, 1);
  EXPECT_EQ(info.abandoned, std::vector<uint64_t>{1});
  EXPECT_TRUE(store->VerifyKeyOrderBase().ok());
  r = store->Range(Key(0), Key(100));
  ASSERT_TRUE(r.ok());
  CheckRange(*r, Key(0), Key(100));
  EXPECT_EQ(store->key_order_base().entries_served, served + 100);
}

// A base bucket that disappeared (a tool that copies etcd's buckets only
// would keep the meta key and lose the bucket) reads as empty, and the next
// round builds it again.
TEST(KeyOrderBaseTest, AMissingBaseBucketIsBuiltAgain) {
  StoreEnv env;
  env.set_options(ManualBase());
  env.Open();
  Store* store = env.store();
  Load(store, 500);
  ASSERT_TRUE(store->RebuildKeyOrderBase().ok());
  backend::BatchTx& tx = env.backend()->batch_tx();
  tx.Lock();
  ASSERT_TRUE(tx.UnsafeDeleteBucket(BaseBucketName(1)).ok());
  tx.Unlock();
  absl::StatusOr<RangeResult> r = store->Range(Key(0), Key(500));
  ASSERT_TRUE(r.ok());
  CheckRange(*r, Key(0), Key(500));
  EXPECT_EQ(r->kvs.size(), 500u);
  EXPECT_EQ(store->key_order_base().entries_served, 0);
  ASSERT_TRUE(store->RebuildKeyOrderBase().ok());
  r = store->Range(Key(0), Key(500));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kvs.size(), 500u);
  EXPECT_EQ(store->key_order_base().entries_served, 500);
}

// Defrag and a restore from a snapshot copy the base with the records: it
// is read at once after either, and answers stay right.
TEST(KeyOrderBaseTest, DefragAndRestoreCarryTheBase) {
  StoreEnv env;
  env.set_options(ManualBase());
  env.Open();
  Load(env.store(), 3000);
  ASSERT_TRUE(env.store()->DeleteRange(Key(100), Key(2000)).ok());
  ASSERT_TRUE(env.store()->RebuildKeyOrderBase().ok());
  ASSERT_TRUE(env.backend()->Defrag().ok());
  absl::StatusOr<RangeResult> r = env.store()->Range(Key(0), Key(3000));
  ASSERT_TRUE(r.ok());
  CheckRange(*r, Key(0), Key(3000));
  EXPECT_EQ(r->kvs.size(), 1100u);
  EXPECT_EQ(env.store()->key_order_base().entries_served, 1100);
  env.RestoreFromSnapshot();
  r = env.store()->Range(Key(0), Key(3000));
  ASSERT_TRUE(r.ok());
  CheckRange(*r, Key(0), Key(3000));
  EXPECT_EQ(r->kvs.size(), 1100u);
  EXPECT_EQ(env.store()->key_order_base().entries_served, 1100);
  EXPECT_TRUE(env.store()->VerifyKeyOrderBase().ok());
}

// HashKV reads the key bucket only, and the backend hash leaves the base out
// (IsBaseData): neither changes when a round runs.
TEST(KeyOrderBaseTest, HashesLeaveTheBaseOut) {
  StoreEnv env;
  env.set_options(ManualBase());
  env.Open();
  Load(env.store(), 3000);
  ASSERT_TRUE(env.store()->backend()->ForceCommit().ok());
  absl::StatusOr<HashResult> kv_before = env.store()->HashByRev(0);
  absl::StatusOr<uint64_t> before = env.store()->backend()->Hash(IsBaseData);
  absl::StatusOr<uint64_t> all_before = env.store()->backend()->Hash();
  ASSERT_TRUE(kv_before.ok() && before.ok() && all_before.ok());
  ASSERT_TRUE(env.store()->RebuildKeyOrderBase().ok());
  ASSERT_TRUE(env.store()->backend()->ForceCommit().ok());
  absl::StatusOr<HashResult> kv_after = env.store()->HashByRev(0);
  absl::StatusOr<uint64_t> after = env.store()->backend()->Hash(IsBaseData);
  absl::StatusOr<uint64_t> all_after = env.store()->backend()->Hash();
  ASSERT_TRUE(kv_after.ok() && after.ok() && all_after.ok());
  EXPECT_EQ(kv_before->hash, kv_after->hash);
  EXPECT_EQ(*before, *after);
  EXPECT_NE(*all_before, *all_after);  // the base is there, and left out above
  EXPECT_TRUE(IsBaseBucket("kvbase.7"));
  EXPECT_FALSE(IsBaseBucket("kvbase."));
  EXPECT_FALSE(IsBaseBucket("kvbase.07"));
  EXPECT_FALSE(IsBaseBucket("key"));
}

}  // namespace
}  // namespace revkv::mvcc
