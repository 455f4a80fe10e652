// Corruption fuzz of the etcd import (run under ASan+UBSan in CI): a real
// etcd 3.4.23 writes a seeded history (tests/interop/etcd_history.h) and
// saves a snapshot; then each trial damages a copy at random (byte flips, a
// zeroed page, truncation, appended garbage, meta flips:
// tests/btree/corruption_fuzz.h) and, in a forked child with a deadline,
// imports it and reads the result back: HashKV and full ranges at every
// retained revision checked, and etcdctl's snapshot status of the file.
//
// Two paths:
//  - the snapshot as etcdctl restores it, its SHA-256 checked: every trial
//    must fail with DataLoss (a missing hash counts: truncation removes it)
//    or answer exactly as the undamaged snapshot -- never crash, hang, or
//    answer differently;
//  - the member's bare db under --skip-hash-check: bbolt keeps no
//    checksums of its data, so a flip inside a value can only be caught by
//    the record checks (import.h) if it breaks the record's form. Trials
//    must never crash or hang or fail with another code; answers that
//    differ without an error are counted and printed as what a bare db
//    cannot reveal, not failed.
//
// REVKV_SEED=<seed> [REVKV_FUZZ_TRIAL=<n>] replays; REVKV_FUZZ_TRIALS=<n>
// sets the trials per path (default 100).
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "interop/etcd/etcd_file.h"
#include "interop/etcd/import.h"
#include "revkv/db.h"
#include "tests/btree/corruption_fuzz.h"
#include "tests/cmd/etcd_server.h"
#include "tests/cmd/process.h"
#include "tests/interop/etcd_history.h"

namespace revkv::interop::etcd::testing {
namespace {

namespace fuzz = revkv::btree::testutil;
using revkv::testing::EtcdServer;
using revkv::testing::NewTempDir;

constexpr int kDefaultTrials = 100;
const std::string kAll(1, '\0');  // as range end: every key

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string FormatRange(const mvcc::RangeResult& r) {
  std::string out = absl::StrCat("rev ", r.rev, " count ", r.count, "\n");
  for (const mvcc::KeyValue& kv : r.kvs) {
    absl::StrAppend(&out, kv.key, " c", kv.create_revision, " m", kv.mod_revision, " v",
                    kv.version, " l", kv.lease, " ", kv.value.size(), ":", kv.value, "\n");
  }
  return out;
}

// A refusal for want of the hash is how truncation shows: damage found.
absl::Status AsDamage(const absl::Status& s) {
  return IsMissingHash(s) ? absl::DataLossError(s.message()) : s;
}

// Imports `file` into work/data and reads it back at `revisions`.
void Ops(const std::string& work, const std::string& file, bool skip_hash,
         const std::vector<int64_t>& revisions, fuzz::Answers* a) {
  absl::StatusOr<EtcdFile> f = ReadEtcdFile(file, !skip_hash);
  if (!a->Record("read", f.ok() ? absl::StatusOr<std::string>("") : AsDamage(f.status()))) return;
  // etcdctl's status covers every bucket (members, cluster: not imported);
  // asked only with the hash checked, where any damage must be an error.
  absl::StatusOr<EtcdStatus> st = StatusOf(*f->bolt);
  if (!skip_hash) a->Record("status", st.ok() ? absl::StatusOr<std::string>(absl::StrFormat(
                                    "crc %08x rev %d keys %d size %d", st->hash, st->revision,
                                    st->total_key, st->total_size))
                              : st.status());
  absl::StatusOr<ImportReport> r = ImportBolt(*f->bolt, work + "/data");
  if (!a->Record("import", r.ok() ? absl::StatusOr<std::string>(absl::StrFormat(
                                        "records %d leases %d rev %d compact %d ci %d",
                                        r->records, r->leases, r->revision, r->compact_revision,
                                        r->consistent_index))
                                  : r.status())) {
    return;
  }
  a->note = r->meta_note;
  Options o;
  o.read_only = true;
  o.create_if_missing = false;
  absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(work + "/data", o);
  if (!a->Record("open", db.ok() ? absl::StatusOr<std::string>("") : db.status())) return;
  for (int64_t rev : revisions) {
    absl::StatusOr<mvcc::HashResult> h = (*db)->HashKV(rev);
    a->Record(absl::StrCat("hashkv@", rev),
              h.ok() ? absl::StatusOr<std::string>(absl::StrFormat("%08x %d", h->hash, h->compact_rev))
                     : h.status());
    absl::StatusOr<mvcc::RangeResult> g = (*db)->Range("", kAll, {.rev = rev});
    a->Record(absl::StrCat("range@", rev),
              g.ok() ? absl::StatusOr<std::string>(FormatRange(*g)) : g.status());
  }
  a->Record("close", (*db)->Close().ok() ? absl::StatusOr<std::string>("") : absl::DataLossError("close"));
}

struct Source {
  std::string snapshot;  // bytes of `etcdctl snapshot save`'s file
  std::string db;        // bytes of the stopped member's member/snap/db
  std::vector<int64_t> revisions;  // retained revisions to read
};

class EtcdFuzz : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!EtcdServer::Available()) GTEST_SKIP() << "etcd 3.4 is not installed";
    plan_ = fuzz::PlanFromEnv({uint64_t(std::random_device{}())}, kDefaultTrials);
    EtcdServer etcd;
    std::string error;
    ASSERT_TRUE(etcd.Start(&error)) << error;
    EtcdHistory h;
    ASSERT_TRUE(WriteRandomHistory(etcd, plan_.seeds[0], 80, 3, &h, &error)) << error;
    dir_ = NewTempDir("etcd-fuzz");
    ASSERT_EQ(etcd.Etcdctl({"snapshot", "save", dir_ + "/snap"}).exit_code, 0);
    ASSERT_TRUE(etcd.Stop());
    src_.snapshot = ReadFile(dir_ + "/snap");
    src_.db = ReadFile(etcd.data_dir() + "/member/snap/db");
    for (int64_t rev : h.revisions) {
      if (rev > h.compact_revision) src_.revisions.push_back(rev);
    }
    ASSERT_FALSE(src_.revisions.empty());
  }

  // The answers for `bytes` undamaged (must be whole).
  std::map<std::string, std::string> Reference(const std::string& name, const std::string& bytes,
                                               bool skip_hash) {
    const std::string work = dir_ + "/ref-" + name;
    std::filesystem::create_directories(work);
    std::ofstream(work + "/file", std::ios::binary) << bytes;
    fuzz::Answers a;
    Ops(work, work + "/file", skip_hash, src_.revisions, &a);
    absl::StatusOr<std::map<std::string, std::string>> ref = a.AsReference();
    EXPECT_TRUE(ref.ok()) << ref.status();
    return ref.ok() ? *ref : std::map<std::string, std::string>();
  }

  void Run(const std::string& name, const std::string& bytes, bool skip_hash,
           const std::map<std::string, std::string>& cur,
           const std::map<std::string, std::string>& prev, fuzz::Tally* tally) {
    for (uint64_t seed : plan_.seeds) {
      for (int trial = 0; trial < plan_.trials_per_seed; ++trial) {
        if (plan_.only_trial >= 0 && trial != plan_.only_trial) continue;
        std::mt19937_64 rng = fuzz::TrialRng(seed, trial);
        std::string damaged = bytes;
        const fuzz::Damage d = fuzz::DamageFile(rng, 4096, damaged.size(), &damaged);
        if (damaged == bytes) continue;  // nothing changed: nothing to judge
        const std::string work = absl::StrCat(dir_, "/", name, trial);
        std::filesystem::create_directories(work);
        std::ofstream(work + "/file", std::ios::binary) << damaged;
        const fuzz::TrialResult r = fuzz::RunForked(
            [&] {
              fuzz::Answers a;
              Ops(work, work + "/file", skip_hash, src_.revisions, &a);
              return fuzz::Classify(a, d, cur, prev);
            },
            plan_.timeout);
        tally->Add(seed, trial, d, r);
        std::filesystem::remove_all(work);
      }
    }
    std::cout << name << ":\n" << tally->Summary() << std::endl;
  }

  fuzz::FuzzPlan plan_;
  std::string dir_;
  Source src_;
};

