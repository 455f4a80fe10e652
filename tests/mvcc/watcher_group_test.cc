// WatcherGroup's index of point watchers (mvcc/point_table.h): the table
// against a plain map under random inserts and erases, with hashes drawn
// from a small set so probe runs collide, wrap around the table's end and
// are shifted back by erases; and the group itself with a hash that makes
// every key collide, so only its key comparisons keep watchers apart.
#include "mvcc/point_table.h"

#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "mvcc/watcher_group.h"

namespace revkv::mvcc {
namespace {

TEST(PointTableTest, MatchesAMapUnderCollidingInsertsAndErases) {
  const uint64_t seed = std::random_device()();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  // Hashes whose low bits collide: every slot's home is one of a few, and
  // some start at the table's last slot, so runs wrap. 0 and 1 share an
  // entry by the table's contract; 0 is left out here.
  std::vector<uint64_t> hashes;
  for (uint64_t i = 1; i <= 400; i++) {
    hashes.push_back((i << 20) | (i % 5 == 0 ? 0xFFFFF : i % 3));  // 0xFFFFF: the last slot
  }
  std::vector<int> values(hashes.size());
  PointTable<int> table;
  std::map<uint64_t, int*> model;
  for (int step = 0; step < 200000; step++) {
    const size_t k = rng() % hashes.size();
    const uint64_t h = hashes[k];
    if (rng() % 2 == 0) {
      int** slot = table.FindOrInsert(h);
      auto [it, inserted] = model.try_emplace(h, &values[k]);
      ASSERT_EQ(*slot == nullptr, inserted) << "step " << step;
      *slot = &values[k];
    } else if (model.count(h) != 0) {
      table.Erase(h);
      model.erase(h);
    }
    if (step % 97 == 0) {
      ASSERT_EQ(table.size(), model.size()) << "step " << step;
      for (size_t i = 0; i < hashes.size(); i++) {
        auto it = model.find(hashes[i]);
        ASSERT_EQ(table.Find(hashes[i]), it == model.end() ? nullptr : it->second)
            << "step " << step << " hash " << hashes[i];
      }
      std::multiset<int*> seen, want;
      table.ForEach([&](int* v) { seen.insert(v); });
      for (auto& [h2, v] : model) want.insert(v);
      ASSERT_EQ(seen, want) << "step " << step;
    }
  }
}

TEST(PointTableTest, MemoryShrinksWithItsEntries) {
  PointTable<int> table;
  int v = 0;
  for (uint64_t h = 1; h <= 10000; h++) *table.FindOrInsert(h * 0x9E3779B97F4A7C15ull) = &v;
  const void* big = table.SlotAddress(1);
  for (uint64_t h = 1; h <= 9999; h++) table.Erase(h * 0x9E3779B97F4A7C15ull);
  EXPECT_EQ(table.size(), 1u);
  EXPECT_NE(table.SlotAddress(1), big) << "the table was not reallocated smaller";
  EXPECT_EQ(table.Find(10000 * 0x9E3779B97F4A7C15ull), &v);
  EXPECT_EQ(table.SlotAddress(1) != nullptr, true);
}

uint64_t EveryKeyCollides(std::string_view) { return 42; }

std::unique_ptr<Watcher> Point(const std::string& key, WatchId id) {
  auto w = std::make_unique<Watcher>();
  w->key = CompactKey(key);
  w->id = id;
  return w;
}

std::set<WatchId> Covering(const WatcherGroup& g, std::string_view key) {
  std::set<WatchId> ids;
  g.ForEachCovering(key, [&](Watcher* w) { ids.insert(w->id); });
  return ids;
}

TEST(WatcherGroupTest, KeysWhoseHashesCollideStayApart) {
  WatcherGroup g(&EveryKeyCollides);
  std::vector<std::unique_ptr<Watcher>> ws;
  ws.push_back(Point("a", 1));
  ws.push_back(Point("b", 2));
  ws.push_back(Point("a", 3));
  ws.push_back(Point("a-long-key-past-the-inline-bytes", 4));
  for (auto& w : ws) g.Add(w.get());
  EXPECT_EQ(Covering(g, "a"), (std::set<WatchId>{1, 3}));
  EXPECT_EQ(Covering(g, "b"), (std::set<WatchId>{2}));
  EXPECT_EQ(Covering(g, "a-long-key-past-the-inline-bytes"), (std::set<WatchId>{4}));
  EXPECT_EQ(Covering(g, "c"), (std::set<WatchId>{}));
  // The chain's head goes first: the others stay found.
  g.Remove(ws[3].get());
  g.Remove(ws[0].get());
  EXPECT_EQ(Covering(g, "a"), (std::set<WatchId>{3}));
  EXPECT_EQ(Covering(g, "b"), (std::set<WatchId>{2}));
  EXPECT_EQ(g.FirstPointWatcher("zzz") != nullptr, true) << "every key shares the one chain";
  g.Remove(ws[1].get());
  g.Remove(ws[2].get());
  EXPECT_TRUE(g.empty());
  EXPECT_EQ(g.FirstPointWatcher("a"), nullptr);
}

// Random adds and removes of point watchers on a few keys, with a hash of
// three values, against a model of who watches what.
TEST(WatcherGroupTest, MatchesAModelWithCollidingHashes) {
  const uint64_t seed = std::random_device()();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  WatcherGroup g([](std::string_view k) -> uint64_t { return k.size() % 3; });
  std::vector<std::string> keys;
  for (int i = 0; i < 12; i++) keys.push_back(std::string(size_t(i + 1), char('a' + i % 4)));
  std::vector<std::unique_ptr<Watcher>> live;
  WatchId next = 1;
  for (int step = 0; step < 20000; step++) {
    if (live.empty() || rng() % 2 == 0) {
      live.push_back(Point(keys[rng() % keys.size()], next++));
      g.Add(live.back().get());
    } else {
      const size_t i = rng() % live.size();
      g.Remove(live[i].get());
      live[i] = std::move(live.back());
      live.pop_back();
    }
    ASSERT_EQ(g.size(), live.size());
    if (step % 31 == 0) {
      for (const std::string& k : keys) {
        std::set<WatchId> want;
        for (auto& w : live) {
          if (std::string_view(w->key) == k) want.insert(w->id);
        }
        ASSERT_EQ(Covering(g, k), want) << "step " << step << " key " << k;
      }
      size_t visited = 0;
      g.ForEach([&](Watcher*) { visited++; });
      ASSERT_EQ(visited, live.size());
    }
  }
}

}  // namespace
}  // namespace revkv::mvcc
