// Watch behaviours as etcd 3.4's watch_test.go and watchable_store_test.go
// specify them, against WatchableStore and WatchStream.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "mvcc/watchable_store.h"
#include "tests/mvcc/watch_test_util.h"

namespace revkv::mvcc {
namespace {

KeyValue Kv(std::string key, int64_t create, int64_t mod, int64_t version, std::string value) {
  return KeyValue{std::move(key), create, mod, version, std::move(value), 0};
}
Event PutEv(KeyValue kv) { return Event{Event::Type::kPut, std::move(kv), std::nullopt}; }
Event DelEv(std::string key, int64_t rev) {
  Event e;
  e.type = Event::Type::kDelete;
  e.kv.key = std::move(key);
  e.kv.mod_revision = rev;
  return e;
}

std::vector<int64_t> Revs(const std::vector<Event>& evs) {
  std::vector<int64_t> out;
  for (const Event& e : evs) out.push_back(e.kv.mod_revision);
  return out;
}

// Puts "k" = "v<rev>" at revisions 2..last.
void PutHistory(Store* s, int64_t last, const std::string& key = "k") {
  while (s->Rev() < last) {
    ASSERT_TRUE(s->Put(key, "v" + std::to_string(s->Rev() + 1)).ok());
  }
}

struct StartCase {
  const char* name;
  int64_t start_rev;         // against a history at revisions 2..6
  std::vector<int64_t> want;  // after two more puts (7, 8)
};

class StartRevTest : public ::testing::TestWithParam<StartCase> {};

TEST_P(StartRevTest, WatcherSeesEveryRevisionFromItsStart) {
  const StartCase& c = GetParam();
  WatchEnv env;
  PutHistory(env.store(), 6);
  auto s = env.ws()->NewStream();
  auto id = s->Watch("k", "", {.start_rev = c.start_rev});
  ASSERT_TRUE(id.ok()) << id.status();
  PutHistory(env.store(), 8);
  std::vector<Event> evs = Flatten(ReadEvents(*s, c.want.size()));
  EXPECT_EQ(Revs(evs), c.want);
  for (const Event& e : evs) {
    EXPECT_EQ(e.kv, Kv("k", 2, e.kv.mod_revision, e.kv.mod_revision - 1,
                       "v" + std::to_string(e.kv.mod_revision)));
  }
  EXPECT_FALSE(s->TryNext().has_value());
}

INSTANTIATE_TEST_SUITE_P(
    Watch, StartRevTest,
    ::testing::Values(StartCase{"next", 0, {7, 8}}, StartCase{"first", 1, {2, 3, 4, 5, 6, 7, 8}},
                      StartCase{"past", 4, {4, 5, 6, 7, 8}}, StartCase{"current", 6, {6, 7, 8}},
                      StartCase{"just_next", 7, {7, 8}}, StartCase{"future", 8, {8}}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Watch, StartAtOrBelowTheCompactedRevisionIsCanceledWithIt) {
  WatchEnv env;
  PutHistory(env.store(), 6);
  ASSERT_TRUE(env.store()->Compact(4).ok());
  for (int64_t start : {1, 2, 4}) {
    auto s = env.ws()->NewStream();
    auto id = s->Watch("k", "", {.start_rev = start});
    ASSERT_TRUE(id.ok());
    auto r = NextWithin(*s);
    ASSERT_TRUE(r.has_value()) << start;
    EXPECT_TRUE(r->canceled);
    EXPECT_EQ(r->compact_revision, 4);
    EXPECT_EQ(r->id, *id);
    EXPECT_TRUE(r->events.empty());
    // Removed: cancelling it again finds nothing.
    EXPECT_TRUE(absl::IsNotFound(s->Cancel(*id)));
  }
  auto s = env.ws()->NewStream();
  ASSERT_TRUE(s->Watch("k", "", {.start_rev = 5}).ok());
  EXPECT_EQ(Revs(Flatten(ReadEvents(*s, 2))), (std::vector<int64_t>{5, 6}));
}

TEST(Watch, CompactionDuringCatchUpCancelsWithoutAHole) {
  // One revision per round and room for one response: the watcher is set
  // aside after its first response while the consumer stalls; the
  // compaction then passes what it is owed.
  WatchEnv env({.stream_queue = 1, .sync_batch_revs = 1});
  PutHistory(env.store(), 200);
  auto s = env.ws()->NewStream();
  ASSERT_TRUE(s->Watch("k", "", {.start_rev = 2}).ok());
  ASSERT_TRUE(WaitFor([&] { return env.ws()->stats().victims == 1; }));
  ASSERT_TRUE(env.store()->Compact(150).ok());
  int64_t next = 2;
  bool canceled = false;
  while (!canceled) {
    auto r = NextWithin(*s);
    ASSERT_TRUE(r.has_value());
    for (const Event& e : r->events) EXPECT_EQ(e.kv.mod_revision, next++);
    if (r->canceled) {
      canceled = true;
      EXPECT_EQ(r->compact_revision, 150);
    }
  }
  EXPECT_LE(next, 151);  // it never got past the compaction
}

TEST(Watch, PrevKvIsTheValueBeforeAndAbsentWhenCompactedOrNone) {
  WatchEnv env;
  auto s = env.ws()->NewStream();
  ASSERT_TRUE(s->Watch("k", "", {.prev_kv = true}).ok());
  ASSERT_TRUE(env.store()->Put("k", "a").ok());                  // 2
  ASSERT_TRUE(env.store()->Put("k", "b").ok());                  // 3
  ASSERT_TRUE(env.store()->DeleteRange("k", "").ok());           // 4
  std::vector<Event> evs = Flatten(ReadEvents(*s, 3));
  ASSERT_EQ(evs.size(), 3u);
  EXPECT_FALSE(evs[0].prev_kv.has_value());
  ASSERT_TRUE(evs[1].prev_kv.has_value());
  EXPECT_EQ(*evs[1].prev_kv, Kv("k", 2, 2, 1, "a"));
  ASSERT_TRUE(evs[2].prev_kv.has_value());
  EXPECT_EQ(*evs[2].prev_kv, Kv("k", 2, 3, 2, "b"));
  EXPECT_EQ(evs[2], (Event{Event::Type::kDelete, Kv("k", 0, 4, 0, ""), evs[2].prev_kv}));

  // The previous revision compacted before the consumer reads: absent.
  ASSERT_TRUE(env.store()->Put("k", "c").ok());  // 5
  ASSERT_TRUE(env.store()->Put("x", "y").ok());  // 6
  ASSERT_TRUE(env.store()->Compact(6).ok());
  evs = Flatten(ReadEvents(*s, 1));
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].kv.value, "c");
  EXPECT_FALSE(evs[0].prev_kv.has_value());
}

TEST(Watch, WithoutPrevKvNoneIsRead) {
  WatchEnv env;
  auto s = env.ws()->NewStream();
  ASSERT_TRUE(s->Watch("k", "", {}).ok());
  ASSERT_TRUE(env.store()->Put("k", "a").ok());
  ASSERT_TRUE(env.store()->Put("k", "b").ok());
  std::vector<Event> evs = Flatten(ReadEvents(*s, 2));
  ASSERT_EQ(evs.size(), 2u);
  EXPECT_FALSE(evs[1].prev_kv.has_value());
}

struct FilterCase {
  const char* name;
  WatchOptions opts;
  std::vector<Event::Type> want;
};

class FilterTest : public ::testing::TestWithParam<FilterCase> {};

TEST_P(FilterTest, FiltersDropTheirEvents) {
  const FilterCase& c = GetParam();
  WatchEnv env;
  auto s = env.ws()->NewStream();
  ASSERT_TRUE(s->Watch("k", "", c.opts).ok());
  auto marker = s->Watch("zz-marker", "", {});
  ASSERT_TRUE(env.store()->Put("k", "a").ok());
  ASSERT_TRUE(env.store()->DeleteRange("k", "").ok());
  ASSERT_TRUE(env.store()->Put("k", "b").ok());
  ASSERT_TRUE(env.store()->Put("zz-marker", "end").ok());
  // Everything before the marker's event is what the filtered watch got.
  std::vector<Event::Type> got;
  while (true) {
    auto r = NextWithin(*s);
    ASSERT_TRUE(r.has_value());
    if (r->id == *marker) break;
    for (const Event& e : r->events) got.push_back(e.type);
  }
  EXPECT_EQ(got, c.want);
}

INSTANTIATE_TEST_SUITE_P(
    Watch, FilterTest,
    ::testing::Values(
        FilterCase{"none", {}, {Event::Type::kPut, Event::Type::kDelete, Event::Type::kPut}},
        FilterCase{"no_put", {.no_put = true}, {Event::Type::kDelete}},
        FilterCase{"no_delete", {.no_delete = true}, {Event::Type::kPut, Event::Type::kPut}},
        FilterCase{"both", {.no_put = true, .no_delete = true}, {}}),
    [](const auto& info) { return std::string(info.param.name); });

struct RangeCase {
  const char* name;
  std::string key, end;
  std::vector<std::string> want;  // of the puts a, b, ba, bz, c, d
};

class RangeTest : public ::testing::TestWithParam<RangeCase> {};

TEST_P(RangeTest, WatcherSeesExactlyItsKeys) {
  const RangeCase& c = GetParam();
  WatchEnv env;
  auto s = env.ws()->NewStream();
  ASSERT_TRUE(s->Watch(c.key, c.end, {}).ok());
  auto marker = s->Watch("~marker", "", {});
  for (const char* k : {"a", "b", "ba", "bz", "c", "d"}) ASSERT_TRUE(env.store()->Put(k, "v").ok());
  ASSERT_TRUE(env.store()->Put("~marker", "v").ok());
  std::vector<std::string> got;
  while (true) {
    auto r = NextWithin(*s);
    ASSERT_TRUE(r.has_value());
    if (r->id == *marker) break;
    for (const Event& e : r->events) {
      // An open range covers the marker too; responses of one revision
      // come in no set order across watchers.
      if (e.kv.key != "~marker") got.push_back(e.kv.key);
    }
  }
  EXPECT_EQ(got, c.want);
}

INSTANTIATE_TEST_SUITE_P(
    Watch, RangeTest,
    ::testing::Values(RangeCase{"single", "b", "", {"b"}},
                      RangeCase{"range", "b", "c", {"b", "ba", "bz"}},
                      RangeCase{"prefix", "b", "c", {"b", "ba", "bz"}},
                      RangeCase{"half_open", "ba", "bz", {"ba"}},
                      RangeCase{"from_key", "c", std::string(1, '\0'), {"c", "d"}},
                      RangeCase{"absent", "e", "", {}}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Watch, InvalidArgumentsAreRefused) {
  WatchEnv env;
  auto s = env.ws()->NewStream();
  EXPECT_TRUE(absl::IsInvalidArgument(s->Watch("", "", {}).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(s->Watch("b", "a", {}).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(s->Watch("b", "b", {}).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(s->Watch("b", "", {.start_rev = -1}).status()));
  EXPECT_TRUE(s->Watch("b", std::string(1, '\0'), {}).ok());
  EXPECT_TRUE(absl::IsNotFound(s->Cancel(99)));
  EXPECT_TRUE(absl::IsNotFound(s->RequestProgress(99)));
}

TEST(Watch, IdsAreUniquePerStream) {
  WatchEnv env;
  auto s = env.ws()->NewStream();
  std::vector<WatchId> ids;
  for (int i = 0; i < 10; ++i) ids.push_back(*s->Watch("k", "", {}));
  ASSERT_TRUE(s->Cancel(ids[3]).ok());
  ids.push_back(*s->Watch("k", "", {}));
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end());
}

TEST(Watch, CancelStopsEvents) {
  WatchEnv env;
  auto s = env.ws()->NewStream();
  auto a = s->Watch("a", "", {});
  auto b = s->Watch("b", "", {});
  ASSERT_TRUE(s->Cancel(*a).ok());
  EXPECT_TRUE(absl::IsNotFound(s->Cancel(*a)));
  ASSERT_TRUE(env.store()->Put("a", "1").ok());
  ASSERT_TRUE(env.store()->Put("b", "1").ok());
  auto r = NextWithin(*s);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->id, *b);  // nothing for a came first
  EXPECT_EQ(env.ws()->stats().synced, 1u);
}

TEST(Watch, ProgressOfASyncedWatcherCarriesTheRevision) {
  WatchEnv env;
  PutHistory(env.store(), 5);
  auto s = env.ws()->NewStream();
  auto id = s->Watch("other", "", {});
  ASSERT_TRUE(s->RequestProgress(*id).ok());
  auto r = NextWithin(*s);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->id, *id);
  EXPECT_EQ(r->revision, 5);
  EXPECT_TRUE(r->events.empty());
  EXPECT_FALSE(r->canceled);
}

TEST(Watch, ProgressNeverRunsAheadOfEvents) {
  // Requested while the watcher may still be catching up: either nothing is
  // sent, or the progress follows every event up to its revision.
  WatchEnv env({.sync_batch_revs = 7});
  PutHistory(env.store(), 300);
  for (int round = 0; round < 20; ++round) {
    auto s = env.ws()->NewStream();
    auto id = s->Watch("k", "", {.start_rev = 2});
    ASSERT_TRUE(s->RequestProgress(*id).ok());
    int64_t seen = 1;
    while (seen < 300) {
      auto r = NextWithin(*s);
      ASSERT_TRUE(r.has_value());
      if (r->events.empty()) {
        EXPECT_LE(r->revision, seen) << "progress ahead of the events";
      }
      for (const Event& e : r->events) EXPECT_EQ(e.kv.mod_revision, ++seen);
    }
  }
}

TEST(Watch, ManyWatchersOnOneKeyEachGetTheEvent) {
  WatchEnv env;
  std::vector<std::unique_ptr<WatchStream>> streams;
  for (int i = 0; i < 4; ++i) {
    streams.push_back(env.ws()->NewStream());
    for (int j = 0; j < 25; ++j) ASSERT_TRUE(streams.back()->Watch("k", "", {}).ok());
  }
  ASSERT_TRUE(env.store()->Put("k", "v").ok());
  for (auto& s : streams) {
    std::vector<WatchId> ids;
    for (const WatchResponse& r : ReadEvents(*s, 25)) {
      ASSERT_EQ(r.events.size(), 1u);
      EXPECT_EQ(r.events[0].kv.mod_revision, 2);
      ids.push_back(r.id);
    }
    std::sort(ids.begin(), ids.end());
    EXPECT_EQ(ids.size(), 25u);
    EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end());
  }
}

TEST(Watch, ATxnsChangesShareOneResponseAndRevisionInSubOrder) {
  WatchEnv env;
  ASSERT_TRUE(env.store()->Put("p/gone", "x").ok());  // 2
  auto s = env.ws()->NewStream();
  ASSERT_TRUE(s->Watch("p/", "p0", {}).ok());
  {
    auto txn = env.store()->Write();
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE((*txn)->Put("p/b", "1").ok());
    ASSERT_TRUE((*txn)->Put("p/a", "1").ok());
    ASSERT_TRUE((*txn)->Put("unwatched", "1").ok());
    ASSERT_TRUE((*txn)->DeleteRange("p/gone", "").ok());
    ASSERT_TRUE((*txn)->Put("p/b", "2").ok());
    ASSERT_TRUE((*txn)->End().ok());
  }
  auto r = NextWithin(*s);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->revision, 3);
  EXPECT_EQ(r->events, (std::vector<Event>{PutEv(Kv("p/b", 3, 3, 1, "1")),
                                           PutEv(Kv("p/a", 3, 3, 1, "1")), DelEv("p/gone", 3),
                                           PutEv(Kv("p/b", 3, 3, 2, "2"))}));
}

