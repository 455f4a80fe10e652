// Hash: equal contents hash equal whatever the history; ignores skip pairs.
// EtcdHash: etcd 3.4's CRC-32C of names, keys and values, computed here by
// hand for small contents.
#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "gtest/gtest.h"
#include "tests/backend/backend_test_util.h"
#include "util/crc32c.h"

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

// Bucket "b" written before "a", keys out of order: the hash follows the
// names' and keys' byte order, not the writes'.
absl::Status SmallContents(Backend& b) {
  return Write(b, [](BatchTx& tx) {
    if (absl::Status s = tx.UnsafeCreateBucket("b"); !s.ok()) return s;
    if (absl::Status s = tx.UnsafePut("b", "k2", "v2"); !s.ok()) return s;
    if (absl::Status s = tx.UnsafePut("b", "k1", "v1"); !s.ok()) return s;
    if (absl::Status s = tx.UnsafeCreateBucket("a"); !s.ok()) return s;
    return tx.UnsafePut("a", "x", "y");
  });
}

TEST(EtcdHashTest, IsCrc32cOfNamesKeysAndValuesInOrder) {
  ASSERT_OK_AND_ASSIGN(auto b, NewTmpBackend(ManualConfig()));
  ASSERT_OK(SmallContents(*b));
  // Pending, not yet committed: EtcdHash commits first.
  ASSERT_OK_AND_ASSIGN(uint32_t h, b->EtcdHash());
  EXPECT_EQ(h, util::Crc32c("axybk1v1k2v2"));
  // An empty bucket still adds its name.
  ASSERT_OK(Write(*b, [](BatchTx& tx) { return tx.UnsafeCreateBucket("c"); }));
  ASSERT_OK_AND_ASSIGN(uint32_t with_c, b->EtcdHash());
  EXPECT_EQ(with_c, util::Crc32c("axybk1v1k2v2c"));
}

TEST(EtcdHashTest, IgnoresPairsAndWholeBuckets) {
  ASSERT_OK_AND_ASSIGN(auto b, NewTmpBackend(ManualConfig()));
  ASSERT_OK(SmallContents(*b));
  ASSERT_OK_AND_ASSIGN(uint32_t no_k1, b->EtcdHash([](std::string_view bucket, std::string_view key) {
    return bucket == "b" && key == "k1";
  }));
  // As etcd's ignore set: the bucket's name stays, the pair goes.
  EXPECT_EQ(no_k1, util::Crc32c("axybk2v2"));
  ASSERT_OK_AND_ASSIGN(uint32_t no_a, b->EtcdHash([](std::string_view bucket, std::string_view) {
    return bucket == "a";
  }));
  EXPECT_EQ(no_a, util::Crc32c("bk1v1k2v2"));
}

TEST(EtcdHashTest, EqualAcrossHistoriesAndDefrag) {
  ASSERT_OK_AND_ASSIGN(auto b1, NewTmpBackend(ManualConfig()));
  ASSERT_OK_AND_ASSIGN(auto b2, NewTmpBackend(ManualConfig()));
  ASSERT_OK(Fill(*b1, Order(2000, 0), 1000000));
  ASSERT_OK(Fill(*b2, Order(2000, 42), 7));
  ASSERT_OK_AND_ASSIGN(uint32_t h1, b1->EtcdHash());
  ASSERT_OK_AND_ASSIGN(uint32_t h2, b2->EtcdHash());
  EXPECT_EQ(h1, h2);
  ASSERT_OK(b2->Defrag());
  ASSERT_OK_AND_ASSIGN(uint32_t defragged, b2->EtcdHash());
  EXPECT_EQ(defragged, h1);
  ASSERT_OK(Write(*b2, [](BatchTx& tx) { return tx.UnsafePut("b", "key5", "changed"); }));
  ASSERT_OK_AND_ASSIGN(uint32_t changed, b2->EtcdHash());
  EXPECT_NE(changed, h1);
}

}  // namespace
}  // namespace revkv::backend
