// The commit list and open's choice of meta. A commit makes its pages durable
// before its meta, and a small one lists its spans and their checksums in the
// meta. So a power loss anywhere in a commit leaves the commit before it,
// while a listed span that does not hold what was written (a disk that lost
// or tore a write it had acknowledged) is damage to the newest commit: open
// fails with DataLoss naming the page, and only Options::allow_rollback opens
// the commit before, saying so. A damaged meta page is what a torn meta write
// leaves: open takes the other meta and says so.
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <string>

#include "absl/strings/str_format.h"
#include "btree/db.h"
#include "gtest/gtest.h"
#include "tests/btree/fault_env.h"
#include "tests/btree/test_util.h"

namespace revkv::btree {
namespace {

using testutil::ScopedTempDir;

std::string Key(int i) { return absl::StrFormat("key%06d", i); }

absl::Status PutRange(DB& db, int from, int to, const std::string& value) {
  return db.Update([&](Tx& tx) -> absl::Status {
    absl::StatusOr<Bucket*> b = tx.CreateBucketIfNotExists("b");
    if (!b.ok()) return b.status();
    for (int i = from; i < to; ++i) {
      if (absl::Status s = (*b)->Put(Key(i), value); !s.ok()) return s;
    }
    return absl::OkStatus();
  });
}

// The value of every key in bucket "b", or an error description.
std::map<std::string, std::string> Contents(const std::string& path, std::string* error,
                                            const Options& options = {}) {
  std::map<std::string, std::string> out;
  absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path, options);
  if (!db.ok()) {
    *error = db.status().ToString();
    return out;
  }
  std::vector<std::string> problems;
  if (absl::Status s = (*db)->Check(&problems); !s.ok()) {
    *error = s.ToString();
    return out;
  }
  absl::Status s = (*db)->View([&](Tx& tx) -> absl::Status {
    absl::StatusOr<Bucket*> b = tx.GetBucket("b");
    if (!b.ok()) return b.status();
    Cursor c(*b);
    for (c.First(); c.Valid(); c.Next()) out[std::string(c.key())] = std::string(c.value());
    return c.status();
  });
  if (!s.ok()) *error = s.ToString();
  return out;
}

class CommitListTest : public ::testing::Test {
 protected:
  // A file with keys 0..999 = "A" (state A), durable.
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(template_);
    ASSERT_OK(db);
    ASSERT_OK(PutRange(**db, 0, 1000, "A"));
  }

  std::string Trial(const std::string& name) {
    const std::string path = dir_.File(name);
    testutil::WriteFileBytes(path, testutil::ReadFileBytes(template_));
    return path;
  }

  // Commit C: three keys far apart become "C" (a few leaves and branches).
  static absl::Status CommitC(DB& db) {
    return db.Update([](Tx& tx) -> absl::Status {
      absl::StatusOr<Bucket*> b = tx.GetBucket("b");
      if (!b.ok()) return b.status();
      for (int i : {5, 500, 995}) {
        if (absl::Status s = (*b)->Put(Key(i), "C"); !s.ok()) return s;
      }
      return absl::OkStatus();
    });
  }

  // "A" or "C" for the file at `path`, else what is wrong.
  static std::string StateOf(const std::string& path, const Options& options = {}) {
    std::string error;
    std::map<std::string, std::string> c = Contents(path, &error, options);
    if (!error.empty()) return error;
    if (c.size() != 1000) return absl::StrFormat("%d keys", c.size());
    int changed = 0;
    for (const auto& [k, v] : c) changed += v == "C";
    if (changed == 0) return "A";
    if (changed == 3 && c[Key(5)] == "C" && c[Key(500)] == "C" && c[Key(995)] == "C") return "C";
    return absl::StrFormat("%d keys changed", changed);
  }

  // Commits C to `path` through a FaultEnv armed by `arm`, as a process that
  // does not notice the fault (the power is lost afterwards).
  static void CommitCWith(const std::string& path, const std::function<void(FaultEnv&)>& arm,
                          bool no_sync = false) {
    FaultEnv env;
    absl::StatusOr<std::unique_ptr<DB>> db =
        DB::Open(path, Options{.no_sync = no_sync, .env = &env});
    ASSERT_OK(db);
    arm(env);
    EXPECT_OK(CommitC(**db));
  }

