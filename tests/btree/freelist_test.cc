// Freelist: allocation, pending release and the persisted form, checked
// against a std::set of page ids.
#include "btree/freelist.h"

#include <cstdio>
#include <random>
#include <map>
#include <set>

#include "gtest/gtest.h"

namespace revkv::btree {
namespace {

TEST(FreelistTest, AdjacentFreedExtentsCoalesceInThePersistedForm) {
  Freelist f;
  f.AddFree(10, 2);
  f.AddFree(14, 1);
  f.AddFree(12, 2);  // bridges both neighbours
  std::vector<FreeExtent> p = f.Persisted();
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].start, 10u);
  EXPECT_EQ(p[0].count, 5u);
  EXPECT_EQ(f.extent_count(), 1u);
  EXPECT_EQ(f.free_count(), 5u);
}

TEST(FreelistTest, PendingPagesArePersistedButNotAllocatedUntilReleased) {
  Freelist f;
  f.Free(/*txid=*/7, 20, 3);
  EXPECT_EQ(f.Allocate(1), 0u);
  std::vector<FreeExtent> p = f.Persisted();
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].start, 20u);
  f.Release(6);
  EXPECT_EQ(f.Allocate(1), 0u);
  f.Release(7);
  EXPECT_EQ(f.Allocate(3), 20u);
  EXPECT_EQ(f.free_count(), 0u);
}

TEST(FreelistTest, AllocateTakesTheSmallestExtentThatFits) {
  Freelist f;
  f.AddFree(100, 8);
  f.AddFree(50, 3);
  f.AddFree(10, 2);
  EXPECT_EQ(f.Allocate(3), 50u);
  EXPECT_EQ(f.Allocate(4), 100u);
  EXPECT_EQ(f.Allocate(4), 104u);
  EXPECT_EQ(f.Allocate(3), 0u);
}

// Random operations against a set of free and pending page ids.
class FreelistRandomTest : public ::testing::TestWithParam<pgid_t> {};

// The parameter is the range of pages whose encoding is cached as one: 4
// puts many extents across range boundaries, 512 is the default.
TEST_P(FreelistRandomTest, RandomOperationsMatchAModelOfPageIds) {
  uint64_t seed = std::random_device{}();
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  Freelist f(GetParam());
  std::set<pgid_t> free_ids;
  std::map<txid_t, std::set<pgid_t>> pending;
  std::set<pgid_t> used;  // allocated pages, candidates for Free
  pgid_t next = 2;
  txid_t txid = 1;
  for (int step = 0; step < 20000; ++step) {
    int op = int(rng() % 5);
    if (op == 0) {  // allocate n pages: fresh if the list has no room
      uint64_t n = 1 + rng() % 4;
      pgid_t id = f.Allocate(n);
      if (id == 0) {
        id = next;
        next += n;
      } else {
        for (uint64_t i = 0; i < n; ++i) ASSERT_EQ(free_ids.erase(id + i), 1u) << "step " << step;
      }
      for (uint64_t i = 0; i < n; ++i) used.insert(id + i);
    } else if (op == 1 && !used.empty()) {  // free one used page
      auto it = used.lower_bound(pgid_t(rng() % next));
      if (it == used.end()) it = used.begin();
      f.Free(txid, *it, 1);
      pending[txid].insert(*it);
      used.erase(it);
    } else if (op == 2) {  // a commit: later frees belong to a new txid
      ++txid;
    } else if (op == 4) {  // a rollback: this txid's frees did not happen
      f.DropPending(txid);
      used.insert(pending[txid].begin(), pending[txid].end());
      pending.erase(txid);
    } else {  // release everything up to a random older txid
      txid_t upto = txid - rng() % 3;
      f.Release(upto);
      for (auto it = pending.begin(); it != pending.end() && it->first <= upto;) {
        free_ids.insert(it->second.begin(), it->second.end());
        it = pending.erase(it);
      }
    }
    ASSERT_EQ(f.free_count(), free_ids.size()) << "step " << step;
    std::set<pgid_t> expected = free_ids;
    for (const auto& [t, ids] : pending) expected.insert(ids.begin(), ids.end());
    if (step % 7 == 0) {  // the cached encoding a commit writes, decoded
      std::string encoded;
      const uint32_t count = f.EncodePersisted(&encoded);
      std::vector<FreeExtent> decoded;
      ASSERT_TRUE(DecodeFreeExtents(encoded, count, &decoded)) << "step " << step;
      std::set<pgid_t> got;
      for (const FreeExtent& e : decoded) {
        for (uint64_t i = 0; i < e.count; ++i) {
          ASSERT_TRUE(got.insert(e.start + i).second) << "step " << step;
        }
      }
      ASSERT_EQ(got, expected) << "step " << step;
    }
    if (step % 97 != 0) continue;
    std::set<pgid_t> got;
    pgid_t prev_end = 0;
    for (const FreeExtent& e : f.Persisted()) {
      ASSERT_GT(e.count, 0u);
      // Sorted and coalesced: a gap separates every two extents.
      if (!got.empty()) {
        ASSERT_GT(e.start, prev_end) << "step " << step;
      }
      for (uint64_t i = 0; i < e.count; ++i) got.insert(e.start + i);
      prev_end = e.start + e.count;
    }
    ASSERT_EQ(got, expected) << "step " << step;
  }
}

INSTANTIATE_TEST_SUITE_P(GroupPages, FreelistRandomTest,
                         ::testing::Values(pgid_t{4}, Freelist::kGroupPages));

}  // namespace
}  // namespace revkv::btree
