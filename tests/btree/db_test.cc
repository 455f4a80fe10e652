// DB, Tx and Bucket: the file engine's public behaviour, one behaviour per
// test. Every scenario ends with a clean structural Check.
#include "btree/db.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "btree/page.h"
#include "gtest/gtest.h"
#include "tests/btree/test_util.h"

namespace revkv::btree {
namespace {

using testutil::CheckClean;
using testutil::Contents;
using testutil::DiffContents;
using testutil::Dump;
using testutil::ScopedTempDir;

std::string Key(int i) { return absl::StrFormat("key%06d", i); }
std::string Value(int i, size_t size = 40) {
  std::string v = absl::StrFormat("value-%d-", i);
  while (v.size() < size) v += char('a' + (v.size() + i) % 26);
  v.resize(size);
  return v;
}

class DBTest : public ::testing::Test {
 protected:
  ScopedTempDir dir_;
  std::string path_ = dir_.File("db");

  std::unique_ptr<DB> MustOpen(const Options& options = {}) {
    absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path_, options);
    EXPECT_TRUE(db.ok()) << db.status();
    return db.ok() ? *std::move(db) : nullptr;
  }

  // Puts keys [from, to) with Value(i, size) into `bucket`, in one commit.
  static absl::Status Fill(DB& db, std::string_view bucket, int from, int to,
                           size_t size = 40) {
    return db.Update([&](Tx& tx) -> absl::Status {
      absl::StatusOr<Bucket*> b = tx.CreateBucketIfNotExists(bucket);
      if (!b.ok()) return b.status();
      for (int i = from; i < to; ++i) {
        if (absl::Status s = (*b)->Put(Key(i), Value(i, size)); !s.ok()) return s;
      }
      return absl::OkStatus();
    });
  }

  // The value of `key` in `bucket`, or the error.
  static absl::StatusOr<std::string> GetValue(DB& db, std::string_view bucket,
                                              std::string_view key) {
    std::string out;
    absl::Status s = db.View([&](Tx& tx) -> absl::Status {
      absl::StatusOr<Bucket*> b = tx.GetBucket(bucket);
      if (!b.ok()) return b.status();
      std::string_view v;
      if (absl::Status g = (*b)->Get(key, &v); !g.ok()) return g;
      out = std::string(v);
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    return out;
  }
};

// --- Open, create, reopen -------------------------------------------------

TEST_F(DBTest, OpenCreatesAnEmptyDatabase) {
  std::unique_ptr<DB> db = MustOpen();
  ASSERT_NE(db, nullptr);
  EXPECT_TRUE(Env::Default()->FileExists(path_));
  EXPECT_EQ(db->page_size(), kDefaultPageSize);
  EXPECT_FALSE(db->read_only());
  ASSERT_OK_AND_ASSIGN(auto tx, db->Begin(false));
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> names, tx->ListBuckets());
  EXPECT_TRUE(names.empty());
  tx->Rollback();
  EXPECT_TRUE(CheckClean(*db));
}

TEST_F(DBTest, OpenWithoutCreateIfMissingFailsForAMissingFile) {
  absl::StatusOr<std::unique_ptr<DB>> db =
      DB::Open(path_, Options{.create_if_missing = false});
  EXPECT_EQ(db.status().code(), absl::StatusCode::kNotFound) << db.status();
  EXPECT_FALSE(Env::Default()->FileExists(path_));
}

TEST_F(DBTest, ReopenKeepsCommittedData) {
  {
    std::unique_ptr<DB> db = MustOpen();
    ASSERT_NE(db, nullptr);
    ASSERT_OK(Fill(*db, "b", 0, 500));
  }
  std::unique_ptr<DB> db = MustOpen();
  ASSERT_NE(db, nullptr);
  for (int i = 0; i < 500; i += 37) {
    absl::StatusOr<std::string> v = GetValue(*db, "b", Key(i));
    ASSERT_OK(v);
    EXPECT_EQ(*v, Value(i));
  }
  EXPECT_TRUE(absl::IsNotFound(GetValue(*db, "b", Key(500)).status()));
  EXPECT_TRUE(CheckClean(*db));
}

TEST_F(DBTest, LastTxidAdvancesByOnePerCommitAndSurvivesReopen) {
  txid_t before;
  {
    std::unique_ptr<DB> db = MustOpen();
    ASSERT_NE(db, nullptr);
    before = db->LastTxid();
    ASSERT_OK(Fill(*db, "b", 0, 1));
    ASSERT_OK(Fill(*db, "b", 1, 2));
    EXPECT_EQ(db->LastTxid(), before + 2);
  }
  std::unique_ptr<DB> db = MustOpen();
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->LastTxid(), before + 2);
  ASSERT_OK_AND_ASSIGN(auto w, db->Begin(true));
  EXPECT_EQ(w->id(), before + 3);
}

TEST_F(DBTest, InvalidPageSizeIsRejected) {
  for (uint32_t size : {0u, 1024u, 3000u, 131072u}) {
    absl::StatusOr<std::unique_ptr<DB>> db =
        DB::Open(dir_.File(absl::StrCat("db", size)), Options{.page_size = size});
    EXPECT_EQ(db.status().code(), absl::StatusCode::kInvalidArgument)
        << "page size " << size << ": " << db.status();
  }
}

class PageSizeTest : public DBTest, public ::testing::WithParamInterface<uint32_t> {};

TEST_P(PageSizeTest, DataSpanningManyPagesRoundTripsAndThePageSizeIsKept) {
  const uint32_t page_size = GetParam();
  {
    std::unique_ptr<DB> db = MustOpen(Options{.page_size = page_size});
    ASSERT_NE(db, nullptr);
    EXPECT_EQ(db->page_size(), page_size);
    ASSERT_OK(Fill(*db, "b", 0, 5000, 100));
    ASSERT_OK_AND_ASSIGN(DBStats stats, db->Stats());
    EXPECT_EQ(stats.page_size, page_size);
    EXPECT_GT(stats.leaf_pages, 1u);
    EXPECT_GT(stats.max_depth, 1u);
    EXPECT_EQ(stats.buckets["b"].key_count, 5000u);
    EXPECT_EQ(db->FileSize() % page_size, 0u);
  }
  // The file's page size wins over the option.
  const uint32_t other = page_size == 4096 ? 65536 : 4096;
  std::unique_ptr<DB> db = MustOpen(Options{.page_size = other});
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->page_size(), page_size);
  ASSERT_OK_AND_ASSIGN(Contents c, Dump(*db));
  ASSERT_EQ(c["b"].size(), 5000u);
  for (int i = 0; i < 5000; ++i) ASSERT_EQ(c["b"][Key(i)], Value(i, 100)) << i;
  EXPECT_TRUE(CheckClean(*db));
}