  // Writes and syncs commit C makes on a fresh copy of state A.
  void CountCommitC(uint64_t* writes, uint64_t* syncs) {
    FaultEnv env;
    absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(Trial("count"), Options{.env = &env});
    ASSERT_OK(db);
    env.ResetCounters();
    ASSERT_OK(CommitC(**db));
    *writes = env.writes();
    *syncs = env.syncs();
  }

  ScopedTempDir dir_;
  const std::string template_ = dir_.File("template");
};

TEST_F(CommitListTest, SmallCommitSyncsItsPagesThenItsMeta) {
  uint64_t writes = 0, syncs = 0;
  CountCommitC(&writes, &syncs);
  EXPECT_EQ(syncs, 2u);
  EXPECT_GT(writes, 2u);  // pages, then the meta
}

TEST_F(CommitListTest, PowerLossAtAnyWriteOfACommitLeavesThePreviousOrTheNewCommit) {
  uint64_t writes = 0, syncs = 0;
  CountCommitC(&writes, &syncs);
  for (uint64_t landed = 0; landed <= writes; ++landed) {
    SCOPED_TRACE(absl::StrFormat("%d of %d writes landed", landed, writes));
    const std::string path = Trial(absl::StrCat("cut", landed));
    CommitCWith(path, [&](FaultEnv& env) { env.StopPersistingAfterWrites(landed); });
    EXPECT_EQ(StateOf(path), landed == writes ? "C" : "A");
    absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path);
    ASSERT_OK(db);
    EXPECT_EQ((*db)->open_note(), "");  // nothing damaged, nothing set aside
  }
}

TEST_F(CommitListTest, CommitOfMoreSpansThanTheListHoldsSyncsTwice) {
  FaultEnv env;
  absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(Trial("big"), Options{.env = &env});
  ASSERT_OK(db);
  env.ResetCounters();
  ASSERT_OK(PutRange(**db, 1000, 3000, std::string(600, 'x')));  // ~300 new leaves
  EXPECT_GT(env.writes(), kMaxCommitList);
  EXPECT_EQ(env.syncs(), 2u);
}

TEST_F(CommitListTest, CommitWithALargeValueSyncsTwice) {
  FaultEnv env;
  absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(Trial("large"), Options{.env = &env});
  ASSERT_OK(db);
  env.ResetCounters();
  ASSERT_OK((*db)->Update([](Tx& tx) -> absl::Status {
    absl::StatusOr<Bucket*> b = tx.GetBucket("b");
    if (!b.ok()) return b.status();
    return (*b)->Put("large", std::string(50000, 'L'));
  }));
  EXPECT_EQ(env.syncs(), 2u);
}

TEST_F(CommitListTest, MetaThatLandedWithoutOneOfItsPagesIsDamageNotARollback) {
  uint64_t writes = 0, syncs = 0;
  CountCommitC(&writes, &syncs);
  // Every write but the last is a page of C; the last is its meta.
  for (uint64_t lost = 1; lost < writes; ++lost) {
    SCOPED_TRACE(absl::StrFormat("write %d of %d lost", lost, writes));
    const std::string path = Trial(absl::StrCat("drop", lost));
    CommitCWith(path, [&](FaultEnv& env) { env.DropNthWrite(lost); });
    absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path);
    ASSERT_FALSE(db.ok()) << "opened a commit whose page was lost";
    EXPECT_EQ(db.status().code(), absl::StatusCode::kDataLoss) << db.status();
    EXPECT_TRUE(IsNewestCommitDamaged(db.status())) << db.status();
    EXPECT_GE(DamagedPage(db.status()), 2) << db.status();
    EXPECT_EQ(testutil::ReadFileBytes(path).size() > 0, true);
    // The user's explicit choice opens the commit before, and says so.
    EXPECT_EQ(StateOf(path, Options{.allow_rollback = true}), "A");
    db = DB::Open(path, Options{.allow_rollback = true});
    ASSERT_OK(db);
    EXPECT_NE((*db)->open_note(), "");
  }
}

