// Cursor and Bucket::Range: ordered traversal of one bucket.
#include "btree/cursor.h"

#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "btree/db.h"
#include "gtest/gtest.h"
#include "tests/btree/test_util.h"

namespace revkv::btree {
namespace {

using testutil::CheckClean;
using testutil::ScopedTempDir;

// Even numbers only, so that every odd key falls between two stored ones.
std::string Key(int i) { return absl::StrFormat("k%06d", i); }
std::string Value(int i) { return absl::StrFormat("v%d-%s", i, std::string(i % 50, 'x')); }
constexpr int kMany = 4000;  // enough for a tree of several levels at 4 KiB

class CursorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(dir_.File("db"), Options{.no_sync = true});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
  }
  void TearDown() override {
    tx_.reset();
    if (db_ != nullptr) {
      EXPECT_TRUE(CheckClean(*db_));
    }
  }

  // Bucket "b" with keys Key(0), Key(2), ..., Key(2 * (n - 1)).
  void FillEven(int n) {
    ASSERT_OK(db_->Update([&](Tx& tx) -> absl::Status {
      absl::StatusOr<Bucket*> b = tx.CreateBucketIfNotExists("b");
      if (!b.ok()) return b.status();
      for (int i = 0; i < n; ++i) {
        if (absl::Status s = (*b)->Put(Key(2 * i), Value(2 * i)); !s.ok()) return s;
      }
      return absl::OkStatus();
    }));
  }

  // A read transaction and its bucket "b".
  void BeginRead() {
    absl::StatusOr<std::unique_ptr<Tx>> tx = db_->Begin(false);
    ASSERT_TRUE(tx.ok()) << tx.status();
    tx_ = *std::move(tx);
    absl::StatusOr<Bucket*> b = tx_->GetBucket("b");
    ASSERT_TRUE(b.ok()) << b.status();
    b_ = *b;
  }

  ScopedTempDir dir_;
  std::unique_ptr<DB> db_;
  std::unique_ptr<Tx> tx_;
  Bucket* b_ = nullptr;
};

TEST_F(CursorTest, NewCursorIsInvalidUntilPositioned) {
  FillEven(3);
  BeginRead();
  Cursor c = b_->NewCursor();
  EXPECT_FALSE(c.Valid());
  EXPECT_OK(c.status());
}

TEST_F(CursorTest, CursorOverAnEmptyBucketIsNeverValid) {
  FillEven(0);
  BeginRead();
  Cursor c = b_->NewCursor();
  c.First();
  EXPECT_FALSE(c.Valid());
  c.Last();
  EXPECT_FALSE(c.Valid());
  c.Seek("a");
  EXPECT_FALSE(c.Valid());
  EXPECT_OK(c.status());
}

TEST_F(CursorTest, FirstAndLastLandOnTheSmallestAndLargestKeys) {
  FillEven(kMany);
  BeginRead();
  Cursor c = b_->NewCursor();
  c.First();
  ASSERT_TRUE(c.Valid());
  EXPECT_EQ(c.key(), Key(0));
  EXPECT_EQ(c.value(), Value(0));
  c.Last();
  ASSERT_TRUE(c.Valid());
  EXPECT_EQ(c.key(), Key(2 * (kMany - 1)));
  EXPECT_EQ(c.value(), Value(2 * (kMany - 1)));
}

TEST_F(CursorTest, NextVisitsEveryKeyInOrderAcrossPages) {
  FillEven(kMany);
  BeginRead();
  Cursor c = b_->NewCursor();
  int i = 0;
  for (c.First(); c.Valid(); c.Next(), ++i) {
    ASSERT_EQ(c.key(), Key(2 * i));
    ASSERT_EQ(c.value(), Value(2 * i));
  }
  EXPECT_EQ(i, kMany);
  EXPECT_OK(c.status());
  ASSERT_OK_AND_ASSIGN(BucketStats stats, b_->Stats());
  EXPECT_GT(stats.depth, 1u);  // the walk did cross pages
}

TEST_F(CursorTest, PrevVisitsEveryKeyInReverseOrderAcrossPages) {
  FillEven(kMany);
  BeginRead();
  Cursor c = b_->NewCursor();
  int i = kMany - 1;
  for (c.Last(); c.Valid(); c.Prev(), --i) {
    ASSERT_EQ(c.key(), Key(2 * i));
  }
  EXPECT_EQ(i, -1);
  EXPECT_OK(c.status());
}

TEST_F(CursorTest, NextPastTheLastKeyAndPrevBeforeTheFirstInvalidateWithoutError) {
  FillEven(10);
  BeginRead();
  Cursor c = b_->NewCursor();
  c.Last();
  c.Next();
  EXPECT_FALSE(c.Valid());
  EXPECT_OK(c.status());
  c.First();
  c.Prev();
  EXPECT_FALSE(c.Valid());
  EXPECT_OK(c.status());
}