TEST_F(EtcdFuzz, DamagedSnapshotsFailOrAnswerAsTheWholeOne) {
  // etcd's snapshot holds two copies of one meta: either answers the same.
  const std::map<std::string, std::string> ref = Reference("snap", src_.snapshot, false);
  ASSERT_FALSE(ref.empty());
  fuzz::Tally tally;
  Run("snapshot", src_.snapshot, /*skip_hash=*/false, ref, ref, &tally);
  EXPECT_EQ(tally.failures(), 0) << tally.Summary();
  EXPECT_GT(tally.count(fuzz::TrialClass::kError), 0);
}

TEST_F(EtcdFuzz, DamagedBareDbsNeverCrashOrMisreport) {
  const std::map<std::string, std::string> cur = Reference("db", src_.db, true);
  ASSERT_FALSE(cur.empty());
  // The previous commit: the member's older meta, as the reader takes it
  // when the newer one is damaged (its checksum broken here on purpose).
  absl::StatusOr<std::unique_ptr<BoltFile>> f = BoltFile::FromBytes(src_.db);
  ASSERT_TRUE(f.ok()) << f.status();
  std::string older = src_.db;
  older[size_t((*f)->meta_slot()) * (*f)->page_size() + 16 + 56] ^= 1;
  const std::map<std::string, std::string> prev = Reference("db-prev", older, true);
  fuzz::Tally tally;
  Run("bare db", src_.db, /*skip_hash=*/true, cur, prev, &tally);
  EXPECT_EQ(tally.count(fuzz::TrialClass::kCrash), 0) << tally.Summary();
  EXPECT_EQ(tally.count(fuzz::TrialClass::kHang), 0) << tally.Summary();
  EXPECT_EQ(tally.count(fuzz::TrialClass::kOtherError), 0) << tally.Summary();
  EXPECT_EQ(tally.count(fuzz::TrialClass::kRollbackUnexpected), 0) << tally.Summary();
  std::cout << "bare db: " << tally.count(fuzz::TrialClass::kSilentDifference)
            << " trials answered differently without an error (damage inside values, which "
               "bbolt does not checksum)\n";
  EXPECT_GT(tally.count(fuzz::TrialClass::kError), 0);
}

}  // namespace
}  // namespace revkv::interop::etcd::testing