TEST_F(CommitListTest, TornPageOfTheNewestCommitIsDamage) {
  uint64_t writes = 0, syncs = 0;
  CountCommitC(&writes, &syncs);
  const std::string whole = Trial("whole");
  CommitCWith(whole, [](FaultEnv&) {});
  int torn_pages = 0;
  for (uint64_t torn = 1; torn < writes; ++torn) {
    SCOPED_TRACE(absl::StrFormat("write %d of %d torn", torn, writes));
    const std::string path = Trial(absl::StrCat("tear", torn));
    CommitCWith(path, [&](FaultEnv& env) { env.TearNthWrite(torn); });
    // A page whose second half already held the bytes it was to get (zeros
    // of a fresh page, say) is whole despite the tear: C is then right.
    const bool whole_anyway = testutil::ReadFileBytes(path) == testutil::ReadFileBytes(whole);
    torn_pages += !whole_anyway;
    if (whole_anyway) {
      EXPECT_EQ(StateOf(path), "C");
      continue;
    }
    absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path);
    EXPECT_TRUE(IsNewestCommitDamaged(db.status())) << db.status();
    EXPECT_EQ(StateOf(path, Options{.allow_rollback = true}), "A");
  }
  EXPECT_GT(torn_pages, 0);
}

TEST_F(CommitListTest, UnsyncedCommitWithoutOneOfItsPagesYieldsToThePreviousCommit) {
  // no_sync promises no order between pages and meta, so a lost page is a
  // crash before the commit was durable, not damage: open takes the commit
  // before, and says so.
  const std::string path = Trial("unsynced");
  CommitCWith(path, [](FaultEnv& env) { env.DropNthWrite(1); }, /*no_sync=*/true);
  EXPECT_EQ(StateOf(path), "A");
  absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path);
  ASSERT_OK(db);
  EXPECT_NE((*db)->open_note(), "");
}

TEST_F(CommitListTest, CommitWhosePagesAllLandedIsKept) {
  const std::string path = Trial("whole");
  CommitCWith(path, [](FaultEnv&) {});
  EXPECT_EQ(StateOf(path), "C");
  absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path);
  ASSERT_OK(db);
  EXPECT_EQ((*db)->open_note(), "");
}

TEST_F(CommitListTest, CommitAfterARollbackReplacesTheDamagedOneAndSurvivesReopen) {
  const std::string path = Trial("after");
  CommitCWith(path, [](FaultEnv& env) { env.DropNthWrite(1); });
  {
    absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path, Options{.allow_rollback = true});
    ASSERT_OK(db);
    EXPECT_NE((*db)->open_note(), "");
    ASSERT_OK(CommitC(**db));
  }
  EXPECT_EQ(StateOf(path), "C");
  absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path);
  ASSERT_OK(db);
  EXPECT_EQ((*db)->open_note(), "");
}

TEST_F(CommitListTest, DamagedMetaPageOpensTheOtherAndSaysSo) {
  const std::string path = Trial("meta");
  CommitCWith(path, [](FaultEnv&) {});
  absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path);
  ASSERT_OK(db);
  const txid_t newest = (*db)->LastTxid();
  db->reset();
  for (txid_t slot : {newest % 2, (newest + 1) % 2}) {
    SCOPED_TRACE(absl::StrFormat("meta page %d damaged", slot));
    std::string bytes = testutil::ReadFileBytes(path);
    bytes[slot * 4096 + sizeof(PageHeader) + 40] ^= 0x10;  // inside the body
    const std::string damaged = dir_.File(absl::StrCat("meta", slot));
    testutil::WriteFileBytes(damaged, bytes);
    EXPECT_EQ(StateOf(damaged), slot == newest % 2 ? "A" : "C");
    db = DB::Open(damaged);
    ASSERT_OK(db);
    EXPECT_NE((*db)->open_note().find(absl::StrFormat("meta page %d", slot)), std::string::npos)
        << (*db)->open_note();
  }
}

TEST_F(CommitListTest, VersionOneFileWithoutACommitListOpensAndTakesCommits) {
  const std::string path = Trial("v1");
  // Rewrite both metas as format version 1 wrote them: no commit list, the
  // checksum over the header and body only.
  std::string bytes = testutil::ReadFileBytes(path);
  for (size_t m = 0; m < 2; ++m) {
    char* page = bytes.data() + m * 4096;
    MetaBody body;
    std::memcpy(&body, page + sizeof(PageHeader), sizeof body);
    body.version = 1;
    std::memcpy(page + sizeof(PageHeader), &body, sizeof body);
    std::memset(page + kMetaChecksummed, 0, 4096 - kMetaChecksummed);
    SealMeta(page);
  }
  testutil::WriteFileBytes(path, bytes);
  EXPECT_EQ(StateOf(path), "A");
  {
    absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path);
    ASSERT_OK(db);
    ASSERT_OK(CommitC(**db));
  }
  EXPECT_EQ(StateOf(path), "C");
}

}  // namespace
}  // namespace revkv::btree
