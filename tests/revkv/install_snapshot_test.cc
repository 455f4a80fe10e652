// DB::InstallSnapshot: a lagging copy of a store takes a later snapshot of
// the same history in place -- what a Raft follower does with its leader's
// snapshot -- while readers and watchers go on. Every answer is checked
// against a plain model of the history: a read answers the model's state at
// its revision (or an error saying it was cut), a watcher receives exactly
// the model's events from its start (or is cancelled with the compacted
// revision), and afterwards the copy equals the source: revisions, HashKV,
// leases, and the same again after further writes and a reopen.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "lease/clock.h"
#include "mvcc/errors.h"
#include "mvcc/watch_stream.h"
#include "revkv/db.h"
#include "snapshot/file_util.h"
#include "snapshot/snapshot.h"
#include "tests/btree/test_util.h"

namespace revkv {
namespace {

using btree::testutil::ScopedTempDir;

// One change of the history.
struct Change {
  int64_t rev;
  std::string key;
  std::optional<std::string> value;  // nullopt: deleted
  int64_t lease = 0;
};

// The history as a list of changes per key, and in revision order.
class Model {
 public:
  int64_t rev() const { return rev_; }
  bool Live(const std::string& key) const { return At(key, rev_).has_value(); }
  void Put(const std::string& key, const std::string& value, int64_t lease) {
    Record({++rev_, key, value, lease});
  }
  // Deleting a missing key makes no revision (etcd's).
  bool Delete(const std::string& key) {
    if (!Live(key)) return false;
    Record({++rev_, key, std::nullopt, 0});
    return true;
  }
  std::optional<std::string> At(const std::string& key, int64_t rev) const {
    auto it = by_key_.find(key);
    if (it == by_key_.end()) return std::nullopt;
    std::optional<std::string> v;
    for (const Change& c : it->second) {
      if (c.rev > rev) break;
      v = c.value;
    }
    return v;
  }
  std::map<std::string, std::string> StateAt(int64_t rev) const {
    std::map<std::string, std::string> out;
    for (const auto& [key, changes] : by_key_) {
      if (std::optional<std::string> v = At(key, rev)) out[key] = *v;
    }
    return out;
  }
  int64_t LeaseOf(const std::string& key) const {
    auto it = by_key_.find(key);
    if (it == by_key_.end() || !it->second.back().value) return 0;
    return it->second.back().lease;
  }
  // The changes of revisions [from, to].
  std::vector<Change> Between(int64_t from, int64_t to) const {
    std::vector<Change> out;
    for (const Change& c : log_) {
      if (c.rev >= from && c.rev <= to) out.push_back(c);
    }
    return out;
  }

 private:
  void Record(Change c) {
    by_key_[c.key].push_back(c);
    log_.push_back(std::move(c));
  }
  int64_t rev_ = 1;
  std::map<std::string, std::vector<Change>> by_key_;
  std::vector<Change> log_;
};

constexpr int kKeys = 2000;
constexpr int kLeases = 4;
constexpr int64_t kTtl = 100000;

std::string KeyOf(int i) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "k%05d", i);
  return buf;
}

std::map<std::string, std::string> AsMap(const mvcc::RangeResult& r) {
  std::map<std::string, std::string> out;
  for (const mvcc::KeyValue& kv : r.kvs) out[kv.key] = kv.value;
  return out;
}

// One random operation, applied to the model and to each DB given, which
// must answer the model's revision.
void Step(std::mt19937_64& rng, int i, Model& model, const std::vector<DB*>& dbs) {
  const std::string key = KeyOf(int(rng() % kKeys));
  if (rng() % 5 == 0) {
    const bool changed = model.Delete(key);
    for (DB* db : dbs) {
      absl::StatusOr<std::pair<int64_t, int64_t>> r = db->DeleteRange(key, "");
      ASSERT_TRUE(r.ok()) << r.status();
      ASSERT_EQ(r->first, changed ? 1 : 0);
      ASSERT_EQ(r->second, model.rev());
    }
    return;
  }
  const int64_t lease = rng() % 4 == 0 ? int64_t(1 + rng() % kLeases) : 0;
  const std::string value = "v" + std::to_string(i);
  model.Put(key, value, lease);
  for (DB* db : dbs) {
    absl::StatusOr<int64_t> rev = db->Put(key, value, lease);
    ASSERT_TRUE(rev.ok()) << rev.status();
    ASSERT_EQ(*rev, model.rev());
  }
}

std::unique_ptr<DB> OpenDB(const std::string& dir) {
  absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(dir, {});
  EXPECT_TRUE(db.ok()) << db.status();
  return db.ok() ? *std::move(db) : nullptr;
}