TEST(Watch, DeleteRangeGivesOneDeletePerKeyAndCompactionNone) {
  WatchEnv env;
  for (const char* k : {"a", "b", "c"}) ASSERT_TRUE(env.store()->Put(k, "v").ok());  // 2..4
  auto s = env.ws()->NewStream();
  ASSERT_TRUE(s->Watch("a", std::string(1, '\0'), {}).ok());
  ASSERT_TRUE(env.store()->DeleteRange("a", "c").ok());  // 5
  ASSERT_TRUE(env.store()->Compact(5).ok());
  ASSERT_TRUE(env.store()->Put("z", "end").ok());  // 6
  std::vector<WatchResponse> rs = ReadEvents(*s, 3);
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs[0].events, (std::vector<Event>{DelEv("a", 5), DelEv("b", 5)}));
  EXPECT_EQ(rs[1].events, (std::vector<Event>{PutEv(Kv("z", 6, 6, 1, "end"))}));
}

TEST(Watch, AWatcherJoiningDuringAnUnrecordedTxnGetsItsChanges) {
  // The transaction began with nobody watching, so it records nothing; the
  // watcher starts at its revision and is owed its changes anyway.
  WatchEnv env;
  auto txn = env.store()->Write();
  ASSERT_TRUE(txn.ok());
  ASSERT_TRUE((*txn)->Put("k", "1").ok());
  auto s = env.ws()->NewStream();
  ASSERT_TRUE(s->Watch("k", "", {}).ok());
  ASSERT_TRUE((*txn)->Put("k", "2").ok());
  ASSERT_TRUE((*txn)->End().ok());
  ASSERT_TRUE(env.store()->Put("k", "3").ok());
  std::vector<Event> evs = Flatten(ReadEvents(*s, 3));
  ASSERT_EQ(evs.size(), 3u);
  EXPECT_EQ(evs[0], PutEv(Kv("k", 2, 2, 1, "1")));
  EXPECT_EQ(evs[1], PutEv(Kv("k", 2, 2, 2, "2")));
  EXPECT_EQ(evs[2], PutEv(Kv("k", 2, 3, 3, "3")));
}

