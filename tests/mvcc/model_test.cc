// The store against a plain reference model (reference_model.h) at scale:
// tens of thousands of keys and hundreds of thousands of random operations
// -- puts, deletes, delete-ranges, transactions with compares, compactions
// (some removing most keys, growing and shrinking the point cache), reopens
// with and without the index checkpoint, restores from a snapshot, rounds of
// the key-ordered base (mvcc/key_order_base.h) at random points -- with
// every read compared, errors included: point, prefix, range, limit,
// count-only, at random old (and compacted, and future) revisions, through
// fresh reads and through read transactions held across all of it.
//
// The seed is printed; REVKV_SEED sets it. REVKV_MODEL_OPS and
// REVKV_MODEL_KEYS make the run longer (the README's nightly-sized run).
#include <stdlib.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "mvcc/store.h"
#include "tests/mvcc/reference_model.h"
#include "tests/mvcc/store_env.h"

namespace revkv::mvcc {
namespace {

int64_t EnvInt(const char* name, int64_t fallback) {
  const char* v = getenv(name);
  return v != nullptr ? strtoll(v, nullptr, 10) : fallback;
}

const std::string kEnd(1, '\0');

class ModelRun {
 public:
  explicit ModelRun(uint64_t seed)
      : rng_(seed), keys_(EnvInt("REVKV_MODEL_KEYS", 20000)), env_(/*batch_limit=*/1000) {
    env_.set_options(Options(true));
  }

  void Run(int64_t ops) {
    env_.Open();
    for (step_ = 0; step_ < ops && !::testing::Test::HasFatalFailure(); ++step_) {
      Step();
      if (::testing::Test::HasFatalFailure()) return;
      ASSERT_EQ(store()->Rev(), model_.rev()) << Where();
    }
    held_.clear();
    ASSERT_TRUE(store()->WaitCompaction().ok());
    FullRead(model_.rev());
    // The key-ordered base was built and ranges read from it.
    const KeyOrderBaseInfo base = store()->key_order_base();
    EXPECT_GT(base.gen, 0u);
    EXPECT_GT(base.entries_served, 0);
    EXPECT_TRUE(base.damage.ok()) << base.damage;
    EXPECT_TRUE(store()->VerifyKeyOrderBase().ok());
  }

 private:
  struct Held {
    std::unique_ptr<TxnRead> txn;
    int64_t rev;
  };

  Store* store() { return env_.store(); }
  // Rounds of the key-ordered base come from RebuildBase at random steps,
  // and from the background thread whenever the run pauses.
  static StoreOptions Options(bool checkpoint) {
    StoreOptions o;
    o.compaction_batch = 997;  // many batches per compaction, and odd
    o.checkpoint_index = checkpoint;
    o.base_min_changes = 500;
    return o;
  }
  std::string Where() const { return absl::StrFormat("step %d", step_); }
  std::string Key() { return absl::StrFormat("k%05d", rng_() % uint64_t(keys_)); }
  std::string Value() {
    std::string v = absl::StrFormat("v%d-", rng_() % 100000);
    if (rng_() % 50 == 0) v.append(rng_() % 3000, 'x');  // some records span more
    return v;
  }

  void Step() {
    if (step_ > 0 && step_ % 20000 == 0) return Reopen();
    if (step_ > 0 && step_ % 70000 == 35000) return Restore();
    if (step_ > 0 && step_ % 50000 == 25000) return RemoveMostKeys();
    if (step_ % 10000 == 5000) return FullRead(RandomRev());
    const int op = int(rng_() % 1000);
    if (op < 350) return Put();
    if (op < 420) return Delete(Key(), "");
    if (op < 430) return DeleteSpan();
    if (op < 480) return Txn();
    if (op < 482) return Compact();
    if (op < 483) return RebuildBase();
    if (op < 490) return Hold();
    if (op < 560) return ReadHeld();
    return Read();
  }

  void Put() {
    std::string k = Key(), v = Value();
    absl::StatusOr<int64_t> rev = store()->Put(k, v);
    ASSERT_TRUE(rev.ok()) << rev.status() << " " << Where();
    model_.Apply({{k, v}});
    ASSERT_EQ(*rev, model_.rev()) << Where();
  }

  void Delete(const std::string& a, const std::string& b) {
    absl::StatusOr<std::pair<int64_t, int64_t>> d = store()->DeleteRange(a, b);
    ASSERT_TRUE(d.ok()) << d.status() << " " << Where();
    std::vector<ReferenceModel::Change> changes;
    for (const KeyValue& kv : model_.Range(a, b, model_.rev())) changes.push_back({kv.key, {}});
    EXPECT_EQ(d->first, model_.Apply(changes)) << Where();
    EXPECT_EQ(d->second, model_.rev()) << Where();
  }

