// The store against the reference model under concurrency (run under TSan in
// CI): writer threads, reader threads holding transactions across writes
// and compactions, a compactor and a hasher. Each reader's answer is
// checked against the model's state at its transaction's revision
// (snapshot isolation): the same transaction gives the same answer every
// time, or ErrCompacted once a compaction passed its revision -- never a
// partial one.
//
// The seed is printed; REVKV_SEED sets it, REVKV_CONCURRENT_OPS the writes
// per writer thread.
#include <stdlib.h>

#include <atomic>
#include <cstdio>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "mvcc/store.h"
#include "tests/mvcc/reference_model.h"
#include "tests/mvcc/store_env.h"

namespace revkv::mvcc {
namespace {

constexpr int kKeys = 2000;

class ConcurrentModel : public ::testing::Test {
 protected:
  void SetUp() override {
    seed_ = std::random_device{}();
    if (const char* env = getenv("REVKV_SEED")) seed_ = strtoull(env, nullptr, 10);
    std::printf("seed %llu (REVKV_SEED reruns it)\n", static_cast<unsigned long long>(seed_));
    StoreOptions o;
    o.compaction_batch = 101;
    env_.set_options(o);
    env_.Open();
  }

  static std::string Key(std::mt19937_64& rng) {
    return absl::StrFormat("k%04d", rng() % kKeys);
  }

  // Records the first failure and stops every thread.
  void Failed(const std::string& what) {
    std::lock_guard l(fail_mu_);
    if (failure_.empty()) failure_ = what;
    stop_ = true;
  }

  // One write, applied to the model under model_mu_ so that the model
  // always holds every revision a reader can have seen.
  void Write(std::mt19937_64& rng) {
    std::lock_guard l(model_mu_);
    Store* s = env_.store();
    const int op = int(rng() % 10);
    if (op < 6) {
      std::string k = Key(rng), v = absl::StrFormat("v%d", rng() % 1000);
      absl::StatusOr<int64_t> rev = s->Put(k, v);
      if (!rev.ok()) return Failed(rev.status().ToString());
      model_.Apply({{k, v}});
      if (*rev != model_.rev()) Failed("put revision out of step");
    } else if (op < 8) {
      std::string a = Key(rng), b = absl::StrFormat("k%04d", std::stoi(a.substr(1)) + 20);
      absl::StatusOr<std::pair<int64_t, int64_t>> d = s->DeleteRange(a, b);
      if (!d.ok()) return Failed(d.status().ToString());
      std::vector<ReferenceModel::Change> changes;
      for (const KeyValue& kv : model_.Range(a, b, model_.rev())) changes.push_back({kv.key, {}});
      if (d->first != model_.Apply(changes)) Failed("delete count out of step");
    } else {
      absl::StatusOr<std::unique_ptr<TxnWrite>> txn = s->Write();
      if (!txn.ok()) return Failed(txn.status().ToString());
      std::vector<ReferenceModel::Change> changes;
      std::string a = absl::StrFormat("k%04d", rng() % (kKeys / 2));
      std::string b = absl::StrFormat("k%04d", kKeys / 2 + rng() % (kKeys / 2));
      for (const std::string& k : {a, b}) {
        std::string v = absl::StrFormat("t%d", rng() % 1000);
        if (!(*txn)->Put(k, v).ok()) return Failed("txn put");
        changes.push_back({k, v});
      }
      if (!(*txn)->End().ok()) return Failed("txn end");
      model_.Apply(changes);
    }
  }

  // A random query (point, prefix or span; sometimes limited or counting;
  // at the transaction's revision or an older one).
  static void Query(std::mt19937_64& rng, int64_t txn_rev, std::string* key, std::string* end,
                    RangeOptions* opts) {
    *key = Key(rng);
    end->clear();
    const int shape = int(rng() % 10);
    if (shape >= 4 && shape < 7) {
      key->resize(3);  // a prefix of 100 keys
      *end = *key;
      end->back()++;
    } else if (shape >= 7) {
      *end = absl::StrFormat("k%04d", std::stoi(key->substr(1)) + int(rng() % 300));
    }
    *opts = RangeOptions();
    if (rng() % 4 == 0) opts->limit = 1 + int64_t(rng() % 20);
    if (rng() % 8 == 0) opts->count_only = true;
    if (rng() % 3 == 0) opts->rev = std::max<int64_t>(1, txn_rev - int64_t(rng() % 50));
  }

