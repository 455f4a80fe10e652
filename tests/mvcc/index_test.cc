// Index: ordered ranges at a revision, tombstones, compaction, concurrency.
#include "mvcc/index.h"
#include "tests/mvcc/index_peer.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace revkv::mvcc {
namespace {

std::vector<std::string> Keys(const Index& idx, std::string_view from, std::string_view end,
                              int64_t rev) {
  std::vector<std::string> keys;
  idx.Range(from, end, rev, [&](std::string_view k, const KeyAt&) {
    keys.emplace_back(k);
    return true;
  });
  return keys;
}

TEST(Index, RangeReturnsKeysLiveAtTheRevisionInOrder) {
  Index idx;
  IndexPeer::Put(idx, "b", {2, 0});
  IndexPeer::Put(idx, "a", {3, 0});
  IndexPeer::Put(idx, "c", {4, 0});
  ASSERT_TRUE(idx.Tombstone("b", {5, 0}).ok());
  EXPECT_EQ(Keys(idx, "a", "", 4), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(Keys(idx, "a", "", 5), (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(Keys(idx, "a", "c", 4), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(Keys(idx, "a", "", 2), (std::vector<std::string>{"b"}));
}

TEST(Index, TombstoneOfAnUnknownKeyIsNotFound) {
  Index idx;
  EXPECT_TRUE(absl::IsNotFound(idx.Tombstone("nope", {2, 0})));
}

TEST(Index, CompactRemovesKeysDeletedBeforeTheRevision) {
  Index idx;
  IndexPeer::Put(idx, "a", {2, 0});
  ASSERT_TRUE(idx.Tombstone("a", {3, 0}).ok());
  IndexPeer::Put(idx, "b", {4, 0});
  RevisionSet keep = idx.Compact(4);
  EXPECT_EQ(idx.size(), 1u);
  EXPECT_EQ(keep, (RevisionSet{{4, 0}}));
}

TEST(Index, ReadersRunWhileAWriterPutsAndCompacts) {
  Index idx;
  for (int i = 0; i < 1000; ++i) IndexPeer::Put(idx, "k" + std::to_string(i), {i + 2, 0});
  std::atomic<bool> stop{false};
  std::atomic<int64_t> bad{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        // Every key put by revision 1001 stays visible at 1001 whatever the
        // writer does later (it only adds revisions above 2000).
        size_t n = Keys(idx, "", "", 1001).size();
        if (n != 1000) bad++;
      }
    });
  }
  for (int i = 0; i < 2000; ++i) IndexPeer::Put(idx, "k" + std::to_string(i % 1000), {2000 + i, 0});
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
}

TEST(CompactKey, KeysUpToTheInlineLimitAndLongerOnesRoundTripThroughMoves) {
  for (size_t n : {size_t{0}, size_t{1}, CompactKey::kInlineBytes, CompactKey::kInlineBytes + 1,
                   size_t{300}}) {
    std::string text(n, 'x');
    for (size_t i = 0; i < n; ++i) text[i] = char('a' + i % 26);
    CompactKey k(text);
    EXPECT_EQ(std::string_view(k), text) << n;
    EXPECT_EQ(k.HeapBytes() == 0, n <= CompactKey::kInlineBytes) << n;
    CompactKey moved(std::move(k));
    EXPECT_EQ(std::string_view(moved), text) << n;
    CompactKey assigned("other");
    assigned = std::move(moved);
    EXPECT_EQ(std::string_view(assigned), text) << n;
    CompactKey copy(assigned);
    EXPECT_EQ(std::string_view(copy), text) << n;
  }
}

TEST(Index, BeginPutSaysWhatTheKeyWasAndAddsNothing) {
  Index index;
  Index::PendingPut p = index.BeginPut("k", {2, 0});
  EXPECT_FALSE(p.live);
  EXPECT_EQ(index.size(), 0u);  // nothing until FinishPut
  index.FinishPut("k", {2, 0}, p);
  p = index.BeginPut("k", {3, 0});
  ASSERT_TRUE(p.live);
  EXPECT_EQ(p.prev.created.main, 2);
  EXPECT_EQ(p.prev.version, 1);
  index.FinishPut("k", {3, 0}, p);
  ASSERT_TRUE(index.Tombstone("k", {4, 0}).ok());
  p = index.BeginPut("k", {5, 0});
  EXPECT_FALSE(p.live);  // a deleted key starts a new generation
}

// A compaction between the two steps erases keys (moving the tree's
// entries): FinishPut must not use the position BeginPut found.
TEST(Index, FinishPutAfterACompactionErasedKeysPutsTheRightKey) {
  Index index;
  int64_t rev = 2;
  for (int i = 0; i < 5000; ++i) IndexPeer::Put(index, "key" + std::to_string(i), {rev++, 0});
  for (int i = 0; i < 5000; i += 2) {
    ASSERT_TRUE(index.Tombstone("key" + std::to_string(i), {rev++, 0}).ok());
  }
  for (const std::string& k : {std::string("key2501"), std::string("key2502x")}) {
    Index::PendingPut p = index.BeginPut(k, {rev, 0});
    index.Compact(rev - 1);  // erases the deleted keys
    index.FinishPut(k, {rev, 0}, p);
    KeyAt at;
    ASSERT_TRUE(index.Get(k, rev, &at).ok()) << k;
    EXPECT_EQ(at.modified, (Revision{rev, 0}));
    rev++;
  }
  EXPECT_EQ(index.size(), 2501u);
  std::vector<std::string> keys = Keys(index, "", "", rev);
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
  EXPECT_EQ(keys.size(), 2501u);
}

// RestoreRecords must equal RestoreRecord applied one by one: random
// histories over keys that share long prefixes, differ only past byte 16,
// or end in zero bytes.
TEST(Index, RestoreRecordsEqualsReplayingEachRecord) {
  uint64_t seed = std::random_device{}();
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  const std::vector<std::string> keys = {
      "a", std::string("a\0", 2), std::string("a\0\0", 3), "ab", "b",
      std::string(16, 'k'), std::string(16, 'k') + "1", std::string(16, 'k') + "2",
      std::string(40, 'k') + "x", std::string(40, 'k') + "y", "/registry/pods/default/web-0",
      "/registry/pods/default/web-1"};
  std::vector<Index::Record> records;
  for (int64_t main = 2; main < 400; ++main) {
    Index::Record r;
    r.key = keys[rng() % keys.size()];
    r.rev = {main, 0};
    r.tombstone = rng() % 4 == 0;
    r.create_revision = main - int64_t(rng() % 3);
    r.version = 1 + int64_t(rng() % 3);
    records.push_back(r);
  }
  Index one_by_one, sorted;
  for (const Index::Record& r : records) {
    IndexPeer::RestoreRecord(one_by_one, r.key, r.rev, r.tombstone, r.create_revision, r.version);
  }
  std::vector<Index::Record> copy = records;
  sorted.RestoreRecords(&copy);
  ASSERT_EQ(sorted.size(), one_by_one.size());
  for (int64_t rev = 1; rev < 400; rev += 7) {
    std::vector<std::pair<std::string, int64_t>> a, b;
    one_by_one.Range("", "", rev, [&](std::string_view k, const KeyAt& at) {
      a.emplace_back(std::string(k), at.modified.main * 1000000 + at.created.main * 10 + at.version);
      return true;
    });
    sorted.Range("", "", rev, [&](std::string_view k, const KeyAt& at) {
      b.emplace_back(std::string(k), at.modified.main * 1000000 + at.created.main * 10 + at.version);
      return true;
    });
    ASSERT_EQ(a, b) << "rev " << rev;
  }
  EXPECT_EQ(sorted.Keep(200), one_by_one.Keep(200));
}

// An index of `n` keys, some with several generations and revisions, some
// compacted, by a seeded random history.
void BuildHistory(Index* idx, int n, std::mt19937_64& rng, int64_t* rev) {
  for (int i = 0; i < n; ++i) IndexPeer::Put(*idx, "key" + std::to_string(i * 7919 % n), {++*rev, 0});
  for (int i = 0; i < n / 4; ++i) {
    const std::string key = "key" + std::to_string(rng() % n);
    if (rng() % 5 == 0) {
      idx->Tombstone(key, {++*rev, 0}).IgnoreError();
    } else {
      IndexPeer::Put(*idx, key, {++*rev, int64_t(rng() % 3)});
    }
  }
  idx->Compact(*rev - n / 8);
}

std::vector<std::pair<std::string, int64_t>> Snapshot(const Index& idx, int64_t rev) {
  std::vector<std::pair<std::string, int64_t>> out;
  idx.Range("", "", rev, [&](std::string_view k, const KeyAt& at) {
    out.emplace_back(std::string(k),
                     at.modified.main * 1000000 + at.created.main * 10 + at.version);
    return true;
  });
  return out;
}

TEST(Index, LargeCheckpointDecodedOnASecondThreadLoadsTheSameIndex) {
  uint64_t seed = std::random_device{}();
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  Index idx;
  int64_t rev = 1;
  BuildHistory(&idx, 80000, rng, &rev);
  std::vector<std::string> chunks = idx.EncodeCheckpoint(64 << 10);
  size_t bytes = 0;
  for (const std::string& c : chunks) bytes += c.size();
  ASSERT_GE(bytes, Index::kParallelLoadBytes);  // the two-thread path
  std::vector<std::string_view> views(chunks.begin(), chunks.end());
  Index loaded;
  RevisionSummary summary;
  ASSERT_TRUE(loaded.LoadCheckpoint(views, rev, &summary).ok());
  ASSERT_EQ(loaded.size(), idx.size());
  for (int64_t at : {rev - 80000 / 8, rev - 100, rev}) {
    EXPECT_EQ(Snapshot(loaded, at), Snapshot(idx, at)) << "rev " << at;
  }
  EXPECT_EQ(loaded.Keep(rev), idx.Keep(rev));
}

TEST(Index, LargeCheckpointCutShortOrRepeatingAKeyLeavesTheIndexEmpty) {
  std::mt19937_64 rng(7);
  Index idx;
  int64_t rev = 1;
  BuildHistory(&idx, 80000, rng, &rev);
  std::vector<std::string> chunks = idx.EncodeCheckpoint(64 << 10);
  {
    std::vector<std::string> cut = chunks;
    cut.back().resize(cut.back().size() - 1);  // the last entry is truncated
    std::vector<std::string_view> views(cut.begin(), cut.end());
    Index loaded;
    RevisionSummary summary;
    EXPECT_EQ(loaded.LoadCheckpoint(views, rev, &summary).code(), absl::StatusCode::kDataLoss);
    EXPECT_EQ(loaded.size(), 0u);
  }
  {
    std::vector<std::string_view> views(chunks.begin(), chunks.end());
    views.push_back(chunks.front());  // its keys again
    Index loaded;
    RevisionSummary summary;
    EXPECT_EQ(loaded.LoadCheckpoint(views, rev, &summary).code(), absl::StatusCode::kDataLoss);
    EXPECT_EQ(loaded.size(), 0u);
  }
}

TEST(Index, ReadsCompleteBetweenAPutsTwoSteps) {
  Index idx;
  IndexPeer::Put(idx, "a", {2, 0});
  Index::PendingPut p = idx.BeginPut("b", {3, 0});  // the record is being written
  KeyAt at;
  EXPECT_TRUE(idx.Get("a", 3, &at).ok());
  EXPECT_EQ(at.modified, (Revision{2, 0}));
  Revision cached;
  EXPECT_TRUE(idx.CachedGet("a", 3, &cached));
  EXPECT_EQ(cached, (Revision{2, 0}));
  EXPECT_EQ(Keys(idx, "", "", 3), (std::vector<std::string>{"a"}));
  idx.FinishPut("b", {3, 0}, p);
  ASSERT_TRUE(idx.Get("b", 3, &at).ok());
  EXPECT_EQ(at.modified, (Revision{3, 0}));
}

// The point cache's rules (point_cache.h) at scale: random puts, deletes,
// reads that fill, compactions that shrink the table and puts that grow it.
// Whenever a candidate passes the reader's check (the record at that
// revision holds the key), it is the index's answer.
TEST(Index, EveryConfirmedPointCacheHitIsTheIndexAnswer) {
  uint64_t seed = std::random_device{}();
  if (const char* env = getenv("REVKV_SEED")) seed = strtoull(env, nullptr, 10);
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  Index idx;
  std::unordered_map<int64_t, std::string> record;  // revision -> key (the key bucket)
  std::map<std::string, int64_t> live;                 // the model: key -> latest put
  int64_t rev = 2;
  auto check = [&](const std::string& k) {
    Revision cached;
    if (!idx.CachedGet(k, rev, &cached)) return;
    auto r = record.find(cached.main);
    if (r == record.end() || r->second != k) return;  // the reader rejects it
    auto m = live.find(k);
    ASSERT_NE(m, live.end()) << "a deleted key " << k << " came back at " << cached.main;
    ASSERT_EQ(cached.main, m->second) << k;
  };
  for (int round = 0; round < 6; ++round) {
    const int keys = round % 2 == 0 ? 20000 : 2000;
    for (int i = 0; i < keys; ++i) {
      std::string k = "k" + std::to_string(rng() % 30000);
      IndexPeer::Put(idx, k, {rev, 0});
      record[rev] = k;
      live[k] = rev++;
      KeyAt at;
      if (rng() % 2 == 0) (void)idx.Get("k" + std::to_string(rng() % 30000), rev, &at);
    }
    // Delete most keys, read the rest, compact (the table shrinks).
    for (auto it = live.begin(); it != live.end();) {
      if (rng() % 10 != 0) {
        ASSERT_TRUE(idx.Tombstone(it->first, {rev++, 0}).ok());
        it = live.erase(it);
      } else {
        ++it;
      }
    }
    idx.Compact(rev - 1);
    for (int i = 0; i < 30000; ++i) check("k" + std::to_string(i));
    for (auto it = record.begin(); it != record.end();) {  // the background deletes
      auto m = live.find(it->second);
      it = (m == live.end() || m->second != it->first) ? record.erase(it) : std::next(it);
    }
    for (int i = 0; i < 30000; ++i) check("k" + std::to_string(i));
  }
}

TEST(Index, CompactingAwayMostKeysShrinksThePointCache) {
  Index idx;
  for (int i = 0; i < 100000; ++i) IndexPeer::Put(idx, "key" + std::to_string(i), {int64_t(i) + 2, 0});
  const size_t before = idx.MemoryBytes();
  int64_t rev = 100002;
  for (int i = 0; i < 100000; i += 10) {  // all but 1,000 keys deleted
    for (int j = i + 1; j < i + 10; ++j) {
      ASSERT_TRUE(idx.Tombstone("key" + std::to_string(j), {rev++, 0}).ok());
    }
  }
  idx.Compact(rev);
  EXPECT_EQ(idx.size(), 10000u);
  EXPECT_LT(idx.MemoryBytes(), before / 4);
  KeyAt at;
  ASSERT_TRUE(idx.Get("key10", rev, &at).ok());
  EXPECT_EQ(at.modified, (Revision{12, 0}));
  Revision cached;
  if (idx.CachedGet("key20", rev, &cached)) {
    EXPECT_EQ(cached, (Revision{22, 0}));  // a candidate, if kept, is right here
  }
}

TEST(KeyLess, IsThreeWayByteOrder) {
  const KeyLess less;
  EXPECT_TRUE(less("a", "b") < 0);
  EXPECT_TRUE(less("ab", "a") > 0);
  EXPECT_TRUE(less(std::string("k\x80"), "k\x7f") > 0);  // unsigned bytes
  EXPECT_TRUE(less("0000000000000042", "0000000000000042") == 0);
}

}  // namespace
}  // namespace revkv::mvcc
