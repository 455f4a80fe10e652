// Hash: equal contents hash equal whatever the history; ignores skip pairs.
#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "gtest/gtest.h"
#include "tests/backend/backend_test_util.h"

namespace revkv::backend {
namespace {

using testutil::ManualConfig;
using testutil::Write;

// Writes keys 0..n-1 of two buckets in the given order, one Unlock each,
// plus garbage that is deleted again.
absl::Status Fill(Backend& b, const std::vector<int>& order, int commit_every) {
  absl::Status s = Write(b, [](BatchTx& tx) {
    if (absl::Status s = tx.UnsafeCreateBucket("a"); !s.ok()) return s;
    return tx.UnsafeCreateBucket("b");
  });
  if (!s.ok()) return s;
  int n = 0;
  for (int i : order) {
    s = Write(b, [&](BatchTx& tx) {
      std::string k = "key" + std::to_string(i);
      if (absl::Status s = tx.UnsafePut("a", k, "va" + std::to_string(i)); !s.ok()) return s;
      if (absl::Status s = tx.UnsafePut("b", k, "vb" + std::to_string(i)); !s.ok()) return s;
      if (absl::Status s = tx.UnsafePut("a", "tmp" + k, "x"); !s.ok()) return s;
      return tx.UnsafeDelete("a", "tmp" + k);
    });
    if (!s.ok()) return s;
    if (++n % commit_every == 0) {
      if (absl::Status s = b.ForceCommit(); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

std::vector<int> Order(int n, uint64_t seed) {
  std::vector<int> v(n);
  for (int i = 0; i < n; ++i) v[i] = i;
  if (seed != 0) std::shuffle(v.begin(), v.end(), std::mt19937_64(seed));
  return v;
}

TEST(HashTest, EqualAcrossInsertOrdersAndCommitBoundaries) {
  ASSERT_OK_AND_ASSIGN(auto b1, NewTmpBackend(ManualConfig()));
  ASSERT_OK_AND_ASSIGN(auto b2, NewTmpBackend(ManualConfig()));
  ASSERT_OK(Fill(*b1, Order(3000, 0), 1000000));
  ASSERT_OK(Fill(*b2, Order(3000, 42), 7));
  ASSERT_OK_AND_ASSIGN(uint64_t h1, b1->Hash());
  ASSERT_OK_AND_ASSIGN(uint64_t h2, b2->Hash());
  EXPECT_EQ(h1, h2);
}

TEST(HashTest, DiffersWhenAValueDiffers) {
  ASSERT_OK_AND_ASSIGN(auto b, NewTmpBackend(ManualConfig()));
  ASSERT_OK(Fill(*b, Order(100, 0), 10));
  ASSERT_OK_AND_ASSIGN(uint64_t before, b->Hash());
  ASSERT_OK(Write(*b, [](BatchTx& tx) { return tx.UnsafePut("b", "key5", "changed"); }));
  ASSERT_OK_AND_ASSIGN(uint64_t after, b->Hash());
  EXPECT_NE(before, after);
}

TEST(HashTest, SeesBufferedWrites) {
  ASSERT_OK_AND_ASSIGN(auto b, NewTmpBackend(ManualConfig()));
  ASSERT_OK(Fill(*b, Order(10, 0), 1000));
  ASSERT_OK_AND_ASSIGN(uint64_t h1, b->Hash());
  ASSERT_OK(Write(*b, [](BatchTx& tx) { return tx.UnsafePut("a", "new", "v"); }));
  ASSERT_OK_AND_ASSIGN(uint64_t h2, b->Hash());
  EXPECT_NE(h1, h2);
}

TEST(HashTest, IgnoredPairsDoNotCount) {
  ASSERT_OK_AND_ASSIGN(auto b1, NewTmpBackend(ManualConfig()));
  ASSERT_OK_AND_ASSIGN(auto b2, NewTmpBackend(ManualConfig()));
  ASSERT_OK(Fill(*b1, Order(50, 0), 10));
  ASSERT_OK(Fill(*b2, Order(50, 0), 10));
  ASSERT_OK(Write(*b2, [](BatchTx& tx) { return tx.UnsafePut("b", "key7", "other"); }));
  auto ignore = [](std::string_view bucket, std::string_view key) {
    return bucket == "b" && key == "key7";
  };
  ASSERT_OK_AND_ASSIGN(uint64_t h1, b1->Hash(ignore));
  ASSERT_OK_AND_ASSIGN(uint64_t h2, b2->Hash(ignore));
  EXPECT_EQ(h1, h2);
  ASSERT_OK_AND_ASSIGN(uint64_t full1, b1->Hash());
  EXPECT_NE(full1, h1);
}

TEST(HashTest, BucketBoundariesCount) {
  // "a"+"bc" and "ab"+"c" must not collide.
  ASSERT_OK_AND_ASSIGN(auto b1, NewTmpBackend(ManualConfig()));
  ASSERT_OK_AND_ASSIGN(auto b2, NewTmpBackend(ManualConfig()));
  ASSERT_OK(Write(*b1, [](BatchTx& tx) {
    if (absl::Status s = tx.UnsafeCreateBucket("x"); !s.ok()) return s;
    return tx.UnsafePut("x", "a", "bc");
  }));
  ASSERT_OK(Write(*b2, [](BatchTx& tx) {
    if (absl::Status s = tx.UnsafeCreateBucket("x"); !s.ok()) return s;
    return tx.UnsafePut("x", "ab", "c");
  }));
  ASSERT_OK_AND_ASSIGN(uint64_t h1, b1->Hash());
  ASSERT_OK_AND_ASSIGN(uint64_t h2, b2->Hash());
  EXPECT_NE(h1, h2);
}

TEST(HashTest, UnchangedByDefrag) {
  ASSERT_OK_AND_ASSIGN(auto b, NewTmpBackend(ManualConfig()));
  ASSERT_OK(Fill(*b, Order(2000, 9), 5));
  ASSERT_OK_AND_ASSIGN(uint64_t before, b->Hash());
  ASSERT_OK(b->Defrag());
  ASSERT_OK_AND_ASSIGN(uint64_t after, b->Hash());
  EXPECT_EQ(before, after);
}

}  // namespace
}  // namespace revkv::backend