INSTANTIATE_TEST_SUITE_P(Sizes, PageSizeTest, ::testing::Values(4096u, 65536u),
                         [](const auto& info) { return absl::StrCat(info.param); });

// --- Buckets ----------------------------------------------------------------

TEST_F(DBTest, CreateGetListAndDeleteTopLevelBuckets) {
  std::unique_ptr<DB> db = MustOpen();
  ASSERT_NE(db, nullptr);
  ASSERT_OK(db->Update([](Tx& tx) -> absl::Status {
    for (const char* name : {"zeta", "alpha", "mid"}) {
      absl::StatusOr<Bucket*> b = tx.CreateBucket(name);
      if (!b.ok()) return b.status();
      if (absl::Status s = (*b)->Put("k", name); !s.ok()) return s;
    }
    return absl::OkStatus();
  }));
  ASSERT_OK(db->View([](Tx& tx) -> absl::Status {
    absl::StatusOr<std::vector<std::string>> names = tx.ListBuckets();
    EXPECT_TRUE(names.ok()) << names.status();
    if (names.ok()) {
      EXPECT_EQ(*names, (std::vector<std::string>{"alpha", "mid", "zeta"}));
    }
    absl::StatusOr<Bucket*> mid = tx.GetBucket("mid");
    EXPECT_TRUE(mid.ok()) << mid.status();
    if (mid.ok()) {
      std::string_view v;
      EXPECT_OK((*mid)->Get("k", &v));
      EXPECT_EQ(v, "mid");
    }
    EXPECT_TRUE(absl::IsNotFound(tx.GetBucket("nope").status()));
    return absl::OkStatus();
  }));
  ASSERT_OK(db->Update([](Tx& tx) { return tx.DeleteBucket("mid"); }));
  ASSERT_OK(db->View([](Tx& tx) -> absl::Status {
    EXPECT_TRUE(absl::IsNotFound(tx.GetBucket("mid").status()));
    absl::StatusOr<std::vector<std::string>> names = tx.ListBuckets();
    EXPECT_TRUE(names.ok());
    if (names.ok()) {
      EXPECT_EQ(*names, (std::vector<std::string>{"alpha", "zeta"}));
    }
    return absl::OkStatus();
  }));
  EXPECT_TRUE(CheckClean(*db));
}

TEST_F(DBTest, CreateBucketFailsWithAlreadyExistsButCreateIfNotExistsReturnsIt) {
  std::unique_ptr<DB> db = MustOpen();
  ASSERT_NE(db, nullptr);
  ASSERT_OK(db->Update([](Tx& tx) -> absl::Status {
    absl::StatusOr<Bucket*> b = tx.CreateBucket("b");
    if (!b.ok()) return b.status();
    return (*b)->Put("k", "v");
  }));
  ASSERT_OK(db->Update([](Tx& tx) -> absl::Status {
    EXPECT_EQ(tx.CreateBucket("b").status().code(), absl::StatusCode::kAlreadyExists);
    absl::StatusOr<Bucket*> b = tx.CreateBucketIfNotExists("b");
    EXPECT_TRUE(b.ok()) << b.status();
    if (b.ok()) {
      std::string_view v;
      EXPECT_OK((*b)->Get("k", &v));
      EXPECT_EQ(v, "v");
    }
    return absl::OkStatus();
  }));
  EXPECT_TRUE(CheckClean(*db));
}

TEST_F(DBTest, DeletingAMissingBucketIsNotFound) {
  std::unique_ptr<DB> db = MustOpen();
  ASSERT_NE(db, nullptr);
  ASSERT_OK_AND_ASSIGN(auto tx, db->Begin(true));
  EXPECT_TRUE(absl::IsNotFound(tx->DeleteBucket("nope")));
  tx->Rollback();
  EXPECT_TRUE(CheckClean(*db));
}

