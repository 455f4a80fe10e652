// Segments, the segment stack and merged scans without a btree: the read
// buffer's semantics on their own.
#include "backend/segment.h"

#include <map>
#include <optional>
#include <random>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "backend/merged_range.h"
#include "backend/segment_stack.h"
#include "gtest/gtest.h"
#include "tests/backend/backend_test_util.h"

namespace revkv::backend {
namespace {

using testutil::KV;

KV Scan(const SegmentStack& stack, std::string_view bucket, std::string_view start = "",
        std::string_view end = "", size_t limit = 0) {
  KV out;
  absl::Status s = MergedScan(stack.segments(), nullptr, bucket, start, end, limit,
                              [&](std::string_view k, std::string_view v) {
                                out.emplace(std::string(k), std::string(v));
                                return true;
                              });
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

std::shared_ptr<const Segment> Puts(std::string_view bucket, const KV& kv) {
  WriteBuffer w;
  for (const auto& [k, v] : kv) w.Put(bucket, k, v);
  return w.Freeze();
}

TEST(WriteBufferTest, FreezeKeepsTheNewestWriteOfEachKeySorted) {
  WriteBuffer w;
  w.Put("b", "k2", "old");
  w.Put("b", "k1", "v1");
  w.Put("b", "k2", "new");
  w.Delete("b", "k3");
  std::shared_ptr<const Segment> s = w.Freeze();
  EXPECT_TRUE(w.empty());
  const BucketRun* run = s->Find("b");
  ASSERT_NE(run, nullptr);
  ASSERT_EQ(run->entries.size(), 3u);
  EXPECT_EQ(run->entries[0].key, "k1");
  EXPECT_EQ(run->entries[1].value, "new");
  EXPECT_TRUE(run->entries[2].tombstone);
  EXPECT_EQ(s->Find("other"), nullptr);
}

TEST(WriteBufferTest, DeleteBucketHidesOlderContents) {
  SegmentStack stack;
  stack.Push(Puts("b", {{"a", "1"}, {"b", "2"}}));
  WriteBuffer w;
  w.DeleteBucket("b");
  w.CreateBucket("b");
  w.Put("b", "c", "3");
  stack.Push(w.Freeze());
  EXPECT_EQ(Scan(stack, "b"), (KV{{"c", "3"}}));
}

TEST(WriteBufferTest, FindAnswersKeysInsideTheRunAndNothingOutsideIt) {
  WriteBuffer w;
  w.Put("b", "k2", "v2");
  w.Put("b", "k4", "v4");
  w.Delete("b", "k6");
  std::shared_ptr<const Segment> seg = w.Freeze();
  const BucketRun* run = seg->Find("b");
  ASSERT_NE(run, nullptr);
  for (std::string_view absent : {"k1", "k3", "k5", "k7", "", "k"}) {
    EXPECT_EQ(run->Find(absent), nullptr) << absent;
  }
  ASSERT_NE(run->Find("k2"), nullptr);
  EXPECT_EQ(run->Find("k2")->value, "v2");
  ASSERT_NE(run->Find("k4"), nullptr);
  EXPECT_EQ(run->Find("k4")->value, "v4");
  ASSERT_NE(run->Find("k6"), nullptr);
  EXPECT_TRUE(run->Find("k6")->tombstone);
  EXPECT_EQ(BucketRun{}.Find("k2"), nullptr);
}

TEST(MergedScanTest, NewestSegmentWinsAndTombstonesHide) {
  SegmentStack stack;
  stack.Push(Puts("b", {{"a", "1"}, {"b", "1"}, {"c", "1"}, {"d", "1"}, {"e", "1"}}));
  WriteBuffer w;
  w.Put("b", "b", "2");
  w.Delete("b", "c");
  stack.Push(w.Freeze());
  EXPECT_EQ(Scan(stack, "b"), (KV{{"a", "1"}, {"b", "2"}, {"d", "1"}, {"e", "1"}}));
}

TEST(MergedScanTest, LimitCountsKeysAfterMerging) {
  SegmentStack stack;
  stack.Push(Puts("b", {{"a", "1"}, {"b", "1"}, {"c", "1"}, {"d", "1"}, {"e", "1"}}));
  WriteBuffer w;
  w.Delete("b", "a");
  w.Delete("b", "b");
  stack.Push(w.Freeze());
  EXPECT_EQ(Scan(stack, "b", "", "", 2), (KV{{"c", "1"}, {"d", "1"}}));
  EXPECT_EQ(Scan(stack, "b", "b", "e", 0), (KV{{"c", "1"}, {"d", "1"}}));
}

TEST(SegmentStackTest, MergesToLogarithmicallyManySegmentsWithSameContents) {
  SegmentStack stack;
  KV model;
  for (int i = 0; i < 1000; ++i) {
    std::string k = "k" + std::to_string(i % 300);
    std::string v = std::to_string(i);
    model[k] = v;
    stack.Push(Puts("b", {{k, v}}));
    EXPECT_LE(stack.segments().size(), 12u) << "after " << i + 1 << " pushes";
  }
  EXPECT_EQ(Scan(stack, "b"), model);
  std::shared_ptr<const Segment> flat = stack.Flatten();
  SegmentStack one;
  one.Push(flat);
  EXPECT_EQ(Scan(one, "b"), model);
  EXPECT_EQ(flat->entry_count(), 300u);
}

TEST(SegmentStackTest, AppendsAndOverwritesAreAbsorbedIntoTheUnsharedNewestSegment) {
  SegmentStack stack;
  stack.Push(Puts("b", {{"k1", "v1"}, {"k2", "v2"}}));
  WriteBuffer w;
  w.Put("b", "k2", "v2'");  // overwrite
  w.Put("b", "k3", "v3");   // append
  w.Put("m", "ci", "7");    // a bucket the segment did not touch
  ASSERT_NE(stack.MutableTop(), nullptr);
  ASSERT_TRUE(w.AbsorbInto(stack.MutableTop()));
  EXPECT_TRUE(w.empty());
  EXPECT_EQ(stack.segments().size(), 1u);
  EXPECT_EQ(Scan(stack, "b"), (KV{{"k1", "v1"}, {"k2", "v2'"}, {"k3", "v3"}}));
  EXPECT_EQ(Scan(stack, "m"), (KV{{"ci", "7"}}));
  EXPECT_EQ(stack.entry_count(), 4u);
  // The buffer's memory is reused by the next writes: what was absorbed
  // must have been copied.
  w.Put("b", "k4", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
  ASSERT_TRUE(w.AbsorbInto(stack.MutableTop()));
  EXPECT_EQ(Scan(stack, "b"), (KV{{"k1", "v1"},
                                 {"k2", "v2'"},
                                 {"k3", "v3"},
                                 {"k4", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}));
}

TEST(SegmentStackTest, AscendingWritesOfOneBucketAppendToTheNewestSegment) {
  SegmentStack stack;
  stack.Push(Puts("b", {{"k1", "v1"}}));
  WriteBuffer w;
  w.Put("b", "k2", "v2");
  w.Delete("b", "k3");
  w.Put("b", "k4", "v4");
  ASSERT_TRUE(w.AbsorbInto(stack.MutableTop()));
  EXPECT_TRUE(w.empty());
  EXPECT_EQ(stack.segments().size(), 1u);
  EXPECT_EQ(stack.entry_count(), 4u) << "the tombstone is kept: it hides older data";
  EXPECT_EQ(Scan(stack, "b"), (KV{{"k1", "v1"}, {"k2", "v2"}, {"k4", "v4"}}));
  w.Put("b", "k4", "v4'");  // the last key again: an overwrite, not an append
  ASSERT_TRUE(w.AbsorbInto(stack.MutableTop()));
  EXPECT_EQ(stack.entry_count(), 4u);
  EXPECT_EQ(Scan(stack, "b"), (KV{{"k1", "v1"}, {"k2", "v2"}, {"k4", "v4'"}}));
}

TEST(WriteBufferTest, ARepeatedKeyKeepsItsNewestWrite) {
  WriteBuffer w;
  w.Put("b", "k1", "old");
  w.Put("b", "k1", "new");
  w.Put("b", "k2", "v2");
  SegmentStack stack;
  stack.Push(w.Freeze());
  EXPECT_EQ(Scan(stack, "b"), (KV{{"k1", "new"}, {"k2", "v2"}}));
  EXPECT_EQ(stack.entry_count(), 2u);
}

TEST(SegmentStackTest, AKeyInsertedBeforeTheLastIsRefusedAndChangesNothing) {
  SegmentStack stack;
  stack.Push(Puts("b", {{"k1", "v1"}, {"k3", "v3"}}));
  WriteBuffer w;
  w.Put("b", "k9", "v9");
  w.Put("b", "k2", "v2");  // would need an insert in the middle
  EXPECT_FALSE(w.AbsorbInto(stack.MutableTop()));
  EXPECT_FALSE(w.empty());
  EXPECT_EQ(Scan(stack, "b"), (KV{{"k1", "v1"}, {"k3", "v3"}}));
}

TEST(SegmentStackTest, ABucketResetIsRefused) {
  SegmentStack stack;
  stack.Push(Puts("b", {{"k1", "v1"}}));
  WriteBuffer w;
  w.DeleteBucket("b");
  EXPECT_FALSE(w.AbsorbInto(stack.MutableTop()));
  EXPECT_EQ(Scan(stack, "b"), (KV{{"k1", "v1"}}));
}

TEST(SegmentStackTest, SegmentsSeenByAReaderAreNeverChanged) {
  SegmentStack stack;
  stack.Push(Puts("b", {{"k1", "v1"}}));
  std::vector<std::shared_ptr<const Segment>> view = stack.segments();
  stack.MarkShared();
  EXPECT_EQ(stack.MutableTop(), nullptr);
  stack.Push(Puts("b", {{"k2", "v2"}}));
  EXPECT_EQ(Scan(stack, "b"), (KV{{"k1", "v1"}, {"k2", "v2"}}));
  KV seen;
  ASSERT_TRUE(MergedScan(view, nullptr, "b", "", "", 0, [&](std::string_view k, std::string_view v) {
                seen.emplace(std::string(k), std::string(v));
                return true;
              }).ok());
  EXPECT_EQ(seen, (KV{{"k1", "v1"}}));
}

TEST(SegmentStackTest, SealedSegmentsAreNeitherMergedIntoNorChanged) {
  SegmentStack stack;
  stack.Push(Puts("b", {{"k1", "v1"}}));
  SegmentStack::Segments sealed = stack.Seal();
  ASSERT_EQ(sealed.size(), 1u);
  EXPECT_EQ(stack.MutableTop(), nullptr) << "the sealed top may not absorb writes";
  // A heavier newer segment would merge with an unsealed older one.
  stack.Push(Puts("b", {{"k2", "v2"}, {"k3", "v3"}}));
  ASSERT_EQ(stack.segments().size(), 2u);
  EXPECT_EQ(stack.segments()[0], sealed[0]);
  EXPECT_EQ(stack.sealed(), 1u);
  EXPECT_TRUE(stack.Seal().size() == 1u) << "only the segment pushed since";
  EXPECT_EQ(stack.sealed(), 2u);
}

TEST(SegmentStackTest, DroppingSealedSegmentsKeepsTheNewerOnes) {
  SegmentStack stack;
  stack.Push(Puts("b", {{"k1", "v1"}, {"k2", "v2"}}));
  stack.Seal();
  stack.Push(Puts("b", {{"k2", "new"}}));
  stack.DropSealed(1);
  EXPECT_EQ(stack.sealed(), 0u);
  EXPECT_EQ(Scan(stack, "b"), (KV{{"k2", "new"}}));
  EXPECT_NE(stack.MutableTop(), nullptr) << "the unsealed newest segment absorbs again";
}

// What a reader holds never changes, whatever the writer and the committer
// do after it (pushes that merge, writes absorbed into the newest segment,
// seals and drops): MarkShared pins only the newest segment, since
// MutableTop never hands out any other. Random operations against a copy
// of every view's contents taken when it was taken.
TEST(SegmentStackTest, ViewsNeverChangeUnderRandomPushesAbsorbsSealsAndDrops) {
  uint64_t seed = 1;
  if (const char* e = std::getenv("REVKV_SEED")) seed = std::strtoull(e, nullptr, 0);
  std::printf("seed %llu (replay: REVKV_SEED=%llu)\n", (unsigned long long)seed,
              (unsigned long long)seed);
  std::mt19937_64 rng(seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  SegmentStack stack;
  struct View {
    SegmentStack::Segments segments;
    KV contents;
  };
  std::vector<View> views;
  auto scan = [](const SegmentStack::Segments& segments) {
    KV out;
    EXPECT_TRUE(MergedScan(segments, nullptr, "b", "", "", 0,
                           [&](std::string_view k, std::string_view v) {
                             out.emplace(std::string(k), std::string(v));
                             return true;
                           }).ok());
    return out;
  };
  for (int step = 0; step < 4000; ++step) {
    WriteBuffer w;
    const int n = 1 + int(rng() % 4);
    for (int i = 0; i < n; ++i) {
      w.Put("b", "k" + std::to_string(rng() % 64), std::to_string(step));
    }
    switch (rng() % 6) {
      case 0: {  // a reader takes a view
        stack.MarkShared();
        views.push_back({stack.segments(), Scan(stack, "b")});
        break;
      }
      case 1:
        stack.Seal();
        break;
      case 2:
        stack.DropSealed(stack.sealed());
        break;
      default: {  // a write: absorbed when it can be, else pushed
        Segment* top = stack.MutableTop();
        if (top == nullptr || !w.AbsorbInto(top)) stack.Push(w.Freeze());
      }
    }
    if (views.size() > 32) views.erase(views.begin());
    if (step % 16 == 0) {
      for (const View& v : views) ASSERT_EQ(scan(v.segments), v.contents) << "step " << step;
    }
  }
  for (const View& v : views) EXPECT_EQ(scan(v.segments), v.contents);
}

TEST(SegmentStackTest, APushComputedOnACopyReplacesTheStackOnlyIfNothingChangedIt) {
  SegmentStack stack;
  stack.Push(Puts("b", {{"k1", "v1"}}));
  auto push_on_copy = [&](const SegmentStack& base) {
    SegmentStack next = base;
    next.Push(Puts("b", {{"k2", "v2"}, {"k3", "v3"}}));  // heavier: merges with k1's
    return next;
  };
  {  // nothing changed: replaced, merged
    SegmentStack base = stack;
    SegmentStack next = push_on_copy(base);
    ASSERT_TRUE(stack.ReplaceIfUnchanged(base, &next));
    EXPECT_EQ(stack.segments().size(), 1u);
    EXPECT_EQ(Scan(stack, "b"), (KV{{"k1", "v1"}, {"k2", "v2"}, {"k3", "v3"}}));
  }
  {  // sealed meanwhile: a merge into the sealed segment is refused
    SegmentStack base = stack;
    SegmentStack next = push_on_copy(base);
    SegmentStack::Segments sealed = stack.Seal();
    EXPECT_FALSE(stack.ReplaceIfUnchanged(base, &next));
    EXPECT_EQ(stack.segments(), sealed);
    EXPECT_EQ(stack.sealed(), 1u);
  }
  {  // dropped meanwhile: the dropped segment is not brought back
    SegmentStack base = stack;
    SegmentStack next = push_on_copy(base);
    stack.DropSealed(1);
    EXPECT_FALSE(stack.ReplaceIfUnchanged(base, &next));
    EXPECT_TRUE(stack.empty());
  }
}

}  // namespace
}  // namespace revkv::backend