// What a Raft member does with a snapshot: save, verify into a scratch
// directory, install the restored file.
absl::Status Install(DB* from, DB* into, const std::string& tmp, int round) {
  const std::string file = tmp + "/snap" + std::to_string(round);
  const std::string scratch = tmp + "/scratch" + std::to_string(round);
  if (absl::Status s = snapshot::Save(from->store(), file); !s.ok()) return s;
  if (absl::Status s = snapshot::Restore(file, scratch); !s.ok()) return s;
  absl::Status s = into->InstallSnapshot(DataFilePath(scratch));
  snapshot::RemoveAll(scratch);
  return s;
}

// The events a watcher received, checked against the model.
struct Watched {
  mvcc::WatchId id = 0;
  int64_t start = 0;
  std::vector<Change> got;
  bool canceled = false;
  int64_t compact_revision = 0;
};

void Collect(const mvcc::WatchResponse& r, std::map<mvcc::WatchId, Watched>* watched) {
  Watched& w = watched->at(r.id);
  if (r.canceled) {
    w.canceled = true;
    w.compact_revision = r.compact_revision;
  }
  for (const mvcc::Event& e : r.events) {
    Change c{e.kv.mod_revision, e.kv.key, std::nullopt, 0};
    if (e.type == mvcc::Event::Type::kPut) c.value = e.kv.value;
    w.got.push_back(c);
  }
}

void ExpectSameChanges(const std::vector<Change>& got, const std::vector<Change>& want,
                       const std::string& who) {
  ASSERT_EQ(got.size(), want.size()) << who;
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].rev, want[i].rev) << who << " event " << i;
    ASSERT_EQ(got[i].key, want[i].key) << who << " event " << i;
    ASSERT_EQ(got[i].value, want[i].value) << who << " event " << i;
  }
}