TEST_F(DBTest, KeysHoldingValuesAndKeysNamingBucketsDoNotMix) {
  std::unique_ptr<DB> db = MustOpen();
  ASSERT_NE(db, nullptr);
  ASSERT_OK_AND_ASSIGN(auto tx, db->Begin(true));
  ASSERT_OK_AND_ASSIGN(Bucket * b, tx->CreateBucket("b"));
  ASSERT_OK(b->Put("value", "v"));
  ASSERT_OK(b->CreateBucket("child"));
  std::string_view v;
  EXPECT_EQ(b->Get("child", &v).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(b->Put("child", "x").ok());
  EXPECT_FALSE(b->Delete("child").ok());
  EXPECT_EQ(b->GetBucket("value").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(b->CreateBucket("value").ok());
  EXPECT_FALSE(b->DeleteBucket("value").ok());
  // Both survive the failed calls.
  EXPECT_OK(b->Get("value", &v));
  EXPECT_EQ(v, "v");
  EXPECT_OK(b->GetBucket("child"));
  ASSERT_OK(tx->Commit());
  EXPECT_TRUE(CheckClean(*db));
}

TEST_F(DBTest, NestedBucketsPersistAndDeleteRecursively) {
  {
    std::unique_ptr<DB> db = MustOpen();
    ASSERT_NE(db, nullptr);
    ASSERT_OK(db->Update([](Tx& tx) -> absl::Status {
      absl::StatusOr<Bucket*> a = tx.CreateBucket("a");
      if (!a.ok()) return a.status();
      absl::StatusOr<Bucket*> b = (*a)->CreateBucket("b");
      if (!b.ok()) return b.status();
      absl::StatusOr<Bucket*> c = (*b)->CreateBucket("c");
      if (!c.ok()) return c.status();
      for (int i = 0; i < 2000; ++i) {  // enough for several pages per level
        if (absl::Status s = (*a)->Put(Key(i), Value(i)); !s.ok()) return s;
        if (absl::Status s = (*b)->Put(Key(i), Value(i + 1)); !s.ok()) return s;
        if (absl::Status s = (*c)->Put(Key(i), Value(i + 2)); !s.ok()) return s;
      }
      return absl::OkStatus();
    }));
  }
  std::unique_ptr<DB> db = MustOpen();
  ASSERT_NE(db, nullptr);
  ASSERT_OK_AND_ASSIGN(Contents c, Dump(*db));
  EXPECT_EQ(c["a"].size(), 2001u);  // 2000 keys and bucket "b"
  EXPECT_EQ(c["a/b"].size(), 2001u);
  EXPECT_EQ(c["a/b/c"].size(), 2000u);
  EXPECT_EQ(c["a/b/c"][Key(7)], Value(9));
  ASSERT_OK_AND_ASSIGN(DBStats before, db->Stats());
  EXPECT_EQ(before.buckets.count("a/b/c"), 1u);

  ASSERT_OK(db->Update([](Tx& tx) { return tx.DeleteBucket("a"); }));
  ASSERT_OK_AND_ASSIGN(Contents after, Dump(*db));
  EXPECT_EQ(DiffContents(Contents{{"", {}}}, after), "");
  // The pages of all three trees went back to the allocator.
  ASSERT_OK(Fill(*db, "x", 0, 1));  // a later commit releases them
  ASSERT_OK_AND_ASSIGN(DBStats stats, db->Stats());
  EXPECT_GE(stats.free_pages + stats.pending_pages,
            before.leaf_pages + before.branch_pages - 4);
  EXPECT_TRUE(CheckClean(*db));
}

TEST_F(DBTest, SequenceCountsPersistsAndRollsBack) {
  {
    std::unique_ptr<DB> db = MustOpen();
    ASSERT_NE(db, nullptr);
    ASSERT_OK(db->Update([](Tx& tx) -> absl::Status {
      absl::StatusOr<Bucket*> b = tx.CreateBucket("b");
      if (!b.ok()) return b.status();
      EXPECT_EQ((*b)->Sequence(), 0u);
      EXPECT_EQ((*b)->NextSequence().value_or(0), 1u);
      EXPECT_EQ((*b)->NextSequence().value_or(0), 2u);
      EXPECT_EQ((*b)->Sequence(), 2u);
      absl::StatusOr<Bucket*> n = (*b)->CreateBucket("nested");
      if (!n.ok()) return n.status();
      return (*n)->SetSequence(100);
    }));
    ASSERT_OK_AND_ASSIGN(auto tx, db->Begin(true));
    ASSERT_OK_AND_ASSIGN(Bucket * b, tx->GetBucket("b"));
    ASSERT_OK(b->SetSequence(50));
    tx->Rollback();
  }
  std::unique_ptr<DB> db = MustOpen();
  ASSERT_NE(db, nullptr);
  ASSERT_OK_AND_ASSIGN(auto tx, db->Begin(false));
  ASSERT_OK_AND_ASSIGN(Bucket * b, tx->GetBucket("b"));
  EXPECT_EQ(b->Sequence(), 2u);
  ASSERT_OK_AND_ASSIGN(Bucket * n, b->GetBucket("nested"));
  EXPECT_EQ(n->Sequence(), 100u);
  EXPECT_FALSE(b->NextSequence().ok());  // read transaction
  EXPECT_FALSE(b->SetSequence(3).ok());
  EXPECT_EQ(b->Sequence(), 2u);
  EXPECT_TRUE(CheckClean(*db));
}

// --- Keys and values --------------------------------------------------------

TEST_F(DBTest, EmptyKeyIsRejectedWithInvalidArgument) {
  std::unique_ptr<DB> db = MustOpen();
  ASSERT_NE(db, nullptr);
  ASSERT_OK_AND_ASSIGN(auto tx, db->Begin(true));
  ASSERT_OK_AND_ASSIGN(Bucket * b, tx->CreateBucket("b"));
  absl::Status s = b->Put("", "v");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find("key"), std::string::npos) << s;
  EXPECT_FALSE(tx->CreateBucket("").ok());
  // The transaction stays usable.
  ASSERT_OK(b->Put("k", "v"));
  ASSERT_OK(tx->Commit());
  EXPECT_TRUE(CheckClean(*db));
}

TEST_F(DBTest, KeyOfExactlyMaxKeySizeIsAcceptedAndRoundTrips) {
  const std::string key(kMaxKeySize, 'k');
  {
    std::unique_ptr<DB> db = MustOpen();
    ASSERT_NE(db, nullptr);
    ASSERT_OK(db->Update([&](Tx& tx) -> absl::Status {
      absl::StatusOr<Bucket*> b = tx.CreateBucket("b");
      if (!b.ok()) return b.status();
      if (absl::Status s = (*b)->Put(key, "big key"); !s.ok()) return s;
      return (*b)->Put("a", "small key");
    }));
  }
  std::unique_ptr<DB> db = MustOpen();
  ASSERT_NE(db, nullptr);
  absl::StatusOr<std::string> v = GetValue(*db, "b", key);
  ASSERT_OK(v);
  EXPECT_EQ(*v, "big key");
  ASSERT_OK_AND_ASSIGN(Contents c, Dump(*db));
  EXPECT_EQ(c["b"].size(), 2u);
  EXPECT_TRUE(CheckClean(*db));
}

TEST_F(DBTest, KeyOneByteOverMaxKeySizeIsRejectedWithInvalidArgument) {
  std::unique_ptr<DB> db = MustOpen();
  ASSERT_NE(db, nullptr);
  ASSERT_OK_AND_ASSIGN(auto tx, db->Begin(true));
  ASSERT_OK_AND_ASSIGN(Bucket * b, tx->CreateBucket("b"));
  absl::Status s = b->Put(std::string(kMaxKeySize + 1, 'k'), "v");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find("key"), std::string::npos) << s;
  EXPECT_FALSE(tx->CreateBucket(std::string(kMaxKeySize + 1, 'b')).ok());
  ASSERT_OK(tx->Commit());
  EXPECT_TRUE(CheckClean(*db));
}