TEST_F(CursorTest, SeekFindsTheExactKey) {
  FillEven(kMany);
  BeginRead();
  Cursor c = b_->NewCursor();
  for (int i = 0; i < kMany; i += 97) {
    c.Seek(Key(2 * i));
    ASSERT_TRUE(c.Valid()) << i;
    EXPECT_EQ(c.key(), Key(2 * i));
    EXPECT_EQ(c.value(), Value(2 * i));
  }
}

TEST_F(CursorTest, SeekBetweenKeysLandsOnTheNextLargerKey) {
  FillEven(kMany);
  BeginRead();
  Cursor c = b_->NewCursor();
  for (int i = 0; i < kMany - 1; i += 89) {
    c.Seek(Key(2 * i + 1));
    ASSERT_TRUE(c.Valid()) << i;
    EXPECT_EQ(c.key(), Key(2 * i + 2));
  }
  c.Seek("");  // before everything
  ASSERT_TRUE(c.Valid());
  EXPECT_EQ(c.key(), Key(0));
  c.Seek(Key(0) + std::string(1, '\0'));  // just after a key: a prefix extension
  ASSERT_TRUE(c.Valid());
  EXPECT_EQ(c.key(), Key(2));
}

TEST_F(CursorTest, SeekPastTheLastKeyIsInvalidWithoutError) {
  FillEven(kMany);
  BeginRead();
  Cursor c = b_->NewCursor();
  c.Seek(Key(2 * kMany));
  EXPECT_FALSE(c.Valid());
  EXPECT_OK(c.status());
  c.Seek("\xff");
  EXPECT_FALSE(c.Valid());
}

TEST_F(CursorTest, SeekThenNextAndPrevContinueFromThere) {
  FillEven(kMany);
  BeginRead();
  Cursor c = b_->NewCursor();
  c.Seek(Key(2001));  // lands on 2002
  ASSERT_TRUE(c.Valid());
  c.Next();
  ASSERT_TRUE(c.Valid());
  EXPECT_EQ(c.key(), Key(2004));
  c.Prev();
  c.Prev();
  ASSERT_TRUE(c.Valid());
  EXPECT_EQ(c.key(), Key(2000));
}

TEST_F(CursorTest, DirectionChangesAtEveryPositionAgree) {
  FillEven(600);
  BeginRead();
  Cursor c = b_->NewCursor();
  c.First();
  for (int i = 0; i < 599; ++i) {
    ASSERT_TRUE(c.Valid());
    c.Next();
    c.Prev();
    ASSERT_TRUE(c.Valid());
    ASSERT_EQ(c.key(), Key(2 * i)) << "Next then Prev must return to the same key";
    c.Next();
  }
}

TEST_F(CursorTest, NestedBucketsAppearAsBucketEntriesWithEmptyValues) {
  ASSERT_OK(db_->Update([](Tx& tx) -> absl::Status {
    absl::StatusOr<Bucket*> b = tx.CreateBucket("b");
    if (!b.ok()) return b.status();
    if (absl::Status s = (*b)->Put("a", "1"); !s.ok()) return s;
    if (absl::Status s = (*b)->CreateBucket("m").status(); !s.ok()) return s;
    return (*b)->Put("z", "2");
  }));
  BeginRead();
  Cursor c = b_->NewCursor();
  c.Seek("m");
  ASSERT_TRUE(c.Valid());
  EXPECT_EQ(c.key(), "m");
  EXPECT_TRUE(c.is_bucket());
  EXPECT_TRUE(c.value().empty());
  c.Next();
  ASSERT_TRUE(c.Valid());
  EXPECT_FALSE(c.is_bucket());
  EXPECT_EQ(c.value(), "2");
}

TEST_F(CursorTest, CursorValuesIncludeLargeValuesStoredInOverflowPages) {
  const std::string big(50000, 'B');
  ASSERT_OK(db_->Update([&](Tx& tx) -> absl::Status {
    absl::StatusOr<Bucket*> b = tx.CreateBucket("b");
    if (!b.ok()) return b.status();
    if (absl::Status s = (*b)->Put("big", big); !s.ok()) return s;
    return (*b)->Put("small", "s");
  }));
  BeginRead();
  Cursor c = b_->NewCursor();
  c.First();
  ASSERT_TRUE(c.Valid());
  EXPECT_EQ(c.key(), "big");
  EXPECT_TRUE(c.value() == big);
  c.Next();
  ASSERT_TRUE(c.Valid());
  EXPECT_EQ(c.value(), "s");
}

// --- Range --------------------------------------------------------------------