  void DeleteSpan() {
    std::string a = Key();
    std::string b = absl::StrFormat("k%05d", std::stoi(a.substr(1)) + int(rng_() % 300));
    Delete(a, b);
  }

  // Compare the mod revision of one key with a guess (right half the time),
  // then apply one branch or the other, reading its own writes.
  void Txn() {
    absl::StatusOr<std::unique_ptr<TxnWrite>> txn = store()->Write();
    ASSERT_TRUE(txn.ok()) << txn.status();
    const std::string probe = Key();
    absl::StatusOr<RangeResult> cur = (*txn)->Range(probe, "", {});
    ASSERT_TRUE(cur.ok()) << cur.status();
    std::vector<KeyValue> want = model_.Range(probe, "", model_.rev());
    ASSERT_EQ(cur->kvs, want) << Where();
    const int64_t mod = want.empty() ? 0 : want[0].mod_revision;
    const int64_t guess = rng_() % 2 == 0 ? mod : mod + 1;
    const bool then = mod == guess;
    std::vector<ReferenceModel::Change> changes;
    std::vector<std::string> used;
    const int n = 1 + int(rng_() % 4) + (then ? 0 : 1);
    for (int i = 0; i < n; ++i) {
      std::string k = Key();
      if (std::find(used.begin(), used.end(), k) != used.end()) continue;  // as etcd
      used.push_back(k);
      if (rng_() % 3 == 0) {
        ASSERT_TRUE((*txn)->DeleteRange(k, "").ok());
        changes.push_back({k, {}});
      } else {
        std::string v = Value();
        ASSERT_TRUE((*txn)->Put(k, v).ok());
        changes.push_back({k, v});
        absl::StatusOr<RangeResult> r = (*txn)->Range(k, "", {});
        ASSERT_TRUE(r.ok()) << r.status();
        ASSERT_EQ(r->kvs.size(), 1u) << Where();
        EXPECT_EQ(r->kvs[0].value, v) << Where();
      }
    }
    ASSERT_TRUE((*txn)->End().ok());
    model_.Apply(changes);
  }

  int64_t RandomRev() {
    const int64_t lo = std::max<int64_t>(model_.compacted(), 1);
    return lo + int64_t(rng_() % uint64_t(model_.rev() - lo + 1));
  }

  void Compact() {
    if (model_.compacted() >= model_.rev()) return;
    const int64_t target = rng_() % 4 == 0 ? model_.rev() : RandomRev();
    absl::Status s = store()->Compact(target);
    if (target <= model_.compacted()) {
      EXPECT_TRUE(IsCompacted(s)) << s << " " << Where();
      return;
    }
    ASSERT_TRUE(s.ok()) << s << " " << Where();
    model_.Compact(target);
    if (rng_() % 4 == 0) {
      ASSERT_TRUE(store()->WaitCompaction().ok());
    }
  }

  // A round of the key-ordered base now; one in ten is verified against the
  // records after. A compaction that passes the round's revision makes it
  // give up (and the next try succeeds).
  void RebuildBase() {
    absl::Status s = store()->RebuildKeyOrderBase();
    if (IsCompacted(s)) s = store()->RebuildKeyOrderBase();
    ASSERT_TRUE(s.ok()) << s << " " << Where();
    if (rng_() % 10 == 0) {
      ASSERT_TRUE(store()->VerifyKeyOrderBase().ok()) << Where();
    }
  }

  // Deletes about 90% of the keys and compacts at the current revision:
  // the index loses most keys and the point cache shrinks; the puts after
  // grow it again.
  void RemoveMostKeys() {
    std::string from = absl::StrFormat("k%05d", keys_ / 20);
    std::string to = absl::StrFormat("k%05d", keys_ - keys_ / 20);
    Delete(from, to);
    ASSERT_TRUE(store()->Compact(model_.rev()).ok()) << Where();
    model_.Compact(model_.rev());
  }

