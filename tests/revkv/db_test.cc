// revkv::DB, the front door: create and reopen, read-only opens (shared
// lock, nothing written, writes refused), no store, the lock wait.
#include "revkv/db.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>

#include "backend/errors.h"
#include "gtest/gtest.h"
#include "mvcc/revision.h"
#include "revkv/lock_holder.h"
#include "tests/btree/test_util.h"

namespace revkv {
namespace {

using btree::testutil::ScopedTempDir;

std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Options ReadOnly() {
  Options o;
  o.read_only = true;
  return o;
}

// A store at DIR with a at revisions 2 and 3 and b at 4.
void MakeStore(const std::string& dir) {
  ASSERT_OK_AND_ASSIGN(auto db, DB::Open(dir, {}));
  ASSERT_OK(db->Put("a", "1"));
  ASSERT_OK(db->Put("a", "2"));
  ASSERT_OK(db->Put("b", "3"));
  ASSERT_OK(db->Close());
}

TEST(DBTest, ACreatedStoreHoldsItsWritesAfterAReopen) {
  ScopedTempDir tmp;
  const std::string dir = tmp.File("data");
  MakeStore(dir);
  EXPECT_TRUE(std::filesystem::exists(DataFilePath(dir)));
  ASSERT_OK_AND_ASSIGN(auto db, DB::Open(dir, {}));
  EXPECT_EQ(db->Rev(), 4);
  ASSERT_OK_AND_ASSIGN(mvcc::RangeResult r, db->Range("a", "", {.rev = 2}));
  ASSERT_EQ(r.kvs.size(), 1u);
  EXPECT_EQ(r.kvs[0].value, "1");
  ASSERT_OK(db->Close());
  EXPECT_TRUE(mvcc::IsClosed(db->Put("c", "4").status())) << "a closed DB answers, never crashes";
}

// Options::key_order_base reaches the store: on, a round builds the base
// and a range reads it; off, no round runs and ranges read by revision.
TEST(DBTest, TheKeyOrderedBaseOptionReachesTheStore) {
  ScopedTempDir tmp;
  for (bool on : {true, false}) {
    Options o;
    o.key_order_base = on;
    ASSERT_OK_AND_ASSIGN(auto db, DB::Open(tmp.File(on ? "on" : "off"), o));
    for (int i = 0; i < 100; ++i) ASSERT_OK(db->Put("k" + std::to_string(1000 + i), "v"));
    const absl::Status round = db->store()->RebuildKeyOrderBase();
    EXPECT_EQ(round.ok(), on) << round;
    ASSERT_OK_AND_ASSIGN(mvcc::RangeResult r, db->Range("k", "l"));
    EXPECT_EQ(r.kvs.size(), 100u);
    EXPECT_EQ(db->store()->key_order_base().entries_served, on ? 100 : 0);
    ASSERT_OK(db->Close());
  }
}

TEST(DBTest, ANewStoreIsDurableWhenOpenReturns) {
  ScopedTempDir tmp;
  const std::string dir = tmp.File("data");
  ASSERT_OK_AND_ASSIGN(auto writer, DB::Open(dir, {}));
  const std::string bytes = FileBytes(DataFilePath(dir));
  EXPECT_GT(bytes.size(), 0u);
  ASSERT_OK(writer->Close());
  // The close committed nothing new: the buckets were committed by Open.
  ASSERT_OK_AND_ASSIGN(auto ro, DB::Open(dir, ReadOnly()));
  ASSERT_OK_AND_ASSIGN(mvcc::RangeResult r, ro->Range("", std::string(1, '\0')));
  EXPECT_EQ(r.rev, 1);
  EXPECT_TRUE(r.kvs.empty());
}

TEST(DBTest, OpensThatMayNotCreateFindNoStore) {
  ScopedTempDir tmp;
  const std::string dir = tmp.File("none");
  Options no_create;
  no_create.create_if_missing = false;
  for (const Options& o : {ReadOnly(), no_create}) {
    absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(dir, o);
    EXPECT_TRUE(IsNoStore(db.status())) << db.status();
    EXPECT_FALSE(std::filesystem::exists(dir)) << "a failed open created the directory";
    db = DB::OpenFile(tmp.File("none.db"), o);
    EXPECT_TRUE(IsNoStore(db.status())) << db.status();
  }
  EXPECT_FALSE(IsNoStore(absl::NotFoundError("no revkv store at x"))) << "by payload, not text";
}

TEST(DBTest, AReadOnlyOpenRefusesEveryWriteAndWritesNothing) {
  ScopedTempDir tmp;
  const std::string dir = tmp.File("data");
  MakeStore(dir);
  const std::string before = FileBytes(DataFilePath(dir));
  {
    ASSERT_OK_AND_ASSIGN(auto db, DB::Open(dir, ReadOnly()));
    EXPECT_TRUE(db->read_only());
    EXPECT_TRUE(backend::IsReadOnly(db->Put("c", "x").status()));
    EXPECT_TRUE(backend::IsReadOnly(db->DeleteRange("a", "").status()));
    EXPECT_TRUE(backend::IsReadOnly(db->Write().status()));
    EXPECT_TRUE(backend::IsReadOnly(db->Compact(3)));
    EXPECT_TRUE(backend::IsReadOnly(db->store()->backend()->Defrag()));
    ASSERT_OK_AND_ASSIGN(mvcc::RangeResult r, db->Range("", std::string(1, '\0')));
    EXPECT_EQ(r.kvs.size(), 2u);
    EXPECT_EQ(r.rev, 4);
    ASSERT_OK(db->HashKV(0).status());
    ASSERT_OK(db->Sync());
    ASSERT_OK(db->Close());
  }
  EXPECT_TRUE(FileBytes(DataFilePath(dir)) == before) << "a read-only open changed the file";
}

TEST(DBTest, ReadOnlyOpensShareTheLockAndExcludeAWriter) {
  ScopedTempDir tmp;
  const std::string dir = tmp.File("data");
  MakeStore(dir);
  ASSERT_OK_AND_ASSIGN(auto r1, DB::Open(dir, ReadOnly()));
  ASSERT_OK_AND_ASSIGN(auto r2, DB::Open(dir, ReadOnly()));
  absl::StatusOr<std::unique_ptr<DB>> w = DB::Open(dir, {});
  EXPECT_TRUE(IsLocked(w.status())) << w.status();
  EXPECT_EQ(DescribeLockHolder(DataFilePath(dir)), "this process");
  ASSERT_OK(r1->Close());
  ASSERT_OK(r2->Close());
  ASSERT_OK_AND_ASSIGN(auto writer, DB::Open(dir, {}));
  absl::StatusOr<std::unique_ptr<DB>> r3 = DB::Open(dir, ReadOnly());
  EXPECT_TRUE(IsLocked(r3.status())) << "a reader opened beside a writer: " << r3.status();
}

TEST(DBTest, AnOpenWaitsForTheLockUntilTheHolderCloses) {
  ScopedTempDir tmp;
  const std::string dir = tmp.File("data");
  ASSERT_OK_AND_ASSIGN(auto holder, DB::Open(dir, {}));
  ASSERT_OK(holder->Put("k", "held"));
  std::atomic<bool> released{false};
  auto opened = std::async(std::launch::async, [&]() -> absl::Status {
    Options o;
    o.lock_timeout = std::chrono::seconds(60);
    absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(dir, o);
    if (!db.ok()) return db.status();
    if (!released.load()) return absl::InternalError("opened while the lock was held");
    return (*db)->Range("k", "").status();
  });
  // However far the opener got, it cannot pass the lock before this.
  released.store(true);
  ASSERT_OK(holder->Close());
  ASSERT_EQ(opened.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  ASSERT_OK(opened.get());
}

TEST(DBTest, AnOpenGivesUpAfterTheLockTimeout) {
  ScopedTempDir tmp;
  const std::string dir = tmp.File("data");
  ASSERT_OK_AND_ASSIGN(auto holder, DB::Open(dir, {}));
  Options o;
  o.lock_timeout = std::chrono::milliseconds(100);
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(dir, o);
  EXPECT_TRUE(IsLocked(db.status())) << db.status();
  EXPECT_GE(std::chrono::steady_clock::now() - start, o.lock_timeout);
}

TEST(DBTest, FindsTheFlockHolderInProcLocks) {
  const std::string locks =
      "1: POSIX  ADVISORY  WRITE 77 fd:01:42 0 EOF\n"
      "2: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF\n"
      "2: -> FLOCK  ADVISORY  WRITE 999 fd:01:42 0 EOF\n"
      "3: FLOCK  ADVISORY  READ  4321 fd:01:42 0 EOF\n";
  EXPECT_EQ(FindFlockHolder(locks, 0xfd, 1, 42), 4321) << "POSIX and waiting locks are skipped";
  EXPECT_EQ(FindFlockHolder(locks, 8, 1, 5678), 1234);
  EXPECT_EQ(FindFlockHolder(locks, 8, 1, 5679), 0);
}

TEST(DBTest, AReadOnlyOpenAppliesAnInterruptedCompactionToItsReadsOnly) {
  ScopedTempDir tmp;
  const std::string dir = tmp.File("data");
  MakeStore(dir);
  {
    // A compaction at 3 scheduled durably, its deletes never run: what a
    // crash right after scheduling leaves.
    ASSERT_OK_AND_ASSIGN(auto db, DB::Open(dir, {}));
    backend::BatchTx& tx = db->backend()->batch_tx();
    tx.Lock();
    absl::Status s =
        tx.UnsafePut(mvcc::kMetaBucket, mvcc::kScheduledCompactKey, mvcc::RevisionKey({3, 0}));
    tx.Unlock();
    ASSERT_OK(s);
    ASSERT_OK(db->Close());
  }
  const std::string before = FileBytes(DataFilePath(dir));
  {
    ASSERT_OK_AND_ASSIGN(auto ro, DB::Open(dir, ReadOnly()));
    EXPECT_EQ(ro->CompactRev(), 3);
    EXPECT_TRUE(mvcc::IsCompacted(ro->Range("a", "", {.rev = 2}).status()));
    ASSERT_OK_AND_ASSIGN(mvcc::RangeResult r, ro->Range("a", "", {.rev = 3}));
    ASSERT_EQ(r.kvs.size(), 1u);
    EXPECT_EQ(r.kvs[0].value, "2");
  }
  EXPECT_TRUE(FileBytes(DataFilePath(dir)) == before) << "a read-only open changed the file";
  ASSERT_OK_AND_ASSIGN(auto rw, DB::Open(dir, {}));
  ASSERT_OK(rw->WaitCompaction());
  EXPECT_EQ(rw->CompactRev(), 3);
  ASSERT_OK_AND_ASSIGN(mvcc::RangeResult r, rw->Range("a", "", {.rev = 3}));
  ASSERT_EQ(r.kvs.size(), 1u);
  EXPECT_EQ(r.kvs[0].value, "2");
}

TEST(DBTest, RefusesACommitterlessConfiguration) {
  ScopedTempDir tmp;
  Options o;
  o.batch_interval = std::chrono::milliseconds(0);
  EXPECT_TRUE(absl::IsInvalidArgument(DB::Open(tmp.File("d"), o).status()));
}

}  // namespace
}  // namespace revkv
