// Single-sync commits: a small durable commit lists its spans and their
// checksums in the meta page and makes pages and meta durable with one
// fdatasync; open sets aside a newest meta whose listed spans do not hold what
// the commit wrote. These tests simulate power losses that persist the meta
// but not every page (the disk reordered writes), or tear a page.
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
std::map<std::string, std::string> Contents(const std::string& path, std::string* error) {
  std::map<std::string, std::string> out;
  absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path);
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
  static std::string StateOf(const std::string& path) {
    std::string error;
    std::map<std::string, std::string> c = Contents(path, &error);
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
  static void CommitCWith(const std::string& path, const std::function<void(FaultEnv&)>& arm) {
    FaultEnv env;
    absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path, Options{.env = &env});
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

TEST_F(CommitListTest, SmallCommitSyncsOnce) {
  uint64_t writes = 0, syncs = 0;
  CountCommitC(&writes, &syncs);
  EXPECT_EQ(syncs, 1u);
  EXPECT_GT(writes, 2u);  // pages, then the meta
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

TEST_F(CommitListTest, MetaThatLandedWithoutOneOfItsPagesYieldsToThePreviousCommit) {
  uint64_t writes = 0, syncs = 0;
  CountCommitC(&writes, &syncs);
  ASSERT_EQ(syncs, 1u);
  // Every write but the last is a page of C; the last is its meta.
  for (uint64_t lost = 1; lost <= writes; ++lost) {
    SCOPED_TRACE(absl::StrFormat("write %d of %d lost", lost, writes));
    const std::string path = Trial(absl::StrCat("drop", lost));
    CommitCWith(path, [&](FaultEnv& env) { env.DropNthWrite(lost); });
    EXPECT_EQ(StateOf(path), "A");
    absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path);
    ASSERT_OK(db);
    if (lost < writes) {
      EXPECT_NE((*db)->torn_commit().find("is incomplete: page"), std::string::npos)
          << (*db)->torn_commit();
    } else {
      EXPECT_EQ((*db)->torn_commit(), "");  // the meta itself was lost
    }
  }
}

TEST_F(CommitListTest, TornPageOfACommitYieldsToThePreviousCommit) {
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
    EXPECT_EQ(StateOf(path), whole_anyway ? "C" : "A");
  }
  EXPECT_GT(torn_pages, 0);
}

TEST_F(CommitListTest, CommitWhosePagesAllLandedIsKept) {
  const std::string path = Trial("whole");
  CommitCWith(path, [](FaultEnv&) {});
  EXPECT_EQ(StateOf(path), "C");
  absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path);
  ASSERT_OK(db);
  EXPECT_EQ((*db)->torn_commit(), "");
}

TEST_F(CommitListTest, CommitAfterATornOneReplacesItAndSurvivesReopen) {
  const std::string path = Trial("after");
  CommitCWith(path, [](FaultEnv& env) { env.DropNthWrite(1); });
  {
    absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path);
    ASSERT_OK(db);
    EXPECT_NE((*db)->torn_commit(), "");
    ASSERT_OK(CommitC(**db));
  }
  EXPECT_EQ(StateOf(path), "C");
  absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path);
  ASSERT_OK(db);
  EXPECT_EQ((*db)->torn_commit(), "");
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