TEST(Watch, AStalledConsumerNeitherBlocksTheWriterNorLosesEvents) {
  WatchEnv env({.stream_queue = 4});
  auto slow = env.ws()->NewStream();
  auto fast = env.ws()->NewStream();
  ASSERT_TRUE(slow->Watch("k", "", {}).ok());
  ASSERT_TRUE(fast->Watch("k", "", {}).ok());
  constexpr int kPuts = 2000;
  // The writer finishes while nobody reads `slow` (this thread is both).
  for (int i = 0; i < kPuts; ++i) {
    ASSERT_TRUE(env.store()->Put("k", std::to_string(i)).ok());
    if (i % 2 == 0) {
      // fast keeps up
      while (fast->TryNext().has_value()) {
      }
    }
  }
  EXPECT_GE(env.ws()->stats().victims + env.ws()->stats().unsynced, 1u);
  int64_t want = 2;
  for (const Event& e : Flatten(ReadEvents(*slow, kPuts))) {
    EXPECT_EQ(e.kv.mod_revision, want);
    EXPECT_EQ(e.kv.value, std::to_string(want - 2));
    ++want;
  }
  EXPECT_EQ(want, kPuts + 2);
  ASSERT_TRUE(WaitFor([&] { return env.ws()->stats().synced == 2; }));
  ASSERT_TRUE(env.store()->Put("k", "after").ok());
  std::vector<Event> after = Flatten(ReadEvents(*slow, 1));
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].kv.value, "after");
}