TEST_F(DBTest, EmptyValueIsStoredAndDistinctFromAbsence) {
  std::unique_ptr<DB> db = MustOpen();
  ASSERT_NE(db, nullptr);
  ASSERT_OK(db->Update([](Tx& tx) -> absl::Status {
    absl::StatusOr<Bucket*> b = tx.CreateBucket("b");
    if (!b.ok()) return b.status();
    return (*b)->Put("empty", "");
  }));
  absl::StatusOr<std::string> v = GetValue(*db, "b", "empty");
  ASSERT_OK(v);
  EXPECT_EQ(*v, "");
  EXPECT_TRUE(absl::IsNotFound(GetValue(*db, "b", "other").status()));
  EXPECT_TRUE(CheckClean(*db));
}

TEST_F(DBTest, HugeValuesRoundTripAfterReopen) {
  std::mt19937_64 rng(42);
  const std::string huge = testutil::RandomBytes(rng, 20 << 20);  // 20 MiB
  const std::string medium = testutil::RandomBytes(rng, 3 * 4096 + 17);
  const std::string quarter = testutil::RandomBytes(rng, 4096 / 4 + 1);
  {
    std::unique_ptr<DB> db = MustOpen(Options{.no_sync = true});
    ASSERT_NE(db, nullptr);
    ASSERT_OK(db->Update([&](Tx& tx) -> absl::Status {
      absl::StatusOr<Bucket*> b = tx.CreateBucket("b");
      if (!b.ok()) return b.status();
      if (absl::Status s = (*b)->Put("huge", huge); !s.ok()) return s;
      if (absl::Status s = (*b)->Put("medium", medium); !s.ok()) return s;
      if (absl::Status s = (*b)->Put("quarter", quarter); !s.ok()) return s;
      return (*b)->Put("small", "s");
    }));
    ASSERT_OK_AND_ASSIGN(DBStats stats, db->Stats());
    EXPECT_GE(stats.overflow_pages, uint64_t{(20 << 20) / 4096});
    EXPECT_GE(db->FileSize(), uint64_t{20 << 20});
  }
  std::unique_ptr<DB> db = MustOpen(Options{});
  ASSERT_NE(db, nullptr);
  for (const auto& [k, want] : std::vector<std::pair<std::string, const std::string*>>{
           {"huge", &huge}, {"medium", &medium}, {"quarter", &quarter}}) {
    absl::StatusOr<std::string> v = GetValue(*db, "b", k);
    ASSERT_OK(v);
    EXPECT_TRUE(*v == *want) << k << ": " << v->size() << " bytes, want " << want->size();
  }
  EXPECT_TRUE(CheckClean(*db));
}

TEST_F(DBTest, OverwritingAHugeValueFreesItsOverflowPages) {
  std::unique_ptr<DB> db = MustOpen(Options{.no_sync = true});
  ASSERT_NE(db, nullptr);
  const std::string big(4 << 20, 'x');
  auto put = [&](std::string_view v) {
    return db->Update([&](Tx& tx) -> absl::Status {
      absl::StatusOr<Bucket*> b = tx.CreateBucketIfNotExists("b");
      if (!b.ok()) return b.status();
      return (*b)->Put("v", v);
    });
  };
  ASSERT_OK(put(big));
  const uint64_t size = db->FileSize();
  for (int i = 0; i < 8; ++i) ASSERT_OK(put(std::string(4 << 20, char('a' + i))));
  // Each overwrite reuses the span the one before it freed: no growth by 8 x 4 MiB.
  EXPECT_LE(db->FileSize(), 2 * size + (1 << 20));
  absl::StatusOr<std::string> v = GetValue(*db, "b", "v");
  ASSERT_OK(v);
  EXPECT_TRUE(*v == std::string(4 << 20, 'h'));
  EXPECT_TRUE(CheckClean(*db));
}

