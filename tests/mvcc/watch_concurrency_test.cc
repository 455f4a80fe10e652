// Watch under concurrency (run under ThreadSanitizer by CI: tag
// "concurrency"): two writers (puts, deletes, txns), a compactor, consumers
// creating and cancelling watchers while they read, and one consumer that
// stalls until the writers are done. Every watcher must see the writers'
// history for its keys from its start revision exactly once and in order
// (or a prefix of it, then a compaction cancel or its own cancel).
//
// The seed is printed; REVKV_SEED sets it, REVKV_WATCH_CONCURRENT_OPS the
// writes per writer.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "mvcc/watchable_store.h"
#include "tests/mvcc/watch_test_util.h"

namespace revkv::mvcc {
namespace {

struct Logged {
  int64_t rev, sub;
  Event event;
};

struct Tracked {
  size_t stream;
  WatchId id;
  std::string key, end;  // end "" point, "\0" open
  int64_t start_rev;     // as asked
  int64_t before = 0, after = 0;  // Rev() around the Watch call
  std::vector<Event> got;
  bool canceled = false, cancelled_by_us = false, done = false;
  int64_t compact_revision = 0;
};

bool Covers(const Tracked& t, const std::string& k) {
  if (t.end.empty()) return k == t.key;
  if (t.end.size() == 1 && t.end[0] == '\0') return k >= t.key;
  return k >= t.key && k < t.end;
}

TEST(WatchConcurrency, ExactlyOnceInOrderUnderWritersCompactionsAndStalls) {
  uint64_t seed = std::random_device{}();
  if (const char* env = getenv("REVKV_SEED")) seed = strtoull(env, nullptr, 10);
  std::printf("seed %llu (REVKV_SEED reruns it)\n", static_cast<unsigned long long>(seed));
  int ops = 5000;
  if (const char* env = getenv("REVKV_WATCH_CONCURRENT_OPS")) ops = atoi(env);

  WatchEnv env({.stream_queue = 8, .sync_batch_revs = 50, .victim_events_per_stream = 64});
  Store* store = env.store();
  constexpr int kWriters = 2, kConsumers = 3;
  std::mutex log_mu;
  std::vector<Logged> log;
  std::atomic<bool> writing{true};

  auto key_of = [](std::mt19937_64& rng) { return std::string(1, char('a' + rng() % 8)); };

  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      std::mt19937_64 rng(seed + 17 * w);
      for (int i = 0; i < ops; ++i) {
        const std::string value = "w" + std::to_string(w) + "-" + std::to_string(i);
        const int dice = int(rng() % 10);
        if (dice < 6) {
          std::string k = key_of(rng);
          auto rev = store->Put(k, value);
          ASSERT_TRUE(rev.ok());
          std::lock_guard l(log_mu);
          Event e{Event::Type::kPut, KeyValue{k, 0, *rev, 0, value, 0}, std::nullopt};
          log.push_back({*rev, 0, e});
        } else if (dice < 8) {
          // A txn: its reads see only itself and what came before it.
          auto txn = store->Write();
          ASSERT_TRUE(txn.ok());
          std::vector<Logged> mine;
          for (int j = 0; j < 3; ++j) {
            std::string k = key_of(rng);
            auto rev = (*txn)->Put(k, value + "." + std::to_string(j));
            ASSERT_TRUE(rev.ok());
            mine.push_back({*rev, j,
                            Event{Event::Type::kPut,
                                  KeyValue{k, 0, *rev, 0, value + "." + std::to_string(j), 0},
                                  std::nullopt}});
          }
          ASSERT_TRUE((*txn)->End().ok());
          std::lock_guard l(log_mu);
          log.insert(log.end(), mine.begin(), mine.end());
        } else {
          std::string k = key_of(rng);
          auto r = store->DeleteRange(k, "");
          ASSERT_TRUE(r.ok());
          if (r->first == 1) {
            Event e;
            e.type = Event::Type::kDelete;
            e.kv.key = k;
            e.kv.mod_revision = r->second;
            std::lock_guard l(log_mu);
            log.push_back({r->second, 0, e});
          }
        }
      }
    });
  }
  std::thread compactor([&] {
    std::mt19937_64 rng(seed + 99);
    while (writing.load()) {
      const int64_t at = store->Rev() - int64_t(rng() % 300);
      if (at > store->CompactRev() && at > 0) {
        absl::Status s = store->Compact(at);
        ASSERT_TRUE(s.ok() || IsCompacted(s)) << s;
      }
      std::this_thread::yield();
    }
  });

  std::vector<std::unique_ptr<WatchStream>> streams;
  for (int c = 0; c <= kConsumers; ++c) streams.push_back(env.ws()->NewStream());
  std::vector<std::vector<Tracked>> tracked(kConsumers + 1);
  auto take = [&](size_t c, const WatchResponse& r) {
    auto it = std::find_if(tracked[c].begin(), tracked[c].end(),
                           [&](const Tracked& t) { return t.id == r.id; });
    ASSERT_NE(it, tracked[c].end());
    if (it->cancelled_by_us) return;
    ASSERT_FALSE(it->canceled) << "a response after a compaction cancel";
    it->got.insert(it->got.end(), r.events.begin(), r.events.end());
    if (r.canceled) {
      it->canceled = true;
      it->compact_revision = r.compact_revision;
    }
  };
  auto add_watch = [&](size_t c, std::mt19937_64& rng) {
    Tracked t;
    t.stream = c;
    t.key = key_of(rng);
    switch (rng() % 3) {
      case 0: break;
      case 1: t.end = std::string(1, char(t.key[0] + 1 + rng() % 3)); break;
      case 2: t.end = std::string(1, '\0'); break;
    }
    t.before = store->Rev();
    t.start_rev = rng() % 3 == 0 ? 0 : std::max<int64_t>(1, t.before - int64_t(rng() % 200));
    auto id = streams[c]->Watch(t.key, t.end, {.start_rev = t.start_rev});
    ASSERT_TRUE(id.ok()) << id.status();
    t.after = store->Rev();
    t.id = *id;
    tracked[c].push_back(t);
  };

  std::vector<std::thread> consumers;
  for (int c = 0; c < kConsumers; ++c) {
    consumers.emplace_back([&, c] {
      std::mt19937_64 rng(seed + 1000 + c);
      while (writing.load()) {
        const int dice = int(rng() % 20);
        if (dice <= 3 && tracked[c].size() < 60) {
          add_watch(size_t(c), rng);
        } else if (dice == 4 && !tracked[c].empty()) {
          Tracked& t = tracked[c][rng() % tracked[c].size()];
          if (!t.canceled && !t.cancelled_by_us) {
            absl::Status s = streams[c]->Cancel(t.id);
            ASSERT_TRUE(s.ok() || absl::IsNotFound(s)) << s;
            t.cancelled_by_us = true;
          }
        } else {
          for (int i = 0; i < 4; ++i) {
            auto r = streams[c]->TryNext();
            if (!r) break;
            take(size_t(c), *r);
          }
        }
      }
    });
  }
  {
    // The stalled consumer: watches, then reads nothing until the end.
    std::mt19937_64 rng(seed + 5000);
    for (int i = 0; i < 10; ++i) add_watch(kConsumers, rng);
  }
  for (auto& t : writers) t.join();
  writing = false;
  compactor.join();
  for (auto& t : consumers) t.join();

  const int64_t final_rev = store->Rev();
  const auto deadline = std::chrono::steady_clock::now() + kWatchTimeout;
  for (size_t c = 0; c < streams.size(); ++c) {
    while (true) {
      bool all = true;
      for (Tracked& t : tracked[c]) {
        if (t.done || t.canceled || t.cancelled_by_us) continue;
        all = false;
        // NotFound: a compaction removed it; its cancel is still queued.
        absl::Status ps = streams[c]->RequestProgress(t.id);
        ASSERT_TRUE(ps.ok() || absl::IsNotFound(ps)) << ps;
      }
      if (all) break;
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "watchers never caught up";
      while (auto r = NextWithin(*streams[c], std::chrono::milliseconds(20))) {
        if (r->events.empty() && !r->canceled && r->revision == final_rev) {
          for (Tracked& t : tracked[c]) {
            if (t.id == r->id) t.done = true;
          }
          continue;
        }
        take(c, *r);
      }
    }
  }

  std::sort(log.begin(), log.end(), [](const Logged& a, const Logged& b) {
    return std::tie(a.rev, a.sub) < std::tie(b.rev, b.sub);
  });
  auto strip = [](Event e) {
    // Compared by type, key, value and revision (the writers' log does not
    // know create revisions and versions).
    e.kv.create_revision = e.kv.version = 0;
    e.prev_kv.reset();
    return e;
  };
  size_t checked = 0;
  for (const auto& ts : tracked) {
    for (const Tracked& t : ts) {
      SCOPED_TRACE(::testing::Message() << "watch " << t.key << " from " << t.start_rev);
      const int64_t from = t.start_rev == 0 ? t.before + 1 : t.start_rev;
      std::vector<Event> want;
      for (const Logged& l : log) {
        if (l.rev >= from && Covers(t, l.event.kv.key)) want.push_back(l.event);
      }
      std::vector<Event> got;
      for (const Event& e : t.got) got.push_back(strip(e));
      // A start of 0 began somewhere in (before, after + 1]: skip what
      // came before the first event it got, if that was before after + 1.
      size_t skip = 0;
      if (t.start_rev == 0) {
        while (skip < want.size() && want[skip].kv.mod_revision <= t.after &&
               (got.empty() || !(want[skip] == got[0]))) {
          skip++;
        }
      }
      want.erase(want.begin(), want.begin() + skip);
      if (t.canceled || t.cancelled_by_us) {
        ASSERT_LE(got.size(), want.size());
        want.resize(got.size());
      }
      if (t.canceled) {
        EXPECT_GE(t.compact_revision, from);
        if (!got.empty()) {
          EXPECT_LT(got.back().kv.mod_revision, t.compact_revision);
        }
      }
      EXPECT_EQ(FirstDifference(got, want), "");
      checked++;
    }
  }
  std::printf("%zu watchers checked, %zu changes, final revision %lld\n", checked, log.size(),
              static_cast<long long>(final_rev));
}

}  // namespace
}  // namespace revkv::mvcc
