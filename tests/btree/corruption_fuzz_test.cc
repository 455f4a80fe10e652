// Corruption fuzz at the btree level (issue #19): a file with puts,
// overwrites, deletes, overflow values and nested buckets is damaged at
// random (corruption_fuzz.h) and every operation a user has is run on it:
// open, point gets, scans, a hash over a full walk, CompactTo and WriteTo
// (each copy read back and checked), Check, a write and reads after it. An
// answer is never allowed to differ from the undamaged file's unless open
// reported a rollback after damage to a meta page, and then it must be the
// previous commit's.
//
// REVKV_SEED=<seed> [REVKV_FUZZ_TRIAL=<n>] replays; REVKV_FUZZ_TRIALS=<n>
// runs more.
#include <xxhash.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "btree/db.h"
#include "gtest/gtest.h"
#include "tests/btree/corruption_fuzz.h"
#include "tests/btree/test_util.h"

namespace revkv::btree {
namespace {

using testutil::Answers;
using testutil::Contents;
using testutil::Damage;
using testutil::TrialResult;

constexpr uint32_t kPageSize = 4096;
constexpr int kDefaultTrials = 300;

const std::string& OpenNote(const DB& db) { return db.open_note(); }
Options TrialOptions(bool read_only) {
  return Options{.create_if_missing = false, .read_only = read_only, .no_sync = true};
}

// "a/b" -> {"a", "b"}. (Debian's Abseil has its own string_view: no StrSplit.)
std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> out(1);
  for (char c : path) {
    if (c == '/') {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

// The bucket at `path` ("a/b": nested), created along the way if asked.
absl::StatusOr<Bucket*> BucketAt(Tx& tx, const std::string& path, bool create) {
  Bucket* b = &tx.root();
  for (const std::string& name : SplitPath(path)) {
    absl::StatusOr<Bucket*> next =
        create ? b->CreateBucketIfNotExists(name) : b->GetBucket(name);
    if (!next.ok()) return next.status();
    b = *next;
  }
  return b;
}

std::string Serialize(const Contents& c) {
  std::string out;
  for (const auto& [path, entries] : c) {
    absl::StrAppend(&out, "[", path, "]\n");
    for (const auto& [k, v] : entries) absl::StrAppend(&out, k, " ", v.size(), ":", v, "\n");
  }
  return out;
}

absl::StatusOr<std::string> ScanAnswer(DB& db) {
  absl::StatusOr<Contents> c = testutil::Dump(db);
  if (!c.ok()) return c.status();
  return Serialize(*c);
}

// Point gets of `keys` (bucket path, key), absent buckets and keys included.
absl::StatusOr<std::string> GetsAnswer(DB& db, const std::vector<std::pair<std::string, std::string>>& keys) {
  std::string out;
  absl::Status s = db.View([&](Tx& tx) -> absl::Status {
    for (const auto& [path, key] : keys) {
      absl::StatusOr<Bucket*> b = BucketAt(tx, path, false);
      std::string_view v;
      absl::Status got = b.ok() ? (*b)->Get(key, &v) : b.status();
      if (absl::IsNotFound(got)) {
        v = b.ok() ? "<absent>" : "<no bucket>";
      } else if (absl::IsFailedPrecondition(got)) {
        v = "<bucket>";
      } else if (!got.ok()) {
        return got;
      }
      absl::StrAppend(&out, path, "/", key, " ", v.size(), ":", std::string(v), "\n");
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

// Hashes a bucket walked backwards (the scans walk forwards), nested buckets
// included where their names stand.
absl::Status HashBucket(Bucket& b, int depth, XXH3_state_t* h) {
  Cursor c = b.NewCursor();
  for (c.Last(); c.Valid(); c.Prev()) {
    const uint64_t head[3] = {uint64_t(depth), c.key().size(), c.is_bucket() ? ~0ull : c.value().size()};
    XXH3_64bits_update(h, head, sizeof head);
    XXH3_64bits_update(h, c.key().data(), c.key().size());
    if (c.is_bucket()) {
      absl::StatusOr<Bucket*> child = b.GetBucket(c.key());
      if (!child.ok()) return child.status();
      if (absl::Status s = HashBucket(**child, depth + 1, h); !s.ok()) return s;
    } else {
      XXH3_64bits_update(h, c.value().data(), c.value().size());
    }
  }
  return c.status();
}

absl::StatusOr<std::string> HashAnswer(DB& db) {
  XXH3_state_t* h = XXH3_createState();
  XXH3_64bits_reset(h);
  absl::Status s = db.View([&](Tx& tx) { return HashBucket(tx.root(), 0, h); });
  const uint64_t digest = XXH3_64bits_digest(h);
  XXH3_freeState(h);
  if (!s.ok()) return s;
  return absl::StrFormat("%016x", digest);
}

absl::StatusOr<std::string> CheckAnswer(DB& db) {
  std::vector<std::string> problems;
  if (absl::Status s = db.Check(&problems); !s.ok()) return s;
  // A clean check has nothing to say; problems with OK would be a lie.
  return problems.empty() ? "clean" : absl::StrCat("OK with problems:", testutil::JoinProblems(problems));
}

// A copy a damaged file produced without error must read back whole and
// check clean: its answers go under `op`.
void ReadBackCopy(const std::string& path, const std::string& op, Answers* out) {
  absl::StatusOr<std::unique_ptr<DB>> copy = DB::Open(path, TrialOptions(/*read_only=*/true));
  if (!out->Record(op + ".open", copy.ok() ? absl::StatusOr<std::string>("") : copy.status())) {
    return;
  }
  out->Record(op + ".scan", ScanAnswer(**copy));
  out->Record(op + ".check", CheckAnswer(**copy));
}

// Every operation, on the file at `path`; `work` is a directory for copies.
void RunOps(const std::string& path, const std::string& work,
            const std::vector<std::pair<std::string, std::string>>& keys, Answers* out) {
  absl::StatusOr<std::unique_ptr<DB>> opened = DB::Open(path, TrialOptions(/*read_only=*/false));
  if (!opened.ok()) {
    out->Record("open", opened.status());
    return;
  }
  DB& db = **opened;
  out->note = OpenNote(db);
  out->Record("open", absl::StrCat("txid ", db.LastTxid()));
  out->Record("scan", ScanAnswer(db));
  out->Record("gets", GetsAnswer(db, keys));
  out->Record("hash", HashAnswer(db));

  const std::string compacted = work + "/compacted";
  if (out->Record("compact_to", [&]() -> absl::StatusOr<std::string> {
        if (absl::Status s = db.CompactTo(compacted); !s.ok()) return s;
        return "";
      }())) {
    ReadBackCopy(compacted, "compact_to", out);
  }
  const std::string written = work + "/written";
  if (out->Record("write_to", [&]() -> absl::StatusOr<std::string> {
        std::ofstream f(written, std::ios::binary | std::ios::trunc);
        absl::Status s = db.View([&](Tx& tx) { return tx.WriteTo(f); });
        f.close();
        if (!s.ok()) return s;
        if (!f) return absl::InternalError("writing the WriteTo copy failed");
        return "";
      }())) {
    ReadBackCopy(written, "write_to", out);
  }
  out->Record("check", CheckAnswer(db));

  // The write: a small value, an overflow value and a delete, so that it
  // allocates (freelist), rewrites paths and frees.
  if (!out->Record("write", [&]() -> absl::StatusOr<std::string> {
        absl::Status s = db.Update([&](Tx& tx) -> absl::Status {
          absl::StatusOr<Bucket*> a = BucketAt(tx, "a", false);
          if (!a.ok()) return a.status();
          if (absl::Status s = (*a)->Put("fuzz-write", "small"); !s.ok()) return s;
          if (absl::Status s = (*a)->Delete("k0003"); !s.ok()) return s;
          absl::StatusOr<Bucket*> n = BucketAt(tx, "b/nested", false);
          if (!n.ok()) return n.status();
          return (*n)->Put("fuzz-big", std::string(15000, 'W'));
        });
        if (!s.ok()) return s;
        return absl::StrCat("txid ", db.LastTxid());
      }())) {
    return;  // reads after a failed write would see an unknown state
  }
  out->Record("scan_after_write", ScanAnswer(db));
  out->Record("check_after_write", CheckAnswer(db));
}

// ---- The store of one seed ----

struct Built {
  std::string prev, cur;  // the file after the next-to-last and the last commit
  std::vector<std::pair<std::string, std::string>> keys;  // every (bucket, key) ever used
  std::map<std::string, std::string> ref_prev, ref_cur;  // RunOps on undamaged copies
};

std::string SmallValue(std::mt19937_64& rng, int round) {
  std::string v = absl::StrCat("r", round, "-");
  v.resize(v.size() + rng() % 200, char('a' + rng() % 26));
  return v;
}

// One commit of random changes to `db`, mirrored in `model`.
void RandomCommit(DB& db, std::mt19937_64& rng, int round, int changes, Contents* model,
                  std::set<std::pair<std::string, std::string>>* keys) {
  static const std::vector<std::string> kPaths = {"a", "b", "b/nested", "b/nested/deeper", "c"};
  ASSERT_OK(db.Update([&](Tx& tx) -> absl::Status {
    for (int i = 0; i < changes; ++i) {
      const std::string& path = kPaths[rng() % kPaths.size()];
      absl::StatusOr<Bucket*> b = BucketAt(tx, path, true);
      if (!b.ok()) return b.status();
      // Buckets created on the way, as Dump shows them.
      std::string parent;
      for (const std::string& name : SplitPath(path)) {
        (*model)[parent].emplace(name, testutil::BucketMarker(0));
        parent = parent.empty() ? name : absl::StrCat(parent, "/", name);
        (*model)[parent];
      }
      auto& entries = (*model)[path];
      const std::string key = absl::StrFormat("k%04d", int(rng() % 300));
      keys->emplace(path, key);
      const int what = int(rng() % 40);
      if (what < 6 && entries.count(key) != 0) {  // delete
        if (absl::Status s = (*b)->Delete(key); !s.ok()) return s;
        entries.erase(key);
      } else {  // put or overwrite; now and then an overflow value
        std::string v = what == 6 ? std::string(10240 + rng() % 30720, char('A' + round % 26))
                                  : SmallValue(rng, round);
        if (absl::Status s = (*b)->Put(key, v); !s.ok()) return s;
        entries[key] = std::move(v);
      }
    }
    return absl::OkStatus();
  }));
  absl::StatusOr<Contents> got = testutil::Dump(db);
  ASSERT_OK(got);
  ASSERT_EQ(testutil::DiffContents(*model, *got), "") << "round " << round;
}

void Build(uint64_t seed, const std::string& dir, Built* out) {
  std::mt19937_64 rng(seed);
  const std::string path = dir + "/built";
  Contents model;
  std::set<std::pair<std::string, std::string>> keys;
  {
    ASSERT_OK_AND_ASSIGN(auto db, DB::Open(path, Options{.page_size = kPageSize, .no_sync = true}));
    for (int round = 0; round < 6; ++round) {
      RandomCommit(*db, rng, round, 40 + int(rng() % 80), &model, &keys);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
  out->prev = testutil::ReadFileBytes(path);
  {
    // The last commit is durable: its pages were synced before its meta, so
    // damage to one of them is damage, never a torn commit to roll back (a
    // no_sync commit promises no order, and open takes the one before it).
    ASSERT_OK_AND_ASSIGN(auto db, DB::Open(path, Options{}));
    const txid_t before = db->LastTxid();
    RandomCommit(*db, rng, 6, 1 + int(rng() % 30), &model, &keys);
    if (::testing::Test::HasFatalFailure()) return;
    // A rollback lands on `prev` only if this was the one commit since.
    ASSERT_EQ(db->LastTxid(), before + 1);
    ASSERT_TRUE(testutil::CheckClean(*db));
  }
  out->cur = testutil::ReadFileBytes(path);
  keys.emplace("a", "fuzz-write");
  keys.emplace("b/nested", "fuzz-big");
  keys.emplace("no/such", "k0000");
  out->keys.assign(keys.begin(), keys.end());

  // The references: the same operations on undamaged copies.
  for (auto [bytes, ref] : {std::pair{&out->prev, &out->ref_prev}, std::pair{&out->cur, &out->ref_cur}}) {
    const std::string work = dir + "/reference";
    std::filesystem::remove_all(work);
    std::filesystem::create_directories(work);
    testutil::WriteFileBytes(work + "/db", *bytes);
    Answers answers;
    RunOps(work + "/db", work, out->keys, &answers);
    ASSERT_EQ(answers.note, "");
    ASSERT_OK_AND_ASSIGN(*ref, answers.AsReference());
    ASSERT_EQ(ref->at("check"), "clean");
  }
  ASSERT_NE(out->ref_prev.at("scan"), out->ref_cur.at("scan"));
  std::cout << "seed " << seed << ": " << out->prev.size() / kPageSize << " -> "
            << out->cur.size() / kPageSize << " pages, " << out->keys.size() << " keys" << std::endl;
}

TEST(CorruptionFuzzTest, DamageGivesDataLossOrRightAnswersNeverWrongOnes) {
  const testutil::FuzzPlan plan = testutil::PlanFromEnv({1901, 1902, 1903}, kDefaultTrials);
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
          testutil::WriteFileBytes(work + "/db", bytes);
        },
        [&](const std::string& work, Answers* answers) {
          RunOps(work + "/db", work, built.keys, answers);
        },
        &tally);
  }
  const std::string failures = tally.Summary();
  EXPECT_EQ(tally.failures(), 0) << failures;
}

}  // namespace
}  // namespace revkv::btree