TEST(Watch, ClosingAStreamCancelsItsWatchersAndEndsNext) {
  WatchEnv env;
  auto s = env.ws()->NewStream();
  ASSERT_TRUE(s->Watch("k", "", {}).ok());
  ASSERT_TRUE(s->Watch("a", "z", {.start_rev = 1}).ok());
  std::jthread reader([&] { EXPECT_FALSE(NextWithin(*s).has_value()); });
  s->Close();
  reader.join();
  auto st = env.ws()->stats();
  EXPECT_EQ(st.synced + st.unsynced + st.victims, 0u);
  EXPECT_TRUE(IsClosed(s->Watch("k", "", {}).status()));
  EXPECT_TRUE(IsClosed(s->Cancel(0)));
  EXPECT_FALSE(s->TryNext().has_value());
}

TEST(Watch, StopTokenEndsAWaitingNext) {
  WatchEnv env;
  auto s = env.ws()->NewStream();
  std::stop_source stop;
  stop.request_stop();
  EXPECT_FALSE(s->Next(stop.get_token()).has_value());
  ASSERT_TRUE(s->Watch("k", "", {}).ok());
  ASSERT_TRUE(env.store()->Put("k", "v").ok());
  // Queued responses come first even when stop is requested.
  auto r = s->Next(stop.get_token());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->events.size(), 1u);
}

TEST(Watch, StoreCloseClosesStreams) {
  WatchEnv env;
  auto s = env.ws()->NewStream();
  ASSERT_TRUE(s->Watch("k", "", {}).ok());
  std::jthread reader([&] { EXPECT_FALSE(NextWithin(*s).has_value()); });
  ASSERT_TRUE(env.store()->Close().ok());
  reader.join();
  EXPECT_TRUE(IsClosed(s->Watch("k", "", {}).status()));
  EXPECT_TRUE(IsClosed(env.ws()->NewStream()->Watch("k", "", {}).status()));
}

TEST(Watch, NoWatcherNoRecording) {
  // With nobody watching, the store is not told, and a later watcher still
  // starts right.
  WatchEnv env;
  {
    auto s = env.ws()->NewStream();
    auto id = s->Watch("k", "", {});
    ASSERT_TRUE(s->Cancel(*id).ok());
  }
  PutHistory(env.store(), 10);
  auto s = env.ws()->NewStream();
  ASSERT_TRUE(s->Watch("k", "", {.start_rev = 9}).ok());
  EXPECT_EQ(Revs(Flatten(ReadEvents(*s, 2))), (std::vector<int64_t>{9, 10}));
}

}  // namespace
}  // namespace revkv::mvcc
