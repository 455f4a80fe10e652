// Randomized model test of watch: random puts, deletes, txns and
// compactions, and random watchers (start revisions past, present and
// future, points, ranges, open ends, filters, prev_kv) on streams with small
// queues and irregular readers, checked against a plain reference history:
// every watcher sees exactly the reference's events for its keys from its
// start revision, in order, once each -- or a prefix of them and then a
// compaction cancel, if its start revision was compacted.
//
// The seed is printed; REVKV_SEED sets it, REVKV_WATCH_MODEL_OPS the number
// of operations.
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "mvcc/watchable_store.h"
#include "tests/mvcc/watch_test_util.h"

namespace revkv::mvcc {
namespace {

// The reference: a map of live keys and every event, per revision.
class Reference {
 public:
  int64_t rev = 1;
  std::vector<Event> events;  // in revision then sub order
  std::map<std::string, KeyValue> live;
  // key -> (revision, value or none) history, for prev_kv
  std::map<std::string, std::vector<std::pair<int64_t, std::optional<KeyValue>>>> history;

  void Put(const std::string& k, const std::string& v, int64_t r) {
    KeyValue kv{k, r, r, 1, v, 0};
    if (auto it = live.find(k); it != live.end()) {
      kv.create_revision = it->second.create_revision;
      kv.version = it->second.version + 1;
    }
    live[k] = kv;
    history[k].emplace_back(r, kv);
    events.push_back(Event{Event::Type::kPut, kv, std::nullopt});
  }
  // Keys deleted, in key order.
  int Delete(const std::string& k, const std::string& end, int64_t r) {
    std::vector<std::string> keys;
    for (auto& [key, kv] : live) {
      if (end.empty() ? key == k : key >= k && key < end) keys.push_back(key);
    }
    for (const std::string& key : keys) {
      live.erase(key);
      history[key].emplace_back(r, std::nullopt);
      Event e;
      e.type = Event::Type::kDelete;
      e.kv.key = key;
      e.kv.mod_revision = r;
      events.push_back(e);
    }
    return int(keys.size());
  }
  std::optional<KeyValue> At(const std::string& k, int64_t r) const {
    auto it = history.find(k);
    if (it == history.end()) return std::nullopt;
    std::optional<KeyValue> out;
    for (const auto& [hr, kv] : it->second) {
      if (hr > r) break;
      out = kv;
    }
    return out;
  }
};

struct Tracked {
  WatchId id;
  size_t stream;
  std::string key, end;
  bool unbounded;
  WatchOptions opts;
  int64_t start;  // resolved
  std::vector<Event> got;
  bool canceled = false;
  int64_t compact_revision = 0;
  bool done = false;  // a progress at the final revision came
  std::vector<std::string> log;
  int64_t compacted_at_start = 0;
};

bool Covers(const Tracked& t, const std::string& k) {
  if (t.end.empty() && !t.unbounded) return k == t.key;
  return k >= t.key && (t.unbounded || k < t.end);
}

TEST(WatchModel, EveryWatcherSeesExactlyTheReferenceEvents) {
  uint64_t seed = std::random_device{}();
  if (const char* env = getenv("REVKV_SEED")) seed = strtoull(env, nullptr, 10);
  std::printf("seed %llu (REVKV_SEED reruns it)\n", static_cast<unsigned long long>(seed));
  int ops = 20000;
  if (const char* env = getenv("REVKV_WATCH_MODEL_OPS")) ops = atoi(env);
  std::mt19937_64 rng(seed);
  auto rnd = [&](int64_t n) { return int64_t(rng() % uint64_t(n)); };

  WatchableStoreOptions options;
  options.stream_queue = size_t(2 + rnd(16));
  options.sync_batch_revs = 1 + rnd(300);
  options.victim_events_per_stream = size_t(rnd(3) == 0 ? 1 + rnd(4) : 1 + rnd(200));
  WatchEnv env(options);
  Store* store = env.store();
  Reference ref;
  int64_t compacted = 0;
  std::vector<std::unique_ptr<WatchStream>> streams;
  for (int i = 0; i < 6; ++i) streams.push_back(env.ws()->NewStream());
  std::vector<Tracked> watchers;
  std::map<std::pair<size_t, WatchId>, size_t> by_id;

  auto key = [&] { return std::string(1, char('a' + rnd(12))) + (rnd(2) ? "" : "x"); };
  auto take = [&](size_t si, const WatchResponse& r) {
    auto it = by_id.find({si, r.id});
    ASSERT_NE(it, by_id.end()) << "response for an unknown watch " << r.id;
    Tracked& t = watchers[it->second];
    if (t.compact_revision == -1) return;  // cancelled by the test: what was queued stays
    ASSERT_FALSE(t.canceled) << "a response after the cancel";
    t.log.push_back("r" + std::to_string(r.revision) + ":" +
                    (r.events.empty() ? std::string("-")
                                      : std::to_string(r.events.front().kv.mod_revision) + "-" +
                                            std::to_string(r.events.back().kv.mod_revision)));
    for (const Event& e : r.events) {
      EXPECT_LE(e.kv.mod_revision, r.revision);
      t.got.push_back(e);
    }
    if (r.canceled) {
      t.canceled = true;
      t.compact_revision = r.compact_revision;
    }
    if (r.events.empty() && !r.canceled && r.revision == ref.rev) t.done = true;
  };
  auto drain = [&](size_t si, int max) {
    for (int i = 0; i < max; ++i) {
      std::optional<WatchResponse> r = streams[si]->TryNext();
      if (!r) return;
      take(si, *r);
    }
  };

  for (int op = 0; op < ops; ++op) {
    const int64_t dice = rnd(100);
    if (dice < 45) {
      std::string k = key();
      ASSERT_TRUE(store->Put(k, std::to_string(op)).ok());
      ref.Put(k, std::to_string(op), ++ref.rev);
    } else if (dice < 55) {
      std::string k = key(), end = rnd(2) ? "" : key();
      if (!end.empty() && end <= k) end.clear();
      auto r = store->DeleteRange(k, end);
      ASSERT_TRUE(r.ok());
      const int64_t next = ref.rev + 1;
      const int n = ref.Delete(k, end, next);
      ASSERT_EQ(r->first, n);
      if (n > 0) ref.rev = next;
    } else if (dice < 65) {
      auto txn = store->Write();
      ASSERT_TRUE(txn.ok());
      const int64_t next = ref.rev + 1;
      int changes = 0;
      for (int64_t i = 0, n = 1 + rnd(5); i < n; ++i) {
        std::string k = key();
        if (rnd(4) == 0) {
          ASSERT_TRUE((*txn)->DeleteRange(k, "").ok());
          changes += ref.Delete(k, "", next);
        } else {
          ASSERT_TRUE((*txn)->Put(k, "t" + std::to_string(op)).ok());
          ref.Put(k, "t" + std::to_string(op), next);
          changes++;
        }
      }
      ASSERT_TRUE((*txn)->End().ok());
      if (changes > 0) ref.rev = next;
    } else if (dice < 67) {
      if (ref.rev > compacted + 1) {
        const int64_t at = compacted + 1 + rnd(ref.rev - compacted);
        ASSERT_TRUE(store->Compact(at).ok());
        compacted = at;
      }
    } else if (dice < 72 && watchers.size() < 300) {
      Tracked t;
      t.stream = size_t(rnd(int64_t(streams.size())));
      t.key = key();
      t.unbounded = false;
      switch (rnd(3)) {
        case 0:
          break;
        case 1:
          t.end = key();
          if (t.end <= t.key) t.end = t.key + "\xff";
          break;
        case 2:
          t.unbounded = true;
          break;
      }
      const int64_t sr = rnd(4);
      t.opts.start_rev = sr == 0 ? 0 : sr == 1 ? ref.rev + 1 + rnd(5) : 1 + rnd(ref.rev);
      t.opts.no_put = rnd(6) == 0;
      t.opts.no_delete = rnd(6) == 0;
      t.opts.prev_kv = rnd(3) == 0;
      t.start = t.opts.start_rev == 0 ? ref.rev + 1 : t.opts.start_rev;
      t.compacted_at_start = compacted;
      auto id = streams[t.stream]->Watch(t.key, t.unbounded ? std::string(1, '\0') : t.end, t.opts);
      ASSERT_TRUE(id.ok()) << id.status();
      t.id = *id;
      by_id[{t.stream, t.id}] = watchers.size();
      watchers.push_back(t);
    } else if (dice < 73 && !watchers.empty()) {
      // Cancel one: it drops out of the check.
      const size_t i = size_t(rnd(int64_t(watchers.size())));
      if (!watchers[i].canceled && !watchers[i].done) {
        // NotFound: a compaction removed it, its cancel is on its way.
        absl::Status s = streams[watchers[i].stream]->Cancel(watchers[i].id);
        ASSERT_TRUE(s.ok() || absl::IsNotFound(s)) << s;
        watchers[i].done = watchers[i].canceled = true;
        watchers[i].compact_revision = -1;  // by us
      }
    } else {
      drain(size_t(rnd(int64_t(streams.size()))), int(rnd(8)));
    }
  }

  // Read everything: each watcher reports progress at the final revision
  // once it is synced and everything before it was read.
  const auto deadline = std::chrono::steady_clock::now() + kWatchTimeout;
  for (size_t si = 0; si < streams.size(); ++si) {
    while (true) {
      bool all = true;
      for (const Tracked& t : watchers) {
        if (t.stream != si || t.done || t.canceled) continue;
        all = false;
        // NotFound: a compaction removed it; its cancel is still queued.
        absl::Status ps = streams[si]->RequestProgress(t.id);
        ASSERT_TRUE(ps.ok() || absl::IsNotFound(ps)) << ps;
      }
      if (all) break;
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "watchers never caught up";
      std::optional<WatchResponse> r = NextWithin(*streams[si], std::chrono::milliseconds(50));
      if (r) take(si, *r);
      drain(si, 1000);
    }
  }

  for (const Tracked& t : watchers) {
    if (t.compact_revision == -1) continue;  // cancelled by the test
    std::vector<Event> want;
    for (const Event& e : ref.events) {
      if (e.kv.mod_revision < t.start || !Covers(t, e.kv.key)) continue;
      if (e.type == Event::Type::kPut ? t.opts.no_put : t.opts.no_delete) continue;
      want.push_back(e);
    }
    SCOPED_TRACE(::testing::Message() << "watch " << t.key << ".." << t.end
                                      << (t.unbounded ? " (open)" : "") << " from " << t.start);
    std::vector<Event> got = t.got;
    for (Event& e : got) {
      if (e.prev_kv.has_value()) {
        ASSERT_TRUE(t.opts.prev_kv);
        EXPECT_EQ(e.prev_kv, ref.At(e.kv.key, e.kv.mod_revision - 1));
      } else if (t.opts.prev_kv) {
        // Absent: none then, or compacted by the time it was read.
        if (e.kv.mod_revision - 1 >= compacted) {
          EXPECT_FALSE(ref.At(e.kv.key, e.kv.mod_revision - 1).has_value());
        }
      }
      e.prev_kv.reset();
    }
    if (t.canceled) {
      EXPECT_GE(t.compact_revision, t.start);
      ASSERT_LE(got.size(), want.size());
      want.resize(got.size());
      std::string diff = FirstDifference(got, want);
      EXPECT_EQ(diff, "");
      if (!diff.empty()) {
        std::string revs;
        for (const auto& x : t.log) revs += x + " ";
        std::printf("canceled at %lld; responses: %s\n", (long long)t.compact_revision, revs.c_str());
      }
      // It stopped at the compaction, never past a hole.
      if (!got.empty()) {
        EXPECT_LT(got.back().kv.mod_revision, t.compact_revision);
      }
    } else {
      // Compactions after it started do not concern it unless it fell behind.
      EXPECT_LT(t.compacted_at_start, t.start) << "a compacted start was not canceled";
      std::string diff = FirstDifference(got, want);
      EXPECT_EQ(diff, "");
      if (!diff.empty()) {
        std::string revs;
        for (const auto& x : t.log) revs += x + " ";
        std::printf("responses: %s\n", revs.c_str());
      }
    }
  }
  std::printf("%zu watchers, %zu events, final revision %lld, compacted %lld\n", watchers.size(),
              ref.events.size(), static_cast<long long>(ref.rev),
              static_cast<long long>(compacted));
}

}  // namespace
}  // namespace revkv::mvcc