TEST(InstallSnapshotTest, ReadsAndWatchesGoOnAcrossInstallsOfALaterState) {
  const uint64_t seed = std::random_device{}();
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  ScopedTempDir tmp;
  std::unique_ptr<DB> src = OpenDB(tmp.path() + "/src");
  std::unique_ptr<DB> dst = OpenDB(tmp.path() + "/dst");
  ASSERT_NE(src, nullptr);
  ASSERT_NE(dst, nullptr);
  for (int64_t id = 1; id <= kLeases; ++id) {
    ASSERT_TRUE(src->lessor()->Grant(id, kTtl).ok());
    ASSERT_TRUE(dst->lessor()->Grant(id, kTtl).ok());
  }
  Model model;
  int op = 0;
  constexpr int kRounds = 3, kShared = 6000, kAhead = 6000;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    // Both apply the same writes; then the source runs ahead and compacts.
    for (int i = 0; i < kShared; ++i) Step(rng, op++, model, {src.get(), dst.get()});
    const int64_t dst_rev = model.rev();
    // Pinned before the install: a transaction and a past revision.
    absl::StatusOr<std::unique_ptr<mvcc::TxnRead>> pinned = dst->Read();
    ASSERT_TRUE(pinned.ok()) << pinned.status();
    for (int i = 0; i < kAhead; ++i) Step(rng, op++, model, {src.get()});
    // Past the copy's revision in one round in three: its watchers' starts
    // are compacted away then.
    const int64_t compact =
        round == 1 ? dst_rev + kAhead / 4 : dst_rev - int64_t(rng() % 500);
    ASSERT_TRUE(src->Compact(compact).ok());

    // Watchers on the copy: from the next revision, from the past (caught
    // up before the install), and from before the compaction.
    std::unique_ptr<mvcc::WatchStream> stream = dst->NewWatchStream();
    std::map<mvcc::WatchId, Watched> watched;
    for (int64_t start : {int64_t(0), dst_rev - 300, compact - 100}) {
      if (start < 0 || start <= dst->CompactRev()) continue;
      mvcc::WatchOptions o;
      o.start_rev = start;
      absl::StatusOr<mvcc::WatchId> id = stream->Watch("k", "l", o);
      ASSERT_TRUE(id.ok()) << id.status();
      Watched& w = watched[*id];
      w.id = *id;
      w.start = start == 0 ? dst_rev + 1 : start;
    }
    std::mutex watched_mu;
    std::condition_variable watched_cv;
    std::jthread consumer([&](std::stop_token stop) {
      while (std::optional<mvcc::WatchResponse> r = stream->Next(stop)) {
        std::lock_guard<std::mutex> l(watched_mu);
        Collect(*r, &watched);
        watched_cv.notify_all();
      }
    });

    // Readers at the current revision and at past ones while it installs.
    std::atomic<bool> stop{false};
    std::atomic<int64_t> reads{0}, cut{0};
    std::vector<std::thread> readers;
    std::atomic<int> wrong{0};
    for (int t = 0; t < 2; ++t) {
      readers.emplace_back([&, t] {
        std::mt19937_64 r(seed + uint64_t(t) + 1);
        while (!stop.load()) {
          mvcc::RangeOptions o;
          if (t == 1) o.rev = dst_rev - int64_t(r() % 200);
          absl::StatusOr<mvcc::RangeResult> got = dst->Range("k", "l", o);
          if (!got.ok()) {
            // Only a compaction the new data brought may refuse a past read.
            if (!(o.rev != 0 && mvcc::IsCompacted(got.status()))) wrong++;
            cut++;
            continue;
          }
          const int64_t at = o.rev != 0 ? o.rev : got->rev;
          if (AsMap(*got) != model.StateAt(at)) wrong++;
          reads++;
        }
      });
    }
    ASSERT_TRUE(Install(src.get(), dst.get(), tmp.path(), round).ok());
    // Let the readers see the new data too.
    const int64_t reads_at_install = reads.load();
    while (reads.load() < reads_at_install + 20 && cut.load() < 1000) std::this_thread::yield();
    stop = true;
    for (std::thread& t : readers) t.join();
    EXPECT_EQ(wrong.load(), 0);

    // The pinned transaction answers its revision, or says it was cut.
    absl::StatusOr<mvcc::RangeResult> old = (*pinned)->Range("k", "l", {});
    if (old.ok()) {
      EXPECT_EQ(AsMap(*old), model.StateAt(dst_rev));
    } else {
      EXPECT_TRUE(mvcc::IsRestored(old.status()) ||
                  (compact > dst_rev && mvcc::IsCompacted(old.status())))
          << old.status();
    }
    pinned->reset();

    // The copy is the source now.
    EXPECT_EQ(dst->Rev(), src->Rev());
    EXPECT_EQ(dst->CompactRev(), src->CompactRev());
    absl::StatusOr<mvcc::RangeResult> all = dst->Range("k", "l", {});
    ASSERT_TRUE(all.ok()) << all.status();
    EXPECT_EQ(AsMap(*all), model.StateAt(model.rev()));
    for (const mvcc::KeyValue& kv : all->kvs) {
      ASSERT_EQ(dst->lessor()->GetLease(kv.key), model.LeaseOf(kv.key)) << kv.key;
      ASSERT_EQ(kv.lease, model.LeaseOf(kv.key)) << kv.key;
    }
    absl::StatusOr<mvcc::HashResult> hd = dst->HashKV(0), hs = src->HashKV(0);
    ASSERT_TRUE(hd.ok() && hs.ok());
    EXPECT_EQ(hd->hash, hs->hash);
    EXPECT_TRUE(mvcc::IsCompacted(dst->Range("k", "l", {.rev = compact - 1}).status()));

    // Writes go on, on both, from the same revision.
    for (int i = 0; i < 500; ++i) Step(rng, op++, model, {src.get(), dst.get()});
    // Every watcher gets the model's events up to now, or is cancelled with
    // the compacted revision having received a prefix of them.
    {
      std::unique_lock<std::mutex> l(watched_mu);
      watched_cv.wait_for(l, std::chrono::seconds(20), [&] {
        for (auto& [id, w] : watched) {
          if (!w.canceled && (w.got.empty() || w.got.back().rev < model.rev())) return false;
        }
        return true;
      });
    }
    consumer.request_stop();
    consumer.join();
    for (auto& [id, w] : watched) {
      const std::string who = "watcher from " + std::to_string(w.start);
      if (w.canceled) {
        EXPECT_EQ(w.compact_revision, compact) << who;
        EXPECT_LE(w.start, compact) << who;
        const int64_t upto = w.got.empty() ? w.start - 1 : w.got.back().rev;
        ExpectSameChanges(w.got, model.Between(w.start, upto), who);
      } else {
        ExpectSameChanges(w.got, model.Between(w.start, model.rev()), who);
      }
    }
    // A watcher whose start the new data compacted must have been cancelled.
    if (compact >= dst_rev + 1) {
      for (auto& [id, w] : watched) EXPECT_TRUE(w.canceled) << "from " << w.start;
    }
    std::printf("round %d: %lld reads, %lld refused; %zu watchers\n", round,
                static_cast<long long>(reads.load()), static_cast<long long>(cut.load()),
                watched.size());
  }

  // A reopen finds the installed data and what came after.
  ASSERT_TRUE(dst->Close().ok());
  dst = OpenDB(tmp.path() + "/dst");
  ASSERT_NE(dst, nullptr);
  EXPECT_EQ(dst->Rev(), src->Rev());
  absl::StatusOr<mvcc::HashResult> hd = dst->HashKV(0), hs = src->HashKV(0);
  ASSERT_TRUE(hd.ok() && hs.ok());
  EXPECT_EQ(hd->hash, hs->hash);
  EXPECT_EQ(dst->lessor()->Leases().size(), size_t(kLeases));
}