TEST_F(DBTest, DeleteEverythingThenReinsertReusesPages) {
  std::unique_ptr<DB> db = MustOpen(Options{.no_sync = true});
  ASSERT_NE(db, nullptr);
  uint64_t warm_size = 0, warm_high_water = 0;
  for (int cycle = 0; cycle < 10; ++cycle) {
    SCOPED_TRACE(absl::StrCat("cycle ", cycle));
    ASSERT_OK(Fill(*db, "b", 0, 3000, 200));
    ASSERT_OK(db->Update([](Tx& tx) -> absl::Status {
      absl::StatusOr<Bucket*> b = tx.GetBucket("b");
      if (!b.ok()) return b.status();
      for (int i = 0; i < 3000; ++i) {
        if (absl::Status s = (*b)->Delete(Key(i)); !s.ok()) return s;
      }
      return absl::OkStatus();
    }));
    if (cycle % 3 == 2) {  // the freelist must survive a reopen too
      db.reset();
      db = MustOpen(Options{.no_sync = true});
      ASSERT_NE(db, nullptr);
    }
    ASSERT_OK_AND_ASSIGN(DBStats stats, db->Stats());
    EXPECT_EQ(stats.buckets["b"].key_count, 0u);
    if (cycle == 2) {
      warm_size = db->FileSize();
      warm_high_water = stats.high_water_pages;
    } else if (cycle > 2) {
      EXPECT_LE(db->FileSize(), warm_size + warm_size / 10);
      EXPECT_LE(stats.high_water_pages, warm_high_water + warm_high_water / 10);
    }
  }
  EXPECT_TRUE(CheckClean(*db));
}

TEST_F(DBTest, PutInAReadTransactionFails) {
  std::unique_ptr<DB> db = MustOpen();
  ASSERT_NE(db, nullptr);
  ASSERT_OK(Fill(*db, "b", 0, 1));
  ASSERT_OK_AND_ASSIGN(auto tx, db->Begin(false));
  EXPECT_FALSE(tx->writable());
  ASSERT_OK_AND_ASSIGN(Bucket * b, tx->GetBucket("b"));
  EXPECT_FALSE(b->writable());
  EXPECT_FALSE(b->Put("k", "v").ok());
  EXPECT_FALSE(b->Delete(Key(0)).ok());
  EXPECT_FALSE(tx->CreateBucket("c").ok());
  EXPECT_FALSE(tx->DeleteBucket("b").ok());
  EXPECT_FALSE(tx->Commit().ok());
  EXPECT_TRUE(CheckClean(*db));
}

// --- Transactions -----------------------------------------------------------

TEST_F(DBTest, RollbackDiscardsChanges) {
  std::unique_ptr<DB> db = MustOpen();
  ASSERT_NE(db, nullptr);
  ASSERT_OK(Fill(*db, "b", 0, 100));
  const txid_t txid = db->LastTxid();
  {
    ASSERT_OK_AND_ASSIGN(auto tx, db->Begin(true));
    ASSERT_OK_AND_ASSIGN(Bucket * b, tx->GetBucket("b"));
    for (int i = 0; i < 100; i += 2) ASSERT_OK(b->Delete(Key(i)));
    ASSERT_OK(b->Put("new", "v"));
    ASSERT_OK(tx->CreateBucket("other"));
    tx->Rollback();
  }
  {
    ASSERT_OK_AND_ASSIGN(auto tx, db->Begin(true));
    ASSERT_OK(tx->DeleteBucket("b"));
    // Destroyed without Commit: rolled back.
  }
  EXPECT_EQ(db->LastTxid(), txid);
  ASSERT_OK_AND_ASSIGN(Contents c, Dump(*db));
  EXPECT_EQ(c.count("other"), 0u);
  EXPECT_EQ(c["b"].size(), 100u);
  EXPECT_EQ(c["b"].count("new"), 0u);
  EXPECT_TRUE(CheckClean(*db));
}

TEST_F(DBTest, FailingUpdateRollsBackAndReturnsTheCallbacksError) {
  std::unique_ptr<DB> db = MustOpen();
  ASSERT_NE(db, nullptr);
  ASSERT_OK(Fill(*db, "b", 0, 10));
  absl::Status s = db->Update([](Tx& tx) -> absl::Status {
    absl::StatusOr<Bucket*> b = tx.GetBucket("b");
    if (!b.ok()) return b.status();
    if (absl::Status p = (*b)->Put(Key(0), "changed"); !p.ok()) return p;
    return absl::AbortedError("callback gave up");
  });
  EXPECT_EQ(s, absl::AbortedError("callback gave up"));
  absl::StatusOr<std::string> v = GetValue(*db, "b", Key(0));
  ASSERT_OK(v);
  EXPECT_EQ(*v, Value(0));
  // The writer gate was released: another update goes through.
  EXPECT_OK(Fill(*db, "b", 10, 11));
  EXPECT_TRUE(CheckClean(*db));
}

TEST_F(DBTest, WriteTransactionSeesItsOwnChangesAndReadersDoNot) {
  std::unique_ptr<DB> db = MustOpen();
  ASSERT_NE(db, nullptr);
  ASSERT_OK(Fill(*db, "b", 0, 1));
  ASSERT_OK_AND_ASSIGN(auto w, db->Begin(true));
  ASSERT_OK_AND_ASSIGN(Bucket * wb, w->GetBucket("b"));
  ASSERT_OK(wb->Put(Key(0), "mine"));
  std::string_view v;
  ASSERT_OK(wb->Get(Key(0), &v));
  EXPECT_EQ(v, "mine");
  ASSERT_OK_AND_ASSIGN(auto r, db->Begin(false));
  ASSERT_OK_AND_ASSIGN(Bucket * rb, r->GetBucket("b"));
  ASSERT_OK(rb->Get(Key(0), &v));
  EXPECT_EQ(v, Value(0));
  ASSERT_OK(w->Commit());
  ASSERT_OK(rb->Get(Key(0), &v));  // still the old snapshot
  EXPECT_EQ(v, Value(0));
  r->Rollback();
  absl::StatusOr<std::string> now = GetValue(*db, "b", Key(0));
  ASSERT_OK(now);
  EXPECT_EQ(*now, "mine");
  EXPECT_TRUE(CheckClean(*db));
}

