// PointCache: what a slot may hold, and what survives growing.
#include "mvcc/point_cache.h"

#include <cstdint>

#include "gtest/gtest.h"

namespace revkv::mvcc {
namespace {

constexpr uint64_t kHash = 0xabcd'0000'0000'0123;

TEST(PointCache, AnEmptyCacheHoldsNothing) {
  PointCache c;
  Revision r;
  EXPECT_FALSE(c.Lookup(kHash, &r));
  c.Store(kHash, Revision{5, 0});  // no table yet: nothing to store into
  EXPECT_FALSE(c.Lookup(kHash, &r));
  EXPECT_EQ(c.MemoryBytes(), 0u);
}

TEST(PointCache, AStoredRevisionIsFoundUnderItsHash) {
  PointCache c;
  c.Reserve(10);
  c.Store(kHash, Revision{7, 3});
  Revision r;
  ASSERT_TRUE(c.Lookup(kHash, &r));
  EXPECT_EQ(r, (Revision{7, 3}));
  c.Store(kHash, Revision{9, 0});
  ASSERT_TRUE(c.Lookup(kHash, &r));
  EXPECT_EQ(r, (Revision{9, 0}));
}

TEST(PointCache, AHashWithTheSameSlotButAnotherTagMisses) {
  PointCache c;
  c.Reserve(10);
  c.Store(kHash, Revision{7, 0});
  Revision r;
  EXPECT_FALSE(c.Lookup(kHash ^ (uint64_t{1} << 63), &r));
}

TEST(PointCache, TwoKeysOfOneBucketAreBothKept) {
  PointCache c;
  c.Reserve(10);
  const uint64_t other = kHash ^ (uint64_t{1} << 63);  // same bucket, another tag
  c.Store(kHash, Revision{7, 0});
  c.Store(other, Revision{8, 0});
  Revision r;
  ASSERT_TRUE(c.Lookup(kHash, &r));
  EXPECT_EQ(r, (Revision{7, 0}));
  ASSERT_TRUE(c.Lookup(other, &r));
  EXPECT_EQ(r, (Revision{8, 0}));
}

TEST(PointCache, AThirdKeyOfABucketEvictsTheOlderRevision) {
  PointCache c;
  c.Reserve(10);
  const uint64_t second = kHash ^ (uint64_t{1} << 63), third = kHash ^ (uint64_t{1} << 62);
  c.Store(kHash, Revision{7, 0});
  c.Store(second, Revision{8, 0});
  c.Store(third, Revision{9, 0});
  Revision r;
  EXPECT_FALSE(c.Lookup(kHash, &r));
  ASSERT_TRUE(c.Lookup(second, &r));
  EXPECT_EQ(r, (Revision{8, 0}));
  ASSERT_TRUE(c.Lookup(third, &r));
  EXPECT_EQ(r, (Revision{9, 0}));
}

TEST(PointCache, AWriteOfATagTheBucketHoldsReplacesThatWayOnly) {
  PointCache c;
  c.Reserve(10);
  const uint64_t other = kHash ^ (uint64_t{1} << 63);
  c.Store(kHash, Revision{7, 0});
  c.Store(other, Revision{8, 0});
  c.Fill(kHash, Revision{9, 0});  // the older way is other's, but kHash's is rewritten
  Revision r;
  ASSERT_TRUE(c.Lookup(kHash, &r));
  EXPECT_EQ(r, (Revision{9, 0}));
  ASSERT_TRUE(c.Lookup(other, &r));
  EXPECT_EQ(r, (Revision{8, 0}));
  c.Erase(kHash);
  EXPECT_FALSE(c.Lookup(kHash, &r));
  EXPECT_TRUE(c.Lookup(other, &r));
}

TEST(PointCache, EraseEmptiesTheSlot) {
  PointCache c;
  c.Reserve(10);
  c.Store(kHash, Revision{7, 0});
  c.Erase(kHash);
  Revision r;
  EXPECT_FALSE(c.Lookup(kHash, &r));
}

TEST(PointCache, ARevisionTooLargeToPackEmptiesTheSlotInsteadOfKeepingAnOlderOne) {
  PointCache c;
  c.Reserve(10);
  Revision r;
  c.Store(kHash, Revision{7, 0});
  c.Store(kHash, Revision{8, 128});  // sub revisions pack up to 127
  EXPECT_FALSE(c.Lookup(kHash, &r));
  c.Store(kHash, Revision{9, 127});
  ASSERT_TRUE(c.Lookup(kHash, &r));
  EXPECT_EQ(r, (Revision{9, 127}));
  c.Store(kHash, Revision{int64_t{1} << 40, 0});  // main revisions up to 2^40 - 1
  EXPECT_FALSE(c.Lookup(kHash, &r));
}

// Rule 1: growing copies each bucket into the buckets it splits into, so
// every entry is still found under its hash.
TEST(PointCache, GrowingKeepsEveryStoredRevisionUnderItsHash) {
  PointCache c;
  c.Reserve(10);
  const size_t before = c.MemoryBytes();
  for (uint64_t i = 0; i < 1000; ++i) c.Store(i * 0x9e37'79b9'7f4a'7c15ull, Revision{int64_t(i) + 2, 0});
  c.Reserve(1'000'000);
  ASSERT_GT(c.MemoryBytes(), before);
  EXPECT_GE(c.MemoryBytes(), 2'000'000 * sizeof(uint64_t));
  int found = 0;
  for (uint64_t i = 0; i < 1000; ++i) {
    Revision r;
    if (c.Lookup(i * 0x9e37'79b9'7f4a'7c15ull, &r)) {
      EXPECT_EQ(r.main, int64_t(i) + 2);
      ++found;
    }
  }
  // i * odd constant: distinct low 11 bits, so no two shared a bucket of
  // the 2048 before growing, and none was lost.
  EXPECT_EQ(found, 1000);
}

// Rule 1: a shrink must not bring a grow's copies back to their keys' home
// (where a deleted key's stale copy would pass the reader's check): it
// starts an empty table.
TEST(PointCache, ShrinkingGivesBackMemoryAndStartsAnEmptyTable) {
  PointCache c;
  c.Reserve(100'000);
  const size_t big = c.MemoryBytes();
  for (uint64_t i = 0; i < 100; ++i) c.Store(i * 0x9e37'79b9'7f4a'7c15ull, Revision{int64_t(i) + 2, 0});
  EXPECT_FALSE(c.CanShrink(big / sizeof(uint64_t) / 4));  // not for a table in use
  ASSERT_TRUE(c.CanShrink(100));
  c.Shrink(100);
  EXPECT_LT(c.MemoryBytes(), big / 8);
  EXPECT_GE(c.MemoryBytes(), 200 * sizeof(uint64_t));
  for (uint64_t i = 0; i < 100; ++i) {
    Revision r;
    EXPECT_FALSE(c.Lookup(i * 0x9e37'79b9'7f4a'7c15ull, &r)) << i;
  }
  c.Store(kHash, Revision{9, 0});  // the new table works
  Revision r;
  ASSERT_TRUE(c.Lookup(kHash, &r));
  EXPECT_EQ(r, (Revision{9, 0}));
}

TEST(PointCache, ClearEmptiesAndFrees) {
  PointCache c;
  c.Reserve(10);
  c.Store(kHash, Revision{7, 0});
  c.Clear();
  Revision r;
  EXPECT_FALSE(c.Lookup(kHash, &r));
  EXPECT_EQ(c.MemoryBytes(), 0u);
}

}  // namespace
}  // namespace revkv::mvcc
