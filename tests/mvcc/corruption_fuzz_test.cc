// Corruption fuzz at the store level (issue #19): a data directory built
// through revkv::DB, as the CLI opens one, with puts, overwrites,
// deletes, large values, a compaction and a key-ordered base, has its btree
// file damaged at random (tests/btree/corruption_fuzz.h). Then a user's
// operations run on it: open, ranges at the current and an old revision, point ranges of every
// key, HashKV at both, the backend's hash, snapshot save (read back through
// its status and a restore), a write, defrag and reads after it, close.
// Every answer must be the undamaged directory's, or an error be DataLoss.
//
// A rollback is judged as at the btree level: the build checks that the
// newest state is exactly one btree commit after the previous one, so a
// reported rollback must answer as the previous directory does.
//
// REVKV_SEED=<seed> [REVKV_FUZZ_TRIAL=<n>] replays; REVKV_FUZZ_TRIALS=<n>
// runs more.
#include <filesystem>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "btree/db.h"
#include "gtest/gtest.h"
#include "mvcc/store.h"
#include "revkv/db.h"
#include "snapshot/snapshot.h"
#include "tests/btree/corruption_fuzz.h"
#include "tests/btree/test_util.h"

namespace revkv::mvcc {
namespace {

namespace testutil = btree::testutil;
using revkv::DB;
using testutil::Answers;
using testutil::Damage;
using testutil::TrialResult;

constexpr uint32_t kPageSize = btree::kDefaultPageSize;  // DB's
constexpr int kDefaultTrials = 150;
const std::string kAll(1, '\0');  // as key and end: every key

const std::string& OpenNote(backend::Backend& b) { return b.open_note(); }

template <typename T>
absl::StatusOr<std::string> Answer(const absl::StatusOr<T>& r, std::string (*fmt)(const T&)) {
  if (!r.ok()) return r.status();
  return fmt(*r);
}

std::string FormatRange(const RangeResult& r) {
  std::string out = absl::StrCat("rev ", r.rev, " count ", r.count, "\n");
  for (const KeyValue& kv : r.kvs) {
    absl::StrAppend(&out, kv.key, " c", kv.create_revision, " m", kv.mod_revision, " v",
                    kv.version, " l", kv.lease, " ", kv.value.size(), ":", kv.value, "\n");
  }
  return out;
}

std::string FormatHash(const HashResult& h) {
  return absl::StrFormat("hash %08x rev %d compact %d", h.hash, h.rev, h.compact_rev);
}

std::string FormatStatus(const snapshot::Status& s) {
  // Not total_size nor the content hash: a snapshot copies free pages too,
  // and damage there is harmless.
  return absl::StrFormat("crc %08x rev %d keys %d", s.hash, s.revision, s.total_key);
}

absl::StatusOr<std::string> Done(const absl::Status& s) {
  if (!s.ok()) return s;
  return std::string();
}

// The keys ever written and the revision of the old reads.
struct Shape {
  std::vector<std::string> keys;
  int64_t old_rev = 0;
};

// The reads of a store; `op` prefixes their names.
void Reads(Store& store, const Shape& shape, const std::string& op, Answers* out) {
  out->Record(op + "range", Answer(store.Range(kAll, kAll), &FormatRange));
  std::string gets;
  absl::Status s;
  for (const std::string& key : shape.keys) {
    absl::StatusOr<RangeResult> r = store.Range(key, "");
    if (!r.ok()) {
      s = r.status();
      break;
    }
    gets += FormatRange(*r);
  }
  out->Record(op + "gets", s.ok() ? absl::StatusOr<std::string>(gets) : s);
  out->Record(op + "range_old", Answer(store.Range(kAll, kAll, {.rev = shape.old_rev}), &FormatRange));
  out->Record(op + "hash", Answer(store.HashByRev(0), &FormatHash));
  out->Record(op + "hash_old", Answer(store.HashByRev(shape.old_rev), &FormatHash));
}

// Every operation on the data directory `dir`; `work` holds what they make.
void RunOps(const std::string& dir, const std::string& work, const Shape& shape, Answers* out) {
  absl::StatusOr<std::unique_ptr<DB>> opened = DB::Open(dir, {});
  if (!opened.ok()) {
    out->Record("open", opened.status());
    return;
  }
  DB& d = **opened;
  Store& store = *d.store();
  out->note = OpenNote(*d.backend());
  out->Record("open", absl::StrCat("rev ", store.Rev(), " compact ", store.CompactRev()));
  Reads(store, shape, "", out);
  out->Record("backend_hash", [&]() -> absl::StatusOr<std::string> {
    absl::StatusOr<uint64_t> h = d.backend()->Hash();
    if (!h.ok()) return h.status();
    return absl::StrFormat("%016x", *h);
  }());

  // Snapshot save, then what a user does with the file: status, restore.
  const std::string snap = work + "/snap.db";
  if (out->Record("save", Done(snapshot::Save(&store, snap)))) {
    out->Record("save.status", Answer(snapshot::GetStatus(snap), &FormatStatus));
    const std::string restored = work + "/restored";
    if (out->Record("save.restore", Done(snapshot::Restore(snap, restored)))) {
      absl::StatusOr<std::unique_ptr<DB>> r = DB::Open(restored, {});
      if (out->Record("save.restore.open", r.ok() ? Done(absl::OkStatus()) : r.status())) {
        Reads(*(*r)->store(), shape, "save.restore.", out);
        out->Record("save.restore.close", Done((*r)->Close()));
      }
    }
  }

  // A write, then defrag and the reads again; after a failed write the
  // store's state is unknown, so nothing more is asked.
  if (!out->Record("write", [&]() -> absl::StatusOr<std::string> {
        absl::StatusOr<int64_t> rev = store.Put("fuzz-write", std::string(12000, 'W'));
        if (!rev.ok()) return rev.status();
        if (absl::Status s = d.backend()->ForceCommit(); !s.ok()) return s;
        return absl::StrCat("rev ", *rev);
      }())) {
    return;
  }
  if (out->Record("defrag", Done(d.backend()->Defrag()))) Reads(store, shape, "defrag.", out);
  out->Record("close", Done(d.Close()));
}

// ---- The data directory of one seed ----

struct Built {
  std::string prev, cur;  // the btree file after the next-to-last and last commit
  Shape shape;
  std::map<std::string, std::string> ref_prev, ref_cur;
};

void RandomWrites(Store& store, std::mt19937_64& rng, int txns, std::set<std::string>* keys) {
  for (int i = 0; i < txns; ++i) {
    const std::string key = absl::StrFormat("key%03d", int(rng() % 150));
    keys->insert(key);
    const int what = int(rng() % 20);
    if (what < 3) {
      ASSERT_OK(store.DeleteRange(key, ""));
    } else {
      std::string v = what == 3 ? std::string(10240 + rng() % 30720, char('A' + rng() % 26))
                                : absl::StrCat("v", i, std::string(rng() % 150, 'x'));
      ASSERT_OK(store.Put(key, v));
    }
  }
}

absl::StatusOr<btree::txid_t> FileTxid(const std::string& bytes, const std::string& path) {
  testutil::WriteFileBytes(path, bytes);
  absl::StatusOr<std::unique_ptr<btree::DB>> db =
      btree::DB::Open(path, btree::Options{.create_if_missing = false, .read_only = true});
  if (!db.ok()) return db.status();
  return (*db)->LastTxid();
}

void Build(uint64_t seed, const std::string& dir, Built* out) {
  std::mt19937_64 rng(seed);
  const std::string data = dir + "/built";
  std::set<std::string> keys;
  {
    ASSERT_OK_AND_ASSIGN(auto d, DB::Open(data, {}));
    RandomWrites(*d->store(), rng, 250, &keys);
    if (::testing::Test::HasFatalFailure()) return;
    const int64_t compact = d->store()->Rev() - 100;
    ASSERT_OK(d->store()->Compact(compact));
    ASSERT_OK(d->store()->WaitCompaction());
    RandomWrites(*d->store(), rng, 120, &keys);
    if (::testing::Test::HasFatalFailure()) return;
    // A key-ordered base in the file, which ranges read (and damage to it
    // must not change their answers).
    ASSERT_OK(d->store()->RebuildKeyOrderBase());
    out->shape.old_rev = compact + 40 + int64_t(rng() % 60);
    ASSERT_OK(d->Close());
  }
  out->prev = testutil::ReadFileBytes(revkv::DataFilePath(data));
  {
    ASSERT_OK_AND_ASSIGN(auto d, DB::Open(data, {}));
    RandomWrites(*d->store(), rng, 1 + int(rng() % 8), &keys);
    if (::testing::Test::HasFatalFailure()) return;
    ASSERT_OK(d->Close());
  }
  out->cur = testutil::ReadFileBytes(revkv::DataFilePath(data));
  // The previous state must be the newest commit's predecessor, so that a
  // btree rollback lands exactly on it.
  ASSERT_OK_AND_ASSIGN(btree::txid_t prev_txid, FileTxid(out->prev, dir + "/txid"));
  ASSERT_OK_AND_ASSIGN(btree::txid_t cur_txid, FileTxid(out->cur, dir + "/txid"));
  ASSERT_EQ(cur_txid, prev_txid + 1) << "the second session made more than one commit";
  keys.insert("fuzz-write");
  out->shape.keys.assign(keys.begin(), keys.end());

  for (auto [bytes, ref] : {std::pair{&out->prev, &out->ref_prev}, std::pair{&out->cur, &out->ref_cur}}) {
    const std::string work = dir + "/reference";
    std::filesystem::remove_all(work);
    std::filesystem::create_directories(work + "/data/member/snap");
    testutil::WriteFileBytes(revkv::DataFilePath(work + "/data"), *bytes);
    Answers answers;
    RunOps(work + "/data", work, out->shape, &answers);
    ASSERT_EQ(answers.note, "");
    ASSERT_OK_AND_ASSIGN(*ref, answers.AsReference());
  }
  ASSERT_NE(out->ref_prev.at("range"), out->ref_cur.at("range"));
  std::cout << "seed " << seed << ": " << out->cur.size() / kPageSize << " pages, "
            << out->shape.keys.size() << " keys, " << out->ref_cur.at("open") << ", old rev "
            << out->shape.old_rev << std::endl;
}

TEST(StoreCorruptionFuzzTest, DamageGivesDataLossOrRightAnswersNeverWrongOnes) {
  const testutil::FuzzPlan plan = testutil::PlanFromEnv({1911, 1912}, kDefaultTrials);
  testutil::ScopedTempDir dir;
  testutil::Tally tally;
  for (uint64_t seed : plan.seeds) {
    Built built;
    const std::string seed_dir = dir.File(absl::StrCat("seed", seed));
    std::filesystem::create_directories(seed_dir);
    Build(seed, seed_dir, &built);
    if (HasFatalFailure()) return;
    testutil::RunSeedTrials(
        plan, seed, seed_dir, built.cur, kPageSize, built.ref_cur, built.ref_prev,
        [](const std::string& work, const std::string& bytes) {
          std::filesystem::create_directories(work + "/data/member/snap");
          testutil::WriteFileBytes(revkv::DataFilePath(work + "/data"), bytes);
        },
        [&](const std::string& work, Answers* answers) {
          RunOps(work + "/data", work, built.shape, answers);
        },
        &tally);
  }
  const std::string failures = tally.Summary();
  EXPECT_EQ(tally.failures(), 0) << failures;
}

}  // namespace
}  // namespace revkv::mvcc