  // A random read of any shape at a random revision (the current one most
  // often; old, compacted and future ones too).
  void Query(std::string* key, std::string* end, RangeOptions* opts, int64_t current) {
    const int shape = int(rng_() % 100);
    *key = Key();
    end->clear();
    if (shape < 50) {
    } else if (shape < 65) {
      key->resize(size_t(3 + rng_() % 2));  // a prefix of 100 or 10 keys
      *end = *key;
      end->back()++;
    } else if (shape < 85) {
      *end = absl::StrFormat("k%05d", std::stoi(key->substr(1)) + int(rng_() % 200));
    } else if (shape < 87) {
      *end = kEnd;  // every key from here
    } else if (shape < 88) {
      key->clear();
      *key = std::string(1, '\0');
      *end = kEnd;  // every key
    } else {
      *end = absl::StrFormat("k%05d", std::stoi(key->substr(1)) + int(rng_() % 50));
    }
    *opts = RangeOptions();
    if (rng_() % 10 < 3) opts->limit = 1 + int64_t(rng_() % 50);
    if (rng_() % 10 == 0) opts->count_only = true;
    const int when = int(rng_() % 100);
    if (when < 65) {
      opts->rev = 0;
    } else if (when < 95) {
      const int64_t lo = std::min(std::max<int64_t>(model_.compacted(), 1), current);
      opts->rev = lo + int64_t(rng_() % uint64_t(current - lo + 1));
    } else {
      opts->rev = std::max<int64_t>(1, model_.compacted() - 3) + int64_t(rng_() % 5);
      if (rng_() % 2 == 0) opts->rev = current + 1 + int64_t(rng_() % 3);
    }
  }

  void Read() {
    std::string key, end;
    RangeOptions opts;
    Query(&key, &end, &opts, model_.rev());
    absl::StatusOr<RangeResult> got = store()->Range(key, end, opts);
    std::string diff = DiffRange(got, model_.Expect(key, end, opts, model_.rev()));
    ASSERT_EQ(diff, "") << Where() << " range [" << key << ", " << end << ") rev " << opts.rev
                        << " limit " << opts.limit << " count_only " << opts.count_only;
  }

  void Hold() {
    absl::StatusOr<std::unique_ptr<TxnRead>> txn = store()->Read();
    ASSERT_TRUE(txn.ok()) << txn.status();
    ASSERT_EQ((*txn)->Rev(), model_.rev());
    Held h{std::move(*txn), model_.rev()};
    if (held_.size() < 4) {
      held_.push_back(std::move(h));
    } else {
      held_[rng_() % held_.size()] = std::move(h);
    }
  }

  // A read through a transaction held across writes and compactions: the
  // answer at its revision, or ErrCompacted once a compaction passed it.
  void ReadHeld() {
    if (held_.empty()) return Read();
    Held& h = held_[rng_() % held_.size()];
    std::string key, end;
    RangeOptions opts;
    Query(&key, &end, &opts, h.rev);
    absl::StatusOr<RangeResult> got = h.txn->Range(key, end, opts);
    std::string diff = DiffRange(got, model_.Expect(key, end, opts, h.rev));
    ASSERT_EQ(diff, "") << Where() << " held txn at " << h.rev << " range [" << key << ", "
                        << end << ") rev " << opts.rev;
  }

  void FullRead(int64_t rev) {
    RangeOptions opts;
    opts.rev = rev;
    absl::StatusOr<RangeResult> got = store()->Range(std::string(1, '\0'), kEnd, opts);
    ASSERT_EQ(DiffRange(got, model_.Expect(std::string(1, '\0'), kEnd, opts, model_.rev())), "")
        << Where() << " full read at " << rev;
  }

  void Reopen() {
    held_.clear();
    ASSERT_TRUE(store()->WaitCompaction().ok());
    absl::StatusOr<HashResult> before = store()->HashByRev(0);
    ASSERT_TRUE(before.ok()) << before.status();
    // Half the closes leave no checkpoint (as a crash would), so opens
    // exercise both the checkpoint and the rebuild from the key bucket.
    env_.set_options(Options(rng_() % 2 == 0));
    env_.Reopen();
    absl::StatusOr<HashResult> after = store()->HashByRev(0);
    ASSERT_TRUE(after.ok()) << after.status();
    EXPECT_EQ(after->hash, before->hash) << Where();
    EXPECT_EQ(store()->CompactRev(), model_.compacted()) << Where();
    FullRead(model_.rev());
  }

  void Restore() {
    held_.clear();
    ASSERT_TRUE(store()->WaitCompaction().ok());
    env_.RestoreFromSnapshot();
    ASSERT_NE(store(), nullptr);
    FullRead(model_.rev());
  }

  std::mt19937_64 rng_;
  const int64_t keys_;
  StoreEnv env_;
  ReferenceModel model_;
  std::vector<Held> held_;
  int64_t step_ = 0;
};

TEST(ModelTest, MatchesTheReferenceModelAtScale) {
  uint64_t seed = std::random_device{}();
  if (const char* env = getenv("REVKV_SEED")) seed = strtoull(env, nullptr, 10);
  std::printf("seed %llu (REVKV_SEED reruns it)\n", static_cast<unsigned long long>(seed));
  ModelRun run(seed);
  run.Run(EnvInt("REVKV_MODEL_OPS", 200000));
}

}  // namespace
}  // namespace revkv::mvcc
