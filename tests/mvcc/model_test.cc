// Store against a reference model that keeps the state at every revision:
// random puts, deletes, transactions, compactions and reopens, with every
// read checked at random revisions. The seed is printed; REVKV_SEED sets it.
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <random>

#include "backend/backend.h"
#include "gtest/gtest.h"
#include "mvcc/store.h"
#include "tests/mvcc/store_env.h"

namespace revkv::mvcc {
namespace {

using State = std::map<std::string, KeyValue>;

class Model {
 public:
  Model() { states_.push_back(State()); states_.push_back(State()); }  // revisions 0, 1
  int64_t rev() const { return int64_t(states_.size()) - 1; }
  const State& at(int64_t rev) const { return states_[size_t(rev)]; }

  // Applies one transaction's changes as the next revision (if any change).
  void Apply(const std::vector<std::pair<std::string, std::optional<std::string>>>& ops) {
    State next = states_.back();
    int64_t r = rev() + 1;
    bool changed = false;
    for (const auto& [key, value] : ops) {
      if (value.has_value()) {
        KeyValue kv{key, r, r, 1, *value, 0};
        auto it = next.find(key);
        if (it != next.end()) {
          kv.create_revision = it->second.create_revision;
          kv.version = it->second.version + 1;
        }
        next[key] = kv;
        changed = true;
      } else if (next.erase(key) > 0) {
        changed = true;
      }
    }
    if (changed) states_.push_back(std::move(next));
  }

 private:
  std::vector<State> states_;
};

class ModelTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    env_.Open();
    store_ = env_.store();
  }
  void Reopen() {
    env_.Reopen();
    store_ = env_.store();
  }

  StoreEnv env_{/*batch_limit=*/50};  // commit often: reads merge buffer and btree
  Store* store_ = nullptr;
};

TEST_P(ModelTest, MatchesTheModelAtEveryRevision) {
  unsigned seed = unsigned(GetParam());
  if (const char* env = getenv("REVKV_SEED")) seed = unsigned(strtoul(env, nullptr, 10));
  std::printf("seed %u\n", seed);
  std::mt19937_64 rng(seed);
  Model model;
  int64_t compacted = -1;
  auto key = [&] { return "k" + std::to_string(rng() % 40); };

  for (int step = 0; step < 1500; ++step) {
    int op = int(rng() % 100);
    if (op < 40) {
      std::string k = key(), v = std::to_string(rng() % 1000);
      ASSERT_TRUE(store_->Put(k, v).ok());
      model.Apply({{k, v}});
    } else if (op < 50) {
      std::string a = key(), b = key();
      if (b < a) std::swap(a, b);
      auto d = store_->DeleteRange(a, b);
      ASSERT_TRUE(d.ok());
      std::vector<std::pair<std::string, std::optional<std::string>>> ops;
      const State& cur = model.at(model.rev());
      for (auto it = cur.lower_bound(a); it != cur.end() && it->first < b; ++it) {
        ops.push_back({it->first, std::nullopt});
      }
      EXPECT_EQ(d->first, int64_t(ops.size())) << "step " << step;
      model.Apply(ops);
    } else if (op < 65) {
      // A transaction of puts and single-key deletes with read-your-writes.
      auto txn = store_->Write();
      ASSERT_TRUE(txn.ok());
      std::vector<std::pair<std::string, std::optional<std::string>>> ops;
      int n = 1 + int(rng() % 4);
      for (int i = 0; i < n; ++i) {
        std::string k = key();
        if (rng() % 3 == 0) {
          ASSERT_TRUE((*txn)->DeleteRange(k, "").ok());
          ops.push_back({k, std::nullopt});
        } else {
          std::string v = "t" + std::to_string(rng() % 1000);
          ASSERT_TRUE((*txn)->Put(k, v).ok());
          ops.push_back({k, v});
          auto r = (*txn)->Range(k, "", {});
          ASSERT_TRUE(r.ok());
          ASSERT_EQ(r->kvs.size(), 1u);
          EXPECT_EQ(r->kvs[0].value, v);
        }
      }
      ASSERT_TRUE((*txn)->End().ok());
      model.Apply(ops);
    } else if (op < 70 && compacted < model.rev()) {
      int64_t target = compacted + 1 + int64_t(rng() % uint64_t(model.rev() - compacted));
      ASSERT_TRUE(store_->Compact(target).ok()) << target;
      compacted = target;
      if (rng() % 2) {
        ASSERT_TRUE(store_->WaitCompaction().ok());
      }
    } else if (op >= 70 && op < 72) {
      ASSERT_TRUE(store_->WaitCompaction().ok());
      auto before = store_->HashByRev(0);
      ASSERT_TRUE(before.ok());
      // Half the closes leave no checkpoint (as a crash would), so opens
      // exercise both the checkpoint and the rebuild from the key bucket.
      StoreOptions o;
      o.checkpoint_index = rng() % 2 == 0;
      env_.set_options(o);
      Reopen();
      auto after = store_->HashByRev(0);
      ASSERT_TRUE(after.ok());
      EXPECT_EQ(after->hash, before->hash) << "step " << step;
    } else {
      // Read everything at a random revision the store still has.
      int64_t lo = std::max<int64_t>(compacted, 1);
      int64_t rev = lo + int64_t(rng() % uint64_t(model.rev() - lo + 1));
      auto r = store_->Range("", std::string(1, '\0'), RangeOptions{0, rev, false});
      ASSERT_TRUE(r.ok()) << r.status() << " rev " << rev << " step " << step;
      const State& want = model.at(rev);
      ASSERT_EQ(r->kvs.size(), want.size()) << "rev " << rev << " step " << step;
      size_t i = 0;
      for (const auto& [k, kv] : want) EXPECT_EQ(r->kvs[i++], kv) << "rev " << rev;
      EXPECT_EQ(r->rev, model.rev());
      if (compacted > 1) {
        auto old = store_->Range("", std::string(1, '\0'), RangeOptions{0, compacted - 1, false});
        EXPECT_TRUE(IsCompacted(old.status()));
      }
    }
    ASSERT_EQ(store_->Rev(), model.rev()) << "step " << step;
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, ModelTest, ::testing::Values(1, 2, 3));

}  // namespace
}  // namespace revkv::mvcc