  // Holds a transaction across a few queries, each checked against the
  // model at the transaction's revision; then asks the first again.
  void ReadInTransaction(std::mt19937_64& rng) {
    absl::StatusOr<std::unique_ptr<TxnRead>> txn = env_.store()->Read();
    if (!txn.ok()) return Failed(txn.status().ToString());
    const int64_t rev = (*txn)->Rev();
    if (rev < (*txn)->FirstRev()) return Failed("a transaction below its first revision");
    std::string key0, end0;
    RangeOptions opts0;
    absl::StatusOr<RangeResult> first = ErrCompacted();
    for (int i = 0; i < 6; ++i) {
      std::string key, end;
      RangeOptions opts;
      Query(rng, rev, &key, &end, &opts);
      absl::StatusOr<RangeResult> got = (*txn)->Range(key, end, opts);
      std::lock_guard l(model_mu_);
      const int64_t at = opts.rev <= 0 ? rev : opts.rev;
      if (!got.ok() && IsCompacted(got.status())) {
        if (model_.compacted() <= at) Failed("ErrCompacted with no compaction past the read");
      } else {
        std::string diff = DiffRange(got, model_.Expect(key, end, opts, rev, false));
        if (!diff.empty()) {
          return Failed(absl::StrFormat("txn at %d, range [%s, %s) at %d: %s", rev, key, end,
                                        opts.rev, diff));
        }
      }
      if (i == 0) {
        key0 = key, end0 = end, opts0 = opts;
        first = got;
      }
    }
    absl::StatusOr<RangeResult> again = (*txn)->Range(key0, end0, opts0);
    if (!again.ok() && IsCompacted(again.status())) return;
    if (!DiffRange(again, first).empty()) Failed("the same transaction answered differently");
  }

  void Compact(std::mt19937_64& rng) {
    std::lock_guard l(model_mu_);
    const int64_t lo = std::max<int64_t>(model_.compacted() + 1, model_.rev() - 100);
    if (lo > model_.rev()) return;
    const int64_t c = lo + int64_t(rng() % uint64_t(model_.rev() - lo + 1));
    absl::Status s = env_.store()->Compact(c);
    if (!s.ok()) return Failed("compact: " + s.ToString());
    model_.Compact(c);
  }

  // Two hashes at one revision agree unless a compaction came between.
  void Hash() {
    absl::StatusOr<HashResult> a = env_.store()->HashByRev(0);
    if (!a.ok()) return Failed(a.status().ToString());
    absl::StatusOr<HashResult> b = env_.store()->HashByRev(a->rev);
    if (!b.ok()) {
      if (!IsCompacted(b.status())) Failed(b.status().ToString());
      return;
    }
    if (a->compact_rev == b->compact_rev && a->hash != b->hash) Failed("hash changed");
  }

  uint64_t seed_ = 0;
  StoreEnv env_{/*batch_limit=*/50};
  std::mutex model_mu_;
  ReferenceModel model_;  // guarded by model_mu_
  std::atomic<bool> stop_{false};
  std::mutex fail_mu_;
  std::string failure_;
};

TEST_F(ConcurrentModel, ReadersSeeTheirRevisionWhileWritersCompactorAndHasherRun) {
  const char* ops_env = getenv("REVKV_CONCURRENT_OPS");
  const int ops = ops_env != nullptr ? atoi(ops_env) : 4000;
  std::atomic<int> writers_left{2};
  std::vector<std::thread> threads;
  for (int w = 0; w < 2; ++w) {
    threads.emplace_back([&, w] {
      std::mt19937_64 rng(seed_ + uint64_t(w));
      for (int i = 0; i < ops && !stop_; ++i) Write(rng);
      writers_left--;
    });
  }
  auto until_writers_done = [&](uint64_t salt, std::function<void(std::mt19937_64&)> fn) {
    threads.emplace_back([&, salt, fn] {
      std::mt19937_64 rng(seed_ + salt);
      while (writers_left > 0 && !stop_) fn(rng);
    });
  };
  for (int r = 0; r < 2; ++r) {
    until_writers_done(10 + uint64_t(r), [&](std::mt19937_64& rng) { ReadInTransaction(rng); });
  }
  int compactions = 0, hashes = 0;
  until_writers_done(20, [&](std::mt19937_64& rng) {
    if (compactions++ < 100) Compact(rng);
    std::this_thread::yield();
  });
  until_writers_done(30, [&](std::mt19937_64&) {
    if (hashes++ < 50) Hash();
    std::this_thread::yield();
  });
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failure_, "") << "seed " << seed_;
  EXPECT_GT(compactions, 0);
  ASSERT_TRUE(env_.store()->WaitCompaction().ok());
  RangeOptions all;
  std::lock_guard l(model_mu_);
  EXPECT_EQ(DiffRange(env_.store()->Range("k", "l", all),
                      model_.Expect("k", "l", all, model_.rev())),
            "");
}

}  // namespace
}  // namespace revkv::mvcc
