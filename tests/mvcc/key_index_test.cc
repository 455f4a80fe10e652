// KeyIndex: generations, versions and compaction as etcd's keyIndex has them.
#include "mvcc/key_index.h"

#include "gtest/gtest.h"

namespace revkv::mvcc {
namespace {

// The history of etcd's key_index_test:
//   put 2, put 4, del 6 | put 8, put 10, del 12 | put 14, put 14.1, del 16 | put 17
KeyIndex EtcdHistory() {
  KeyIndex ki;
  ki.Put({2, 0});
  ki.Put({4, 0});
  EXPECT_TRUE(ki.Tombstone({6, 0}).ok());
  ki.Put({8, 0});
  ki.Put({10, 0});
  EXPECT_TRUE(ki.Tombstone({12, 0}).ok());
  ki.Put({14, 0});
  ki.Put({14, 1});
  EXPECT_TRUE(ki.Tombstone({16, 0}).ok());
  ki.Put({17, 0});
  return ki;
}

TEST(KeyIndex, GetFindsTheRevisionLiveAtEachPoint) {
  KeyIndex ki = EtcdHistory();
  struct Case {
    int64_t at;
    bool found;
    Revision modified, created;
    int64_t version;
  };
  std::vector<Case> cases = {
      {1, false, {}, {}, 0},          {2, true, {2, 0}, {2, 0}, 1},
      {3, true, {2, 0}, {2, 0}, 1},   {4, true, {4, 0}, {2, 0}, 2},
      {5, true, {4, 0}, {2, 0}, 2},   {6, false, {}, {}, 0},
      {7, false, {}, {}, 0},          {8, true, {8, 0}, {8, 0}, 1},
      {11, true, {10, 0}, {8, 0}, 2}, {12, false, {}, {}, 0},
      {14, true, {14, 1}, {14, 0}, 2}, {15, true, {14, 1}, {14, 0}, 2},
      {16, false, {}, {}, 0},         {17, true, {17, 0}, {17, 0}, 1},
      {100, true, {17, 0}, {17, 0}, 1},
  };
  for (const Case& c : cases) {
    KeyAt at;
    absl::Status s = ki.Get(c.at, &at);
    ASSERT_EQ(s.ok(), c.found) << "at " << c.at;
    if (!c.found) continue;
    EXPECT_EQ(at.modified, c.modified) << "at " << c.at;
    EXPECT_EQ(at.created, c.created) << "at " << c.at;
    EXPECT_EQ(at.version, c.version) << "at " << c.at;
  }
}

TEST(KeyIndex, TombstoneOfADeletedKeyIsNotFound) {
  KeyIndex ki;
  ki.Put({2, 0});
  ASSERT_TRUE(ki.Tombstone({3, 0}).ok());
  EXPECT_TRUE(absl::IsNotFound(ki.Tombstone({4, 0})));
  KeyAt at;
  EXPECT_FALSE(ki.Get(10, &at).ok());
}

TEST(KeyIndex, CompactKeepsNewestRevisionAtOrBelow) {
  KeyIndex ki = EtcdHistory();
  RevisionSet keep;
  ki.Compact(5, &keep);
  EXPECT_EQ(keep, (RevisionSet{{4, 0}}));
  KeyAt at;
  ASSERT_TRUE(ki.Get(5, &at).ok());
  EXPECT_EQ(at.modified, (Revision{4, 0}));
  EXPECT_EQ(at.version, 2);  // versions survive compaction
}

TEST(KeyIndex, CompactAtATombstoneDropsTheGeneration) {
  KeyIndex ki = EtcdHistory();
  RevisionSet keep;
  ki.Compact(6, &keep);
  EXPECT_TRUE(keep.empty());
  KeyAt at;
  EXPECT_FALSE(ki.Get(5, &at).ok());
  ASSERT_TRUE(ki.Get(8, &at).ok());
  EXPECT_EQ(at.created, (Revision{8, 0}));
}

TEST(KeyIndex, CompactInAGapBetweenGenerationsKeepsNothing) {
  KeyIndex ki = EtcdHistory();
  RevisionSet keep;
  ki.Compact(7, &keep);
  EXPECT_TRUE(keep.empty());
  ki.Compact(15, &keep);
  EXPECT_EQ(keep, (RevisionSet{{14, 1}}));
}

TEST(KeyIndex, CompactPastTheFinalTombstoneEmptiesTheIndex) {
  KeyIndex ki;
  ki.Put({2, 0});
  ASSERT_TRUE(ki.Tombstone({3, 0}).ok());
  RevisionSet keep;
  ki.Compact(3, &keep);
  EXPECT_TRUE(ki.IsEmpty());
  EXPECT_TRUE(keep.empty());
}

TEST(KeyIndex, KeepMatchesCompactWithoutChangingTheIndex) {
  for (int64_t rev = 1; rev <= 18; ++rev) {
    KeyIndex ki = EtcdHistory();
    RevisionSet kept, compacted;
    ki.Keep(rev, &kept);
    ki.Compact(rev, &compacted);
    EXPECT_EQ(kept, compacted) << "rev " << rev;
  }
}

TEST(KeyIndex, RestoreStartsAGenerationAtTheStoredVersion) {
  KeyIndex ki;
  ki.Restore({5, 0}, {9, 2}, 4);
  KeyAt at;
  ASSERT_TRUE(ki.Get(9, &at).ok());
  EXPECT_EQ(at.version, 4);
  EXPECT_EQ(at.created, (Revision{5, 0}));
  ki.Put({10, 0});
  ASSERT_TRUE(ki.Get(10, &at).ok());
  EXPECT_EQ(at.version, 5);
}

TEST(KeyIndex, ASingleRevisionKeyIsHeldInline) {
  KeyIndex ki;
  ki.Put({7, 2});
  EXPECT_EQ(ki.HeapBytes(), 0u);
  KeyAt at;
  ASSERT_TRUE(ki.Get(7, &at).ok());
  EXPECT_EQ(at.modified, (Revision{7, 2}));
  EXPECT_EQ(at.created, (Revision{7, 2}));
  EXPECT_EQ(at.version, 1);
  EXPECT_FALSE(ki.Get(6, &at).ok());
}

TEST(KeyIndex, ASecondPutMovesToTheHeapAndKeepsHistory) {
  KeyIndex ki;
  ki.Put({7, 0});
  ki.Put({9, 0});
  EXPECT_GT(ki.HeapBytes(), 0u);
  KeyAt at;
  ASSERT_TRUE(ki.Get(8, &at).ok());
  EXPECT_EQ(at.modified, (Revision{7, 0}));
  ASSERT_TRUE(ki.Get(9, &at).ok());
  EXPECT_EQ(at.version, 2);
}

TEST(KeyIndex, MovedIndexesKeepTheirHistory) {
  KeyIndex a = EtcdHistory();
  KeyIndex b = std::move(a);
  KeyAt at;
  ASSERT_TRUE(b.Get(15, &at).ok());
  EXPECT_EQ(at.modified, (Revision{14, 1}));
}

}  // namespace
}  // namespace revkv::mvcc