std::vector<std::string> RangeKeys(Bucket* b, std::string_view start, std::string_view end,
                                   size_t limit, absl::Status* status) {
  std::vector<std::string> keys;
  *status = b->Range(start, end, limit, [&](std::string_view k, std::string_view) {
    keys.emplace_back(k);
    return true;
  });
  return keys;
}

TEST_F(CursorTest, RangeVisitsKeysFromStartUpToButExcludingEnd) {
  FillEven(kMany);
  BeginRead();
  absl::Status s;
  std::vector<std::string> keys = RangeKeys(b_, Key(100), Key(1100), 0, &s);
  ASSERT_OK(s);
  ASSERT_EQ(keys.size(), 500u);
  EXPECT_EQ(keys.front(), Key(100));
  EXPECT_EQ(keys.back(), Key(1098));
}

TEST_F(CursorTest, RangeWithEmptyEndRunsToTheLastKey) {
  FillEven(kMany);
  BeginRead();
  absl::Status s;
  std::vector<std::string> keys = RangeKeys(b_, Key(2 * (kMany - 10)), "", 0, &s);
  ASSERT_OK(s);
  ASSERT_EQ(keys.size(), 10u);
  EXPECT_EQ(keys.back(), Key(2 * (kMany - 1)));
}

TEST_F(CursorTest, RangeStopsAfterLimitKeys) {
  FillEven(kMany);
  BeginRead();
  absl::Status s;
  std::vector<std::string> keys = RangeKeys(b_, Key(1), "", 7, &s);
  ASSERT_OK(s);
  ASSERT_EQ(keys.size(), 7u);
  EXPECT_EQ(keys.front(), Key(2));
  EXPECT_EQ(keys.back(), Key(14));
}

TEST_F(CursorTest, RangeEndBoundWinsOverALargerLimit) {
  FillEven(100);
  BeginRead();
  absl::Status s;
  std::vector<std::string> keys = RangeKeys(b_, Key(0), Key(10), 1000, &s);
  ASSERT_OK(s);
  EXPECT_EQ(keys, (std::vector<std::string>{Key(0), Key(2), Key(4), Key(6), Key(8)}));
}

TEST_F(CursorTest, RangeStopsWhenTheCallbackReturnsFalse) {
  FillEven(100);
  BeginRead();
  int calls = 0;
  ASSERT_OK(b_->Range("", "", 0, [&](std::string_view, std::string_view) {
    return ++calls < 3;
  }));
  EXPECT_EQ(calls, 3);
}

TEST_F(CursorTest, RangeWithStartAtOrPastEndVisitsNothing) {
  FillEven(100);
  BeginRead();
  absl::Status s;
  EXPECT_TRUE(RangeKeys(b_, Key(50), Key(50), 0, &s).empty());
  EXPECT_OK(s);
  EXPECT_TRUE(RangeKeys(b_, Key(60), Key(50), 0, &s).empty());
  EXPECT_OK(s);
}

TEST_F(CursorTest, RangeSkipsNestedBuckets) {
  ASSERT_OK(db_->Update([](Tx& tx) -> absl::Status {
    absl::StatusOr<Bucket*> b = tx.CreateBucket("b");
    if (!b.ok()) return b.status();
    if (absl::Status s = (*b)->Put("a", "1"); !s.ok()) return s;
    if (absl::Status s = (*b)->CreateBucket("m").status(); !s.ok()) return s;
    return (*b)->Put("z", "2");
  }));
  BeginRead();
  absl::Status s;
  EXPECT_EQ(RangeKeys(b_, "", "", 0, &s), (std::vector<std::string>{"a", "z"}));
  EXPECT_OK(s);
  // A limit counts visited keys, not skipped buckets.
  EXPECT_EQ(RangeKeys(b_, "", "", 2, &s), (std::vector<std::string>{"a", "z"}));
}

// --- Write transactions ------------------------------------------------------

TEST_F(CursorTest, CursorInAWriteTransactionSeesItsOwnWrites) {
  FillEven(kMany);
  ASSERT_OK_AND_ASSIGN(auto tx, db_->Begin(true));
  ASSERT_OK_AND_ASSIGN(Bucket * b, tx->GetBucket("b"));
  ASSERT_OK(b->Put(Key(1001), "inserted"));
  ASSERT_OK(b->Delete(Key(1002)));
  ASSERT_OK(b->Put(Key(1004), "changed"));
  ASSERT_OK(b->Put("zzz", "appended"));
  Cursor c = b->NewCursor();
  c.Seek(Key(1000));
  ASSERT_TRUE(c.Valid());
  EXPECT_EQ(c.key(), Key(1000));
  c.Next();
  ASSERT_TRUE(c.Valid());
  EXPECT_EQ(c.key(), Key(1001));
  EXPECT_EQ(c.value(), "inserted");
  c.Next();
  ASSERT_TRUE(c.Valid());
  EXPECT_EQ(c.key(), Key(1004));
  EXPECT_EQ(c.value(), "changed");
  c.Last();
  ASSERT_TRUE(c.Valid());
  EXPECT_EQ(c.key(), "zzz");
  int n = 0;
  for (c.First(); c.Valid(); c.Next()) ++n;
  EXPECT_EQ(n, kMany + 1);
  tx->Rollback();
}

