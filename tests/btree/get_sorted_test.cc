// Bucket::GetSorted: many lookups at once answer exactly what a Get per key
// answers, whatever the order of the keys and the shape of the tree.
//
// Replay the shuffled-order test with REVKV_SEED=<seed>.
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "btree/bucket.h"
#include "btree/db.h"
#include "gtest/gtest.h"
#include "tests/btree/test_util.h"

namespace revkv::btree {
namespace {

using testutil::ScopedTempDir;

// Even numbers only, so that every odd key falls between two stored ones.
std::string Key(int i) { return absl::StrFormat("k%06d", i); }
std::string Value(int i) { return absl::StrFormat("v%d-%s", i, std::string(i % 70, 'x')); }
constexpr int kMany = 20000;  // three levels of 4 KiB pages

class GetSortedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(dir_.File("db"), Options{.no_sync = true});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
  }

  // Bucket "b" with keys Key(0), Key(2), ..., Key(2 * (n - 1)).
  void FillEven(int n) {
    ASSERT_OK(db_->Update([&](Tx& tx) -> absl::Status {
      absl::StatusOr<Bucket*> b = tx.CreateBucketIfNotExists("b");
      if (!b.ok()) return b.status();
      for (int i = 0; i < n; ++i) {
        if (absl::Status s = (*b)->Put(Key(2 * i), Value(2 * i)); !s.ok()) return s;
      }
      return absl::OkStatus();
    }));
  }

  // Compares GetSorted(keys) with a Get per key, in `tx`'s bucket "b".
  void ExpectSameAsGet(Tx& tx, const std::vector<std::string>& keys) {
    absl::StatusOr<Bucket*> b = tx.GetBucket("b");
    ASSERT_TRUE(b.ok()) << b.status();
    std::vector<std::string_view> views(keys.begin(), keys.end());
    std::vector<Bucket::Found> found;
    ASSERT_OK((*b)->GetSorted(views, &found));
    ASSERT_EQ(found.size(), keys.size());
    for (size_t i = 0; i < keys.size(); ++i) {
      std::string_view want;
      absl::Status s = (*b)->Get(keys[i], &want);
      ASSERT_TRUE(s.ok() || absl::IsNotFound(s) || absl::IsFailedPrecondition(s)) << s;
      ASSERT_EQ(found[i].found, s.ok()) << keys[i];
      if (s.ok()) {
        ASSERT_EQ(found[i].value, want) << keys[i];
      }
    }
  }

  std::unique_ptr<Tx> Read() {
    absl::StatusOr<std::unique_ptr<Tx>> tx = db_->Begin(false);
    EXPECT_TRUE(tx.ok()) << tx.status();
    return tx.ok() ? *std::move(tx) : nullptr;
  }

  // Every stored key, the keys between them and keys beyond both ends.
  static std::vector<std::string> AllProbes(int n) {
    std::vector<std::string> keys = {"a", "k"};
    for (int i = 0; i <= 2 * n; ++i) keys.push_back(Key(i));
    keys.push_back("z");
    return keys;
  }

  ScopedTempDir dir_;
  std::unique_ptr<DB> db_;
};

TEST_F(GetSortedTest, AscendingKeysFindEveryStoredKeyAndNoOther) {
  FillEven(kMany);
  std::unique_ptr<Tx> tx = Read();
  ASSERT_NE(tx, nullptr);
  ASSERT_OK_AND_ASSIGN(Bucket * b, tx->GetBucket("b"));
  ASSERT_OK_AND_ASSIGN(BucketStats stats, b->Stats());
  ASSERT_GE(stats.depth, 3u);  // paths share some levels and not others
  ExpectSameAsGet(*tx, AllProbes(kMany));
}

TEST_F(GetSortedTest, SparseAscendingKeysSkippingManyLeavesAreFound) {
  FillEven(kMany);
  std::vector<std::string> keys;
  for (int i = 0; i < 2 * kMany; i += 997) keys.push_back(Key(i));  // odd and even
  std::unique_ptr<Tx> tx = Read();
  ASSERT_NE(tx, nullptr);
  ExpectSameAsGet(*tx, keys);
}

TEST_F(GetSortedTest, KeysInAnyOrderAndRepeatedKeysAreAnswered) {
  const char* env = std::getenv("REVKV_SEED");
  const uint64_t seed = env != nullptr ? std::strtoull(env, nullptr, 10) : std::random_device{}();
  std::cout << "GetSortedTest seed: REVKV_SEED=" << seed << "\n";
  std::mt19937_64 rng(seed);
  FillEven(kMany);
  std::vector<std::string> keys = AllProbes(kMany);
  std::shuffle(keys.begin(), keys.end(), rng);
  keys.resize(3000);
  keys.push_back(keys[0]);
  keys.push_back(keys[0]);
  std::unique_ptr<Tx> tx = Read();
  ASSERT_NE(tx, nullptr);
  ExpectSameAsGet(*tx, keys);
}