// --- Locking and read-only opens --------------------------------------------

TEST_F(DBTest, SecondReadWriteOpenOfTheSameFileFailsAtOnce) {
  std::unique_ptr<DB> db = MustOpen();
  ASSERT_NE(db, nullptr);
  absl::StatusOr<std::unique_ptr<DB>> second = DB::Open(path_);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition)
      << second.status();
  // A read-only open cannot share the file with a writer either.
  absl::StatusOr<std::unique_ptr<DB>> ro = DB::Open(path_, Options{.read_only = true});
  EXPECT_FALSE(ro.ok());
  // The first handle is unaffected.
  EXPECT_OK(Fill(*db, "b", 0, 1));
  EXPECT_TRUE(CheckClean(*db));
}

TEST_F(DBTest, ReadOnlyOpensShareTheFileAndRejectWriteTransactions) {
  {
    std::unique_ptr<DB> db = MustOpen();
    ASSERT_NE(db, nullptr);
    ASSERT_OK(Fill(*db, "b", 0, 50));
  }
  std::unique_ptr<DB> ro1 = MustOpen(Options{.read_only = true});
  std::unique_ptr<DB> ro2 = MustOpen(Options{.read_only = true});
  ASSERT_NE(ro1, nullptr);
  ASSERT_NE(ro2, nullptr);
  EXPECT_TRUE(ro1->read_only());
  EXPECT_FALSE(ro1->Begin(true).ok());
  EXPECT_FALSE(ro1->Update([](Tx&) { return absl::OkStatus(); }).ok());
  absl::StatusOr<std::string> v = GetValue(*ro2, "b", Key(49));
  ASSERT_OK(v);
  EXPECT_EQ(*v, Value(49));
  // The shared locks keep a writer out.
  EXPECT_EQ(DB::Open(path_).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(CheckClean(*ro1));
}

TEST_F(DBTest, ReadOnlyOpenOfAMissingFileFailsWithoutCreatingIt) {
  absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path_, Options{.read_only = true});
  EXPECT_FALSE(db.ok());
  EXPECT_FALSE(Env::Default()->FileExists(path_));
}

// --- Bad files --------------------------------------------------------------

TEST_F(DBTest, OpeningAFileThatIsNotABtreeFailsClearly) {
  std::mt19937_64 rng(7);
  testutil::WriteFileBytes(path_, testutil::RandomBytes(rng, 64 * 1024));
  const std::string before = testutil::ReadFileBytes(path_);
  absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path_);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), absl::StatusCode::kInvalidArgument) << db.status();
  EXPECT_NE(db.status().message().find("not a revkv btree file"), std::string::npos)
      << db.status();
  EXPECT_EQ(testutil::ReadFileBytes(path_), before);  // left untouched
}

TEST_F(DBTest, OpeningATextFileFailsClearly) {
  testutil::WriteFileBytes(path_, "hello, this is not a database\n");
  absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path_);
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.status().message().find("btree"), std::string::npos) << db.status();
  EXPECT_EQ(testutil::ReadFileBytes(path_), "hello, this is not a database\n");
}

TEST_F(DBTest, FileTruncatedInsideTheMetaPagesFailsToOpen) {
  {
    std::unique_ptr<DB> db = MustOpen();
    ASSERT_NE(db, nullptr);
    ASSERT_OK(Fill(*db, "b", 0, 10));
  }
  ASSERT_EQ(truncate(path_.c_str(), 4096 + 100), 0);
  absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path_);
  EXPECT_FALSE(db.ok());
  EXPECT_FALSE(db.status().message().empty());
}

TEST_F(DBTest, FileTruncatedBelowItsHighWaterMarkFailsToOpenWithDataLoss) {
  {
    std::unique_ptr<DB> db = MustOpen(Options{.no_sync = true});
    ASSERT_NE(db, nullptr);
    for (int i = 0; i < 5; ++i) ASSERT_OK(Fill(*db, "b", i * 2000, (i + 1) * 2000, 100));
    ASSERT_OK_AND_ASSIGN(DBStats stats, db->Stats());
    ASSERT_GT(stats.high_water_pages, 100u);
  }
  ASSERT_EQ(truncate(path_.c_str(), 20 * 4096), 0);  // both metas point past it
  absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path_);
  EXPECT_EQ(db.status().code(), absl::StatusCode::kDataLoss) << db.status();
}

// Applies `patch` to the meta body of both meta pages and reseals them.
void PatchMetas(const std::string& path, uint32_t page_size,
                const std::function<void(MetaBody*)>& patch) {
  std::string bytes = testutil::ReadFileBytes(path);
  ASSERT_GE(bytes.size(), 2 * size_t{page_size});
  for (size_t m = 0; m < 2; ++m) {
    char* page = bytes.data() + m * page_size;
    MetaBody body;
    std::memcpy(&body, page + sizeof(PageHeader), sizeof body);
    patch(&body);
    std::memcpy(page + sizeof(PageHeader), &body, sizeof body);
    SealMeta(page);
  }
  testutil::WriteFileBytes(path, bytes);
}

TEST_F(DBTest, FileOfANewerFormatVersionIsRejectedAsFailedPrecondition) {
  {
    std::unique_ptr<DB> db = MustOpen();
    ASSERT_NE(db, nullptr);
    ASSERT_OK(Fill(*db, "b", 0, 10));
  }
  PatchMetas(path_, 4096, [](MetaBody* m) { m->version = kFormatVersion + 1; });
  absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path_);
  EXPECT_EQ(db.status().code(), absl::StatusCode::kFailedPrecondition) << db.status();
  EXPECT_NE(db.status().message().find("version"), std::string::npos) << db.status();
  absl::StatusOr<std::unique_ptr<DB>> ro = DB::Open(path_, Options{.read_only = true});
  EXPECT_EQ(ro.status().code(), absl::StatusCode::kFailedPrecondition) << ro.status();
}

