// Randomised model check: after any mix of puts, deletes, bucket resets,
// commits and defrags, every view's ranges (any bounds, any limit) equal a
// plain std::map model of the state when the view was taken -- for new views
// and for views kept across later writes. REVKV_SEED replays one seed.
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "gtest/gtest.h"
#include "tests/backend/backend_test_util.h"

namespace revkv::backend {
namespace {

using Model = std::map<std::string, testutil::KV>;  // bucket -> contents

const char* const kBuckets[] = {"x", "y"};

std::string RandKey(std::mt19937_64& rng) {
  return "k" + std::to_string(rng() % 40);
}

// Range [start, end) with limit over the model, etcd semantics.
testutil::KV ModelRange(const Model& m, const std::string& bucket, const std::string& start,
                        const std::string& end, size_t limit) {
  testutil::KV out;
  auto it = m.find(bucket);
  if (it == m.end()) return out;
  if (end.empty()) {
    auto k = it->second.find(start);
    if (k != it->second.end()) out.insert(*k);
    return out;
  }
  for (auto k = it->second.lower_bound(start); k != it->second.end() && k->first < end; ++k) {
    if (limit != 0 && out.size() >= limit) break;
    out.insert(*k);
  }
  return out;
}

void CheckView(ConcurrentReadTx& tx, const Model& m, std::mt19937_64& rng) {
  for (int q = 0; q < 5; ++q) {
    std::string bucket = kBuckets[rng() % 2];
    std::string start = RandKey(rng);
    std::string end = rng() % 4 == 0 ? "" : RandKey(rng);
    if (!end.empty() && end < start) std::swap(start, end);
    size_t limit = rng() % 3 == 0 ? 0 : 1 + rng() % 6;
    absl::StatusOr<KeyValues> got = tx.UnsafeRange(bucket, start, end, limit);
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_EQ(testutil::ToMap(*got), ModelRange(m, bucket, start, end, limit))
        << bucket << " [" << start << ", " << end << ") limit " << limit;
    for (size_t i = 1; i < got->size(); ++i) ASSERT_LT(got->keys[i - 1], got->keys[i]);
  }
}

TEST(ModelTest, ViewsMatchTheModelThroughRandomHistories) {
  std::vector<uint64_t> seeds = {11, 22, 33, 44};
  if (const char* e = getenv("REVKV_SEED"); e != nullptr && *e != '\0') {
    seeds = {std::strtoull(e, nullptr, 0)};
  }
  for (uint64_t seed : seeds) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    ASSERT_OK_AND_ASSIGN(auto b, NewTmpBackend(testutil::ManualConfig()));
    Model model;
    ASSERT_OK(testutil::Write(*b, [&](BatchTx& tx) {
      for (const char* name : kBuckets) {
        if (absl::Status s = tx.UnsafeCreateBucket(name); !s.ok()) return s;
        model[name];
      }
      return absl::OkStatus();
    }));
    struct Kept {
      std::unique_ptr<ConcurrentReadTx> tx;
      Model model;
    };
    std::vector<Kept> kept;
    for (int step = 0; step < 1500; ++step) {
      const int op = int(rng() % 100);
      if (op < 70) {  // one Lock cycle of a few writes
        ASSERT_OK(testutil::Write(*b, [&](BatchTx& tx) {
          for (int n = 1 + int(rng() % 4); n > 0; --n) {
            std::string bucket = kBuckets[rng() % 2];
            std::string key = RandKey(rng);
            if (rng() % 3 == 0) {
              if (absl::Status s = tx.UnsafeDelete(bucket, key); !s.ok()) return s;
              model[bucket].erase(key);
            } else {
              std::string value = std::to_string(rng() % 1000);
              if (absl::Status s = tx.UnsafePut(bucket, key, value); !s.ok()) return s;
              model[bucket][key] = value;
            }
          }
          return absl::OkStatus();
        }));
      } else if (op < 72) {  // reset a bucket
        std::string bucket = kBuckets[rng() % 2];
        ASSERT_OK(testutil::Write(*b, [&](BatchTx& tx) {
          if (absl::Status s = tx.UnsafeDeleteBucket(bucket); !s.ok()) return s;
          return tx.UnsafeCreateBucket(bucket);
        }));
        model[bucket].clear();
      } else if (op < 80) {
        ASSERT_OK(b->ForceCommit());
      } else if (op < 81) {
        ASSERT_OK(b->Defrag());
      } else if (op < 88) {  // keep a view for later
        ASSERT_OK_AND_ASSIGN(auto tx, b->NewConcurrentReadTx());
        kept.push_back(Kept{std::move(tx), model});
        if (kept.size() > 6) kept.erase(kept.begin() + int(rng() % kept.size()));
      } else {
        ASSERT_OK_AND_ASSIGN(auto tx, b->NewConcurrentReadTx());
        CheckView(*tx, model, rng);
        if (!kept.empty()) {
          Kept& k = kept[rng() % kept.size()];
          CheckView(*k.tx, k.model, rng);
        }
      }
      if (HasFatalFailure()) return;
    }
    kept.clear();
    // The full contents, through ForEach, at the end.
    ASSERT_OK_AND_ASSIGN(auto tx, b->NewConcurrentReadTx());
    for (const char* name : kBuckets) EXPECT_EQ(testutil::ReadAll(*tx, name), model[name]);
  }
}

}  // namespace
}  // namespace revkv::backend