TEST_F(GetSortedTest, AnEmptyBucketAndAOnePageTreeAnswerAsGet) {
  FillEven(0);
  {
    std::unique_ptr<Tx> tx = Read();
    ASSERT_NE(tx, nullptr);
    ExpectSameAsGet(*tx, AllProbes(3));
  }
  FillEven(10);
  std::unique_ptr<Tx> tx = Read();
  ASSERT_NE(tx, nullptr);
  ExpectSameAsGet(*tx, AllProbes(10));
}

TEST_F(GetSortedTest, NoKeysGiveNoAnswers) {
  FillEven(10);
  std::unique_ptr<Tx> tx = Read();
  ASSERT_NE(tx, nullptr);
  ASSERT_OK_AND_ASSIGN(Bucket * b, tx->GetBucket("b"));
  std::vector<Bucket::Found> found(3);
  ASSERT_OK(b->GetSorted({}, &found));
  EXPECT_TRUE(found.empty());
}

TEST_F(GetSortedTest, NestedBucketsAreNotFoundAndLargeValuesAreWhole) {
  FillEven(2000);
  const std::string big(20000, 'B');
  ASSERT_OK(db_->Update([&](Tx& tx) -> absl::Status {
    absl::StatusOr<Bucket*> b = tx.GetBucket("b");
    if (!b.ok()) return b.status();
    if (absl::Status s = (*b)->CreateBucket(Key(1001)).status(); !s.ok()) return s;
    return (*b)->Put(Key(1003), big);
  }));
  std::unique_ptr<Tx> tx = Read();
  ASSERT_NE(tx, nullptr);
  ASSERT_OK_AND_ASSIGN(Bucket * b, tx->GetBucket("b"));
  const std::vector<std::string> owned = {Key(1000), Key(1001), Key(1003)};
  const std::vector<std::string_view> keys(owned.begin(), owned.end());
  std::vector<Bucket::Found> found;
  ASSERT_OK(b->GetSorted(keys, &found));
  ASSERT_EQ(found.size(), 3u);
  EXPECT_TRUE(found[0].found);
  EXPECT_EQ(found[0].value, Value(1000));
  EXPECT_FALSE(found[1].found);
  EXPECT_TRUE(found[2].found);
  EXPECT_EQ(found[2].value, big);
}

TEST_F(GetSortedTest, AWriteTransactionSeesItsOwnChanges) {
  FillEven(kMany);
  ASSERT_OK(db_->Update([&](Tx& tx) -> absl::Status {
    absl::StatusOr<Bucket*> b = tx.GetBucket("b");
    if (!b.ok()) return b.status();
    for (int i = 1; i < 2 * kMany; i += 40) {
      if (absl::Status s = (*b)->Put(Key(i), "new"); !s.ok()) return s;
    }
    for (int i = 0; i < 2 * kMany; i += 60) {
      if (absl::Status s = (*b)->Delete(Key(i)); !s.ok()) return s;
    }
    ExpectSameAsGet(tx, AllProbes(kMany));
    const std::vector<std::string> owned = {Key(0), Key(1), Key(2)};
    const std::vector<std::string_view> keys(owned.begin(), owned.end());
    std::vector<Bucket::Found> found;
    if (absl::Status s = (*b)->GetSorted(keys, &found); !s.ok()) return s;
    EXPECT_FALSE(found[0].found);  // deleted
    EXPECT_TRUE(found[1].found);   // added
    EXPECT_EQ(found[1].value, "new");
    EXPECT_TRUE(found[2].found);
    return absl::OkStatus();
  }));
}

TEST_F(GetSortedTest, ATreeReshapedByDeletesAndSplitsIsStillAnsweredAsGet) {
  FillEven(kMany);
  ASSERT_OK(db_->Update([&](Tx& tx) -> absl::Status {
    absl::StatusOr<Bucket*> b = tx.GetBucket("b");
    if (!b.ok()) return b.status();
    // Empties most of the tree's left half and packs its right half.
    for (int i = 0; i < kMany; i += 2) {
      if (i % 100 != 0) {
        if (absl::Status s = (*b)->Delete(Key(i)); !s.ok()) return s;
      }
    }
    for (int i = kMany + 1; i < 2 * kMany; i += 2) {
      if (absl::Status s = (*b)->Put(Key(i), Value(i)); !s.ok()) return s;
    }
    return absl::OkStatus();
  }));
  std::unique_ptr<Tx> tx = Read();
  ASSERT_NE(tx, nullptr);
  ExpectSameAsGet(*tx, AllProbes(kMany));
}

}  // namespace
}  // namespace revkv::btree