TEST_F(DBTest, MetaPagesWithBadChecksumsFailToOpenWithDataLoss) {
  {
    std::unique_ptr<DB> db = MustOpen();
    ASSERT_NE(db, nullptr);
    ASSERT_OK(Fill(*db, "b", 0, 10));
  }
  std::string bytes = testutil::ReadFileBytes(path_);
  bytes[sizeof(PageHeader) + 40] ^= 1;         // meta 0 body
  bytes[4096 + sizeof(PageHeader) + 40] ^= 1;  // meta 1 body
  testutil::WriteFileBytes(path_, bytes);
  absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path_);
  EXPECT_EQ(db.status().code(), absl::StatusCode::kDataLoss) << db.status();
}

TEST_F(DBTest, OneDamagedMetaFallsBackToTheOtherCommit) {
  txid_t last;
  {
    std::unique_ptr<DB> db = MustOpen();
    ASSERT_NE(db, nullptr);
    ASSERT_OK(Fill(*db, "b", 0, 10));
    ASSERT_OK(Fill(*db, "b", 10, 20));
    last = db->LastTxid();
  }
  std::string bytes = testutil::ReadFileBytes(path_);
  const size_t newest = size_t(last % 2) * 4096;
  bytes[newest + sizeof(PageHeader) + 8] ^= 0x40;
  testutil::WriteFileBytes(path_, bytes);
  std::unique_ptr<DB> db = MustOpen();
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(db->LastTxid(), last - 1);
  ASSERT_OK_AND_ASSIGN(Contents c, Dump(*db));
  EXPECT_EQ(c["b"].size(), 10u);
  EXPECT_TRUE(CheckClean(*db));
}

// --- Copies -----------------------------------------------------------------

// A database with nested buckets, sequences, a big value and many deletions.
absl::Status BuildVariedDatabase(DB& db) {
  for (int round = 0; round < 3; ++round) {
    absl::Status s = db.Update([&](Tx& tx) -> absl::Status {
      absl::StatusOr<Bucket*> a = tx.CreateBucketIfNotExists("a");
      if (!a.ok()) return a.status();
      absl::StatusOr<Bucket*> n = (*a)->CreateBucketIfNotExists("nested");
      if (!n.ok()) return n.status();
      absl::StatusOr<Bucket*> z = tx.CreateBucketIfNotExists("z");
      if (!z.ok()) return z.status();
      for (int i = 0; i < 3000; ++i) {
        if (absl::Status p = (*a)->Put(Key(i), Value(i + round, 60)); !p.ok()) return p;
        if (i % 3 == 0) {
          if (absl::Status p = (*n)->Put(Key(i), Value(i, 10)); !p.ok()) return p;
        }
      }
      for (int i = 0; i < 3000; i += 2) {
        if (absl::Status d = (*a)->Delete(Key(i)); !d.ok()) return d;
      }
      if (absl::Status p = (*z)->Put("big", std::string(100000, char('0' + round)));
          !p.ok()) {
        return p;
      }
      if (absl::Status p = (*z)->SetSequence(77 + round); !p.ok()) return p;
      return (*n)->SetSequence(5);
    });
    if (!s.ok()) return s;
  }
  return db.Update([](Tx& tx) -> absl::Status {
    absl::StatusOr<Bucket*> e = tx.CreateBucketIfNotExists("empty");
    return e.status();
  });
}

TEST_F(DBTest, CompactToWritesADenseFileWithIdenticalContents) {
  std::unique_ptr<DB> db = MustOpen(Options{.no_sync = true});
  ASSERT_NE(db, nullptr);
  ASSERT_OK(BuildVariedDatabase(*db));
  ASSERT_OK_AND_ASSIGN(Contents want, Dump(*db));
  const std::string compact = dir_.File("compact");
  ASSERT_OK(db->CompactTo(compact));
  ASSERT_OK_AND_ASSIGN(DBStats src_stats, db->Stats());
  absl::StatusOr<std::unique_ptr<DB>> copy = DB::Open(compact);
  ASSERT_OK(copy);
  ASSERT_OK_AND_ASSIGN(Contents got, Dump(**copy));
  EXPECT_EQ(DiffContents(want, got), "");
  EXPECT_TRUE(CheckClean(**copy));
  ASSERT_OK_AND_ASSIGN(DBStats stats, (*copy)->Stats());
  EXPECT_LT(stats.high_water_pages, src_stats.high_water_pages);
  EXPECT_LE(stats.free_pages, 2u);
}

TEST_F(DBTest, CompactToAnExistingPathFailsAndLeavesItAlone) {
  std::unique_ptr<DB> db = MustOpen();
  ASSERT_NE(db, nullptr);
  ASSERT_OK(Fill(*db, "b", 0, 10));
  const std::string other = dir_.File("other");
  testutil::WriteFileBytes(other, "precious");
  EXPECT_FALSE(db->CompactTo(other).ok());
  EXPECT_EQ(testutil::ReadFileBytes(other), "precious");
}