// The guard does not rest on the snapshot being of the same history: a
// read that began before an install of unrelated data answers its own
// revision's data or ErrRestored, never a mix (without the generation
// check it reads the new index against the old file).
TEST(InstallSnapshotTest, AReadThatStraddlesAnInstallNeverMixesTheTwo) {
  ScopedTempDir tmp;
  std::unique_ptr<DB> mine = OpenDB(tmp.path() + "/mine");
  std::unique_ptr<DB> other = OpenDB(tmp.path() + "/other");
  ASSERT_NE(mine, nullptr);
  ASSERT_NE(other, nullptr);
  std::map<std::string, std::string> want;
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(mine->Put(KeyOf(i), "mine" + std::to_string(i)).ok());
    want[KeyOf(i)] = "mine" + std::to_string(i);
  }
  for (int i = 0; i < 600; ++i) ASSERT_TRUE(other->Put(KeyOf(599 - i), "other").ok());
  absl::StatusOr<std::unique_ptr<mvcc::TxnRead>> pinned = mine->Read();
  ASSERT_TRUE(pinned.ok());
  ASSERT_TRUE(Install(other.get(), mine.get(), tmp.path(), 0).ok());
  for (std::string_view end : {std::string_view(), std::string_view("l")}) {
    for (int i : {0, 7, 150, 299}) {
      absl::StatusOr<mvcc::RangeResult> r = (*pinned)->Range(KeyOf(i), end, {});
      if (r.ok()) {
        std::map<std::string, std::string> expect;
        for (const auto& [k, v] : want) {
          if (k == KeyOf(i) || (!end.empty() && k > KeyOf(i))) expect[k] = v;
        }
        EXPECT_EQ(AsMap(*r), expect) << KeyOf(i);
      } else {
        EXPECT_TRUE(mvcc::IsRestored(r.status())) << r.status();
      }
    }
  }
  absl::StatusOr<mvcc::RangeResult> now = mine->Range("k", "l", {});
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->count, 600);
  EXPECT_EQ(now->rev, other->Rev());
}

// A primary lessor's leases after an install are the new data's, each
// with its TTL from the install: one the source granted expires on the copy
// when its TTL has passed, and not before; one the copy alone had is gone.
TEST(InstallSnapshotTest, TheNewDatasLeasesExpireOnAPrimaryCopy) {
  ScopedTempDir tmp;
  lease::FakeClock clock;
  Options o;
  o.lease.clock = &clock;
  std::unique_ptr<DB> src = OpenDB(tmp.path() + "/src");
  absl::StatusOr<std::unique_ptr<DB>> opened = DB::Open(tmp.path() + "/dst", o);
  ASSERT_TRUE(opened.ok()) << opened.status();
  std::unique_ptr<DB> dst = *std::move(opened);
  ASSERT_NE(src, nullptr);
  ASSERT_TRUE(dst->lessor()->Grant(7, 1000).ok());  // the copy's own, not the source's
  ASSERT_TRUE(src->lessor()->Grant(9, 60).ok());
  ASSERT_TRUE(src->Put("leased", "v", 9).ok());
  ASSERT_TRUE(Install(src.get(), dst.get(), tmp.path(), 0).ok());
  EXPECT_EQ(dst->lessor()->Leases(), std::vector<lease::LeaseId>{9});
  EXPECT_EQ(dst->lessor()->GetLease("leased"), 9);
  clock.Advance(std::chrono::seconds(59));
  EXPECT_TRUE(dst->lessor()->ExpiredLeases(10).empty());
  clock.Advance(std::chrono::seconds(2));
  EXPECT_EQ(dst->lessor()->ExpiredLeases(10), std::vector<lease::LeaseId>{9});
}

TEST(InstallSnapshotTest, AFileThatDoesNotOpenChangesNothing) {
  ScopedTempDir tmp;
  std::unique_ptr<DB> db = OpenDB(tmp.path() + "/db");
  ASSERT_NE(db, nullptr);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(db->Put(KeyOf(i), "v").ok());
  absl::StatusOr<mvcc::HashResult> before = db->HashKV(0);
  ASSERT_TRUE(before.ok());
  const std::string junk = tmp.path() + "/junk";
  {
    FILE* f = std::fopen(junk.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs(std::string(8192, 'x').c_str(), f);
    std::fclose(f);
  }
  EXPECT_FALSE(db->InstallSnapshot(junk).ok());
  EXPECT_FALSE(db->InstallSnapshot(tmp.path() + "/missing").ok());
  absl::StatusOr<mvcc::HashResult> after = db->HashKV(0);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->hash, before->hash);
  EXPECT_EQ(after->rev, before->rev);
  // Reads and writes go on.
  ASSERT_TRUE(db->Put("after", "v").ok());
  absl::StatusOr<mvcc::RangeResult> r = db->Range("k", "l", {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->count, 100);
}

}  // namespace
}  // namespace revkv