TEST_F(CursorTest, CursorDeleteRemovesTheCurrentEntryAndMovesToTheNext) {
  FillEven(100);
  ASSERT_OK_AND_ASSIGN(auto tx, db_->Begin(true));
  ASSERT_OK_AND_ASSIGN(Bucket * b, tx->GetBucket("b"));
  Cursor c = b->NewCursor();
  c.Seek(Key(50));
  ASSERT_TRUE(c.Valid());
  ASSERT_OK(c.Delete());
  ASSERT_TRUE(c.Valid());
  EXPECT_EQ(c.key(), Key(52));
  EXPECT_EQ(c.value(), Value(52));
  std::string_view v;
  EXPECT_TRUE(absl::IsNotFound(b->Get(Key(50), &v)));
  c.Prev();
  ASSERT_TRUE(c.Valid());
  EXPECT_EQ(c.key(), Key(48));
  ASSERT_OK(tx->Commit());
  BeginRead();
  EXPECT_TRUE(absl::IsNotFound(b_->Get(Key(50), &v)));
  EXPECT_OK(b_->Get(Key(52), &v));
}

TEST_F(CursorTest, CursorDeleteOfTheLastEntryLeavesTheCursorInvalidWithoutError) {
  FillEven(10);
  ASSERT_OK_AND_ASSIGN(auto tx, db_->Begin(true));
  ASSERT_OK_AND_ASSIGN(Bucket * b, tx->GetBucket("b"));
  Cursor c = b->NewCursor();
  c.Last();
  ASSERT_OK(c.Delete());
  EXPECT_FALSE(c.Valid());
  EXPECT_OK(c.status());
  c.Last();
  ASSERT_TRUE(c.Valid());
  EXPECT_EQ(c.key(), Key(16));
}

TEST_F(CursorTest, CursorDeleteInALoopEmptiesAManyPageRange) {
  FillEven(kMany);
  ASSERT_OK(db_->Update([](Tx& tx) -> absl::Status {
    absl::StatusOr<Bucket*> b = tx.GetBucket("b");
    if (!b.ok()) return b.status();
    Cursor c = (*b)->NewCursor();
    const std::string end = Key(6000);
    c.Seek(Key(1000));
    while (c.Valid() && c.key() < end) {
      if (absl::Status s = c.Delete(); !s.ok()) return s;
    }
    return c.status();
  }));
  BeginRead();
  absl::Status s;
  std::vector<std::string> keys = RangeKeys(b_, "", "", 0, &s);
  ASSERT_OK(s);
  ASSERT_EQ(keys.size(), size_t{kMany - 2500});
  EXPECT_EQ(keys[499], Key(998));
  EXPECT_EQ(keys[500], Key(6000));
}

TEST_F(CursorTest, CursorDeleteOfANestedBucketEntryFails) {
  ASSERT_OK(db_->Update([](Tx& tx) -> absl::Status {
    absl::StatusOr<Bucket*> b = tx.CreateBucket("b");
    if (!b.ok()) return b.status();
    return (*b)->CreateBucket("child").status();
  }));
  ASSERT_OK_AND_ASSIGN(auto tx, db_->Begin(true));
  ASSERT_OK_AND_ASSIGN(Bucket * b, tx->GetBucket("b"));
  Cursor c = b->NewCursor();
  c.First();
  ASSERT_TRUE(c.Valid());
  ASSERT_TRUE(c.is_bucket());
  EXPECT_FALSE(c.Delete().ok());
  EXPECT_OK(b->GetBucket("child"));
}

TEST_F(CursorTest, CursorDeleteInAReadTransactionFails) {
  FillEven(10);
  BeginRead();
  Cursor c = b_->NewCursor();
  c.First();
  ASSERT_TRUE(c.Valid());
  EXPECT_FALSE(c.Delete().ok());
  std::string_view v;
  EXPECT_OK(b_->Get(Key(0), &v));
}

TEST_F(CursorTest, CursorOnAnInvalidPositionCannotDelete) {
  FillEven(10);
  ASSERT_OK_AND_ASSIGN(auto tx, db_->Begin(true));
  ASSERT_OK_AND_ASSIGN(Bucket * b, tx->GetBucket("b"));
  Cursor c = b->NewCursor();
  EXPECT_FALSE(c.Delete().ok());
}

}  // namespace
}  // namespace revkv::btree