TEST_F(DBTest, WriteToProducesAFileThatOpensWithTheSameContents) {
  std::unique_ptr<DB> db = MustOpen(Options{.no_sync = true});
  ASSERT_NE(db, nullptr);
  ASSERT_OK(BuildVariedDatabase(*db));
  ASSERT_OK_AND_ASSIGN(Contents want, Dump(*db));
  const std::string copy_path = dir_.File("copy");
  {
    ASSERT_OK_AND_ASSIGN(auto tx, db->Begin(false));
    std::ofstream out(copy_path, std::ios::binary);
    ASSERT_OK(tx->WriteTo(out));
    out.close();
    ASSERT_TRUE(out.good());
    EXPECT_EQ(testutil::ReadFileBytes(copy_path).size(), tx->Size());
  }
  // Writers may continue while a copy is written; the copy is of the snapshot.
  ASSERT_OK(Fill(*db, "a", 0, 10));
  absl::StatusOr<std::unique_ptr<DB>> copy = DB::Open(copy_path);
  ASSERT_OK(copy);
  ASSERT_OK_AND_ASSIGN(Contents got, Dump(**copy));
  EXPECT_EQ(DiffContents(want, got), "");
  EXPECT_TRUE(CheckClean(**copy));
}

TEST_F(DBTest, WriteToCopyCarriesTheSnapshotsTxid) {
  std::unique_ptr<DB> db = MustOpen();
  ASSERT_NE(db, nullptr);
  ASSERT_OK(Fill(*db, "b", 0, 100));
  const std::string copy_path = dir_.File("copy");
  {
    ASSERT_OK_AND_ASSIGN(auto tx, db->Begin(false));
    std::ofstream out(copy_path, std::ios::binary);
    ASSERT_OK(tx->WriteTo(out));
  }
  absl::StatusOr<std::unique_ptr<DB>> copy = DB::Open(copy_path, Options{.read_only = true});
  ASSERT_OK(copy);
  EXPECT_EQ((*copy)->LastTxid(), db->LastTxid());
  EXPECT_TRUE(CheckClean(**copy));
}

// --- Stats ------------------------------------------------------------------

TEST_F(DBTest, StatsCountKeysBucketsAndCommits) {
  std::unique_ptr<DB> db = MustOpen();
  ASSERT_NE(db, nullptr);
  ASSERT_OK(Fill(*db, "b", 0, 1000));
  ASSERT_OK(db->Update([](Tx& tx) -> absl::Status {
    absl::StatusOr<Bucket*> b = tx.GetBucket("b");
    if (!b.ok()) return b.status();
    return (*b)->CreateBucket("child").status();
  }));
  ASSERT_OK_AND_ASSIGN(DBStats stats, db->Stats());
  EXPECT_EQ(stats.txid, db->LastTxid());
  EXPECT_EQ(stats.buckets["b"].key_count, 1000u);
  EXPECT_EQ(stats.buckets["b"].bucket_count, 1u);
  EXPECT_EQ(stats.buckets.count("b/child"), 1u);
  EXPECT_EQ(stats.counters.write_tx_committed, 2u);
  EXPECT_EQ(stats.file_bytes, db->FileSize());
  EXPECT_GE(stats.high_water_pages * stats.page_size, 4096u * 4);
  EXPECT_EQ(stats.bytes_in_use,
            (stats.high_water_pages - stats.free_pages - stats.pending_pages) *
                uint64_t{stats.page_size});
  EXPECT_EQ(stats.open_read_txs, 0u);
  EXPECT_EQ(db->OpenReadTxs(), 0);
  ASSERT_OK_AND_ASSIGN(auto r, db->Begin(false));
  EXPECT_EQ(db->OpenReadTxs(), 1);
  EXPECT_TRUE(CheckClean(*db));
}

}  // namespace
// Appends take a shortcut to the rightmost leaf; deleting the tail (even the
// whole rightmost leaf) and nested buckets at the end must not confuse it.
TEST_F(DBTest, AppendsMixedWithTailDeletesAndBucketsKeepKeyOrder) {
  std::unique_ptr<DB> db = MustOpen();
  ASSERT_NE(db, nullptr);
  std::map<std::string, std::string> model;
  ASSERT_TRUE(db->Update([&](Tx& tx) -> absl::Status {
    absl::StatusOr<Bucket*> b = tx.CreateBucket("b");
    if (!b.ok()) return b.status();
    for (int i = 0; i < 3000; ++i) {
      if (absl::Status s = (*b)->Put(Key(i), Value(i, 40)); !s.ok()) return s;
      model[Key(i)] = Value(i, 40);
    }
    for (int i = 2999; i >= 2000; --i) {  // far more than the last leaf
      if (absl::Status s = (*b)->Delete(Key(i)); !s.ok()) return s;
      model.erase(Key(i));
    }
    for (int i = 2500; i < 2600; ++i) {
      if (absl::Status s = (*b)->Put(Key(i), Value(i, 41)); !s.ok()) return s;
      model[Key(i)] = Value(i, 41);
    }
    if (absl::Status s = (*b)->CreateBucket(Key(2700)).status(); !s.ok()) return s;
    for (int i = 2800; i < 2900; ++i) {
      if (absl::Status s = (*b)->Put(Key(i), Value(i, 42)); !s.ok()) return s;
      model[Key(i)] = Value(i, 42);
    }
    return absl::OkStatus();
  }).ok());
  std::vector<std::string> problems;
  ASSERT_TRUE(db->Check(&problems).ok());
  EXPECT_TRUE(problems.empty());
  std::map<std::string, std::string> got;
  ASSERT_TRUE(db->View([&](Tx& tx) -> absl::Status {
    absl::StatusOr<Bucket*> b = tx.GetBucket("b");
    if (!b.ok()) return b.status();
    Cursor c = (*b)->NewCursor();
    for (c.First(); c.Valid(); c.Next()) {
      if (!c.is_bucket()) got[std::string(c.key())] = std::string(c.value());
    }
    return c.status();
  }).ok());
  EXPECT_EQ(got, model);
}

}  // namespace revkv::btree
