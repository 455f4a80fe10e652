// dKV's IStore over revkv (LocalStore), as a specification of dKV's
// documented behaviour, with a FakeClock: expiry, deletion by the sweeper,
// SetEIfUnset, typed errors, and expiry state across reopen.
#include "kvstore/dkv/local_store.h"

#include <chrono>
#include <thread>

#include "gtest/gtest.h"
#include "kvstore/dkv/entry.h"
#include "kvstore/dkv/error.h"
#include "kvstore/revkv_store.h"
#include "tests/kvstore/test_util.h"

namespace revkv::kvstore::dkv {
namespace {

using std::chrono::seconds;
using testutil::TempDir;

class DkvStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void Open(bool background = false) {
    LocalStoreOptions o;
    o.clock = &clock_;
    o.background_sweeper = background;
    auto s = LocalStore::Open(ExistingStore(db_.store()), o);
    ASSERT_TRUE(s.ok()) << s.status();
    kv_ = std::move(*s);
  }
  // Closes the store and its database, then opens both from the file.
  void Reopen(bool background = false) {
    kv_.reset();
    db_.Close();
    db_.Open();
    Open(background);
  }
  GetResult Get(std::string_view k) {
    auto r = kv_->Get(k);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : GetResult{};
  }
  bool Has(std::string_view k) {
    auto r = kv_->Has(k);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() && *r;
  }
  // Whether the mvcc store still holds the key.
  bool Stored(std::string_view k) {
    auto r = db_.store()->Range("dkv/" + std::string(k), "");
    EXPECT_TRUE(r.ok());
    return r.ok() && !r->kvs.empty();
  }

  TempDir dir_;
  testutil::MvccFixture db_{dir_.path() + "/db"};
  FakeClock clock_;
  std::unique_ptr<LocalStore> kv_;
};

// --- Set / Get / Has / Delete -----------------------------------------------

TEST_F(DkvStoreTest, SetThenGetLoadsTheValue) {
  REVKV_ASSERT_OK(kv_->Set("k", "v"));
  GetResult r = Get("k");
  EXPECT_TRUE(r.loaded);
  EXPECT_EQ(r.value, "v");
  EXPECT_TRUE(Has("k"));
}

TEST_F(DkvStoreTest, GetOfMissingKeyIsNotLoadedWithoutError) {
  GetResult r = Get("nope");
  EXPECT_FALSE(r.loaded);
  EXPECT_EQ(r.value, "");
  EXPECT_FALSE(Has("nope"));
}

TEST_F(DkvStoreTest, SetOverwritesValueAndClearsExpiry) {
  REVKV_ASSERT_OK(kv_->SetE("k", "1", seconds(1), seconds(2)));
  REVKV_ASSERT_OK(kv_->Set("k", "2"));
  clock_.Advance(seconds(10));
  EXPECT_EQ(Get("k").value, "2");
  EXPECT_EQ(*kv_->SweepNow(), 0);
  EXPECT_TRUE(Has("k"));
}

TEST_F(DkvStoreTest, DeleteRemovesTheKeyAndMissingKeyIsNoError) {
  REVKV_ASSERT_OK(kv_->Set("k", "v"));
  REVKV_ASSERT_OK(kv_->Delete("k"));
  EXPECT_FALSE(Has("k"));
  EXPECT_FALSE(Get("k").loaded);
  EXPECT_FALSE(Stored("k"));
  REVKV_EXPECT_OK(kv_->Delete("k"));
}

TEST_F(DkvStoreTest, EmptyValueIsLoaded) {
  REVKV_ASSERT_OK(kv_->Set("k", ""));
  EXPECT_TRUE(Get("k").loaded);
}

// --- SetE: expiry -----------------------------------------------------------

TEST_F(DkvStoreTest, ExpiredKeyIsNotLoadedButHasFindsIt) {
  REVKV_ASSERT_OK(kv_->SetE("k", "v", seconds(10), Millis(0)));
  clock_.Advance(seconds(9));
  EXPECT_TRUE(Get("k").loaded);
  clock_.Advance(seconds(1));
  EXPECT_FALSE(Get("k").loaded);
  EXPECT_TRUE(Has("k"));
  // Expiry alone never deletes.
  clock_.Advance(std::chrono::hours(1000));
  EXPECT_EQ(*kv_->SweepNow(), 0);
  EXPECT_TRUE(Has("k"));
}

TEST_F(DkvStoreTest, DeletedKeyIsGoneAtItsTimeAndSweptByAnMvccDelete) {
  REVKV_ASSERT_OK(kv_->SetE("k", "v", Millis(0), seconds(5)));
  clock_.Advance(seconds(4));
  EXPECT_TRUE(Get("k").loaded);
  EXPECT_TRUE(Has("k"));
  clock_.Advance(seconds(1));
  // Absent at once (delete implies expiry), even before the sweep...
  EXPECT_FALSE(Get("k").loaded);
  EXPECT_FALSE(Has("k"));
  EXPECT_TRUE(Stored("k"));
  // ...and then removed through an ordinary delete: a tombstone revision.
  const int64_t rev = db_.store()->Rev();
  EXPECT_EQ(*kv_->SweepNow(), 1);
  EXPECT_FALSE(Stored("k"));
  EXPECT_EQ(db_.store()->Rev(), rev + 1);
  auto old = db_.store()->Range("dkv/k", "", mvcc::RangeOptions{0, rev, false});
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->kvs.size(), 1u);  // history keeps the last value
  EXPECT_EQ(*kv_->SweepNow(), 0);
}

TEST_F(DkvStoreTest, ExpireBeforeDeleteStagesBoth) {
  REVKV_ASSERT_OK(kv_->SetE("k", "v", seconds(1), seconds(3)));
  clock_.Advance(seconds(1));
  EXPECT_FALSE(Get("k").loaded);
  EXPECT_TRUE(Has("k"));
  clock_.Advance(seconds(2));
  EXPECT_FALSE(Has("k"));
}

TEST_F(DkvStoreTest, RewriteWithLaterDeleteTimeIsNotSweptEarly) {
  REVKV_ASSERT_OK(kv_->SetE("k", "1", Millis(0), seconds(5)));
  REVKV_ASSERT_OK(kv_->SetE("k", "2", Millis(0), seconds(50)));
  clock_.Advance(seconds(10));
  EXPECT_EQ(*kv_->SweepNow(), 0);
  EXPECT_EQ(Get("k").value, "2");
  clock_.Advance(seconds(40));
  EXPECT_EQ(*kv_->SweepNow(), 1);
}

TEST_F(DkvStoreTest, NegativeDurationsAreInvalidOperations) {
  absl::Status s = kv_->SetE("k", "v", Millis(-1), Millis(0));
  EXPECT_TRUE(IsInvalidOperation(s)) << s;
  EXPECT_TRUE(IsInvalidOperation(kv_->SetEIfUnset("k", "v", Millis(0), Millis(-1))));
  EXPECT_FALSE(Has("k"));
}

// --- SetEIfUnset ------------------------------------------------------------

TEST_F(DkvStoreTest, SetEIfUnsetSetsAMissingKey) {
  REVKV_ASSERT_OK(kv_->SetEIfUnset("k", "v", seconds(1), Millis(0)));
  EXPECT_EQ(Get("k").value, "v");
  clock_.Advance(seconds(1));
  EXPECT_FALSE(Get("k").loaded);
}

TEST_F(DkvStoreTest, SetEIfUnsetOnPresentKeyChangesNothingAndIsNoError) {
  REVKV_ASSERT_OK(kv_->Set("k", "old"));
  const int64_t rev = db_.store()->Rev();
  REVKV_ASSERT_OK(kv_->SetEIfUnset("k", "new", seconds(1), seconds(1)));
  EXPECT_EQ(db_.store()->Rev(), rev);  // no write at all
  clock_.Advance(seconds(5));
  EXPECT_EQ(Get("k").value, "old");
}

TEST_F(DkvStoreTest, SetEIfUnsetOnExpiredKeyChangesNothing) {
  REVKV_ASSERT_OK(kv_->SetE("k", "old", seconds(1), Millis(0)));
  clock_.Advance(seconds(2));
  REVKV_ASSERT_OK(kv_->SetEIfUnset("k", "new", Millis(0), Millis(0)));
  EXPECT_FALSE(Get("k").loaded);
  EXPECT_TRUE(Has("k"));
}

TEST_F(DkvStoreTest, SetEIfUnsetOnDeletedButUnsweptKeySets) {
  REVKV_ASSERT_OK(kv_->SetE("k", "old", Millis(0), seconds(1)));
  clock_.Advance(seconds(2));
  REVKV_ASSERT_OK(kv_->SetEIfUnset("k", "new", Millis(0), Millis(0)));
  EXPECT_EQ(Get("k").value, "new");
  EXPECT_EQ(*kv_->SweepNow(), 0);  // the stale delete time is ignored
  EXPECT_TRUE(Has("k"));
}

// --- Expire -----------------------------------------------------------------

TEST_F(DkvStoreTest, ExpireDropsTheValueAndKeepsTheKey) {
  REVKV_ASSERT_OK(kv_->Set("k", "v"));
  REVKV_ASSERT_OK(kv_->Expire("k"));
  EXPECT_FALSE(Get("k").loaded);
  EXPECT_TRUE(Has("k"));
  auto r = db_.store()->Range("dkv/k", "");
  ASSERT_TRUE(r.ok());
  auto e = DecodeEntry(r->kvs[0].value);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->value, "");
  EXPECT_EQ(e->expire_at, clock_.Now());
}

TEST_F(DkvStoreTest, ExpireOfMissingKeyIsNoErrorAndCreatesNothing) {
  REVKV_ASSERT_OK(kv_->Expire("k"));
  EXPECT_FALSE(Has("k"));
  EXPECT_FALSE(Stored("k"));
}

TEST_F(DkvStoreTest, ExpireKeepsTheDeleteTime) {
  REVKV_ASSERT_OK(kv_->SetE("k", "v", Millis(0), seconds(5)));
  REVKV_ASSERT_OK(kv_->Expire("k"));
  clock_.Advance(seconds(5));
  EXPECT_EQ(*kv_->SweepNow(), 1);
}

TEST_F(DkvStoreTest, ExpireOfDeletedKeyRemovesIt) {
  REVKV_ASSERT_OK(kv_->SetE("k", "v", Millis(0), seconds(1)));
  clock_.Advance(seconds(1));
  REVKV_ASSERT_OK(kv_->Expire("k"));
  EXPECT_FALSE(Stored("k"));
}

// --- Reopen -----------------------------------------------------------------

TEST_F(DkvStoreTest, ExpiryStateSurvivesReopen) {
  REVKV_ASSERT_OK(kv_->SetE("expires", "v", seconds(10), Millis(0)));
  REVKV_ASSERT_OK(kv_->SetE("deletes", "v", Millis(0), seconds(20)));
  REVKV_ASSERT_OK(kv_->Set("stays", "v"));
  Reopen();
  EXPECT_TRUE(Get("expires").loaded);
  EXPECT_TRUE(Get("deletes").loaded);
  clock_.Advance(seconds(10));
  Reopen();
  EXPECT_FALSE(Get("expires").loaded);
  EXPECT_TRUE(Has("expires"));
  EXPECT_TRUE(Get("deletes").loaded);
  // The delete time passes while the store is closed: it is still honoured,
  // and the rebuilt queue sweeps the key.
  kv_.reset();
  clock_.Advance(seconds(10));
  Open();
  EXPECT_FALSE(Has("deletes"));
  EXPECT_EQ(kv_->GetDBInfo()->pending_deletes, 1);
  EXPECT_EQ(*kv_->SweepNow(), 1);
  EXPECT_FALSE(Stored("deletes"));
  EXPECT_TRUE(Get("stays").loaded);
}

TEST_F(DkvStoreTest, BackgroundSweeperWakesOnClockJumpsAndAfterReopen) {
  kv_.reset();
  Open(/*background=*/true);
  REVKV_ASSERT_OK(kv_->SetE("a", "v", Millis(0), seconds(5)));
  REVKV_ASSERT_OK(kv_->SetE("b", "v", Millis(0), seconds(50)));
  auto wait_swept = [&](int64_t n) {
    // The sweeper runs on its own thread: wait (boundedly) for its work.
    for (int i = 0; i < 5000 && kv_->GetDBInfo()->swept_keys < n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_EQ(kv_->GetDBInfo()->swept_keys, n);
  };
  clock_.Advance(seconds(5));
  wait_swept(1);
  EXPECT_FALSE(Stored("a"));
  EXPECT_TRUE(Stored("b"));
  kv_.reset();
  clock_.Advance(seconds(100));
  Open(/*background=*/true);
  wait_swept(1);  // the counter restarts at open
  EXPECT_FALSE(Stored("b"));
}

// --- GetDBInfo ----------------------------------------------------------------

TEST_F(DkvStoreTest, GetDBInfoReportsSizeKeysAndRevision) {
  REVKV_ASSERT_OK(kv_->Set("a", "1"));
  REVKV_ASSERT_OK(kv_->SetE("b", "2", Millis(0), seconds(1)));
  auto info = kv_->GetDBInfo();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->db_type, "revkv");
  EXPECT_GT(info->size_bytes, 0u);
  EXPECT_EQ(info->key_count, 2);
  EXPECT_EQ(info->revision, db_.store()->Rev());
  EXPECT_EQ(info->compact_revision, -1);
  EXPECT_EQ(info->pending_deletes, 1);
  EXPECT_EQ(info->swept_keys, 0);
  EXPECT_FALSE(info->supported_features.empty());
  clock_.Advance(seconds(1));
  ASSERT_EQ(*kv_->SweepNow(), 1);
  info = kv_->GetDBInfo();
  EXPECT_EQ(info->key_count, 1);
  EXPECT_EQ(info->pending_deletes, 0);
  EXPECT_EQ(info->swept_keys, 1);
}

// --- Errors -------------------------------------------------------------------

TEST_F(DkvStoreTest, CallsAfterCloseAreInvalidOperations) {
  kv_->Close();
  kv_->Close();
  EXPECT_TRUE(IsInvalidOperation(kv_->Set("k", "v")));
  EXPECT_TRUE(IsInvalidOperation(kv_->SetE("k", "v", Millis(0), Millis(0))));
  EXPECT_TRUE(IsInvalidOperation(kv_->SetEIfUnset("k", "v", Millis(0), Millis(0))));
  EXPECT_TRUE(IsInvalidOperation(kv_->Expire("k")));
  EXPECT_TRUE(IsInvalidOperation(kv_->Delete("k")));
  EXPECT_TRUE(IsInvalidOperation(kv_->Get("k").status()));
  EXPECT_TRUE(IsInvalidOperation(kv_->Has("k").status()));
  EXPECT_TRUE(IsInvalidOperation(kv_->GetDBInfo().status()));
  EXPECT_TRUE(IsInvalidOperation(kv_->SweepNow().status()));
}

TEST_F(DkvStoreTest, ForeignValueUnderThePrefixIsAnInternalError) {
  ASSERT_TRUE(db_.store()->Put("dkv/raw", "not an entry").ok());
  absl::Status s = kv_->Get("raw").status();
  EXPECT_TRUE(IsInternalError(s)) << s;
  EXPECT_TRUE(IsInternalError(kv_->Has("raw").status()));
  EXPECT_TRUE(IsInternalError(kv_->SetEIfUnset("raw", "v", Millis(0), Millis(0))));
  EXPECT_EQ(ErrorFromStatus(s).code, RetCode::kInternalError);
  // Set overwrites it like any value.
  REVKV_EXPECT_OK(kv_->Set("raw", "v"));
}

TEST(DkvErrorTest, StatusesMapToReturnCodes) {
  EXPECT_EQ(ErrorFromStatus(absl::OkStatus()).code, RetCode::kSuccess);
  EXPECT_EQ(ErrorFromStatus(absl::UnimplementedError("x")).code, RetCode::kUnsupportedOperation);
  EXPECT_EQ(ErrorFromStatus(absl::InvalidArgumentError("x")).code, RetCode::kInvalidOperation);
  EXPECT_EQ(ErrorFromStatus(absl::FailedPreconditionError("x")).code, RetCode::kInvalidOperation);
  EXPECT_EQ(ErrorFromStatus(mvcc::ErrClosed()).code, RetCode::kInvalidOperation);
  EXPECT_EQ(ErrorFromStatus(absl::DataLossError("x")).code, RetCode::kInternalError);
  EXPECT_EQ(ErrorFromStatus(absl::InternalError("x")).code, RetCode::kInternalError);
  EXPECT_EQ(ErrorFromStatus(absl::NotFoundError("x")).code, RetCode::kInternalError);
}

TEST(DkvErrorTest, ErrorsRoundTripThroughStatus) {
  for (RetCode c : {RetCode::kSuccess, RetCode::kInternalError, RetCode::kUnsupportedOperation,
                    RetCode::kInvalidOperation}) {
    const std::string msg = c == RetCode::kSuccess ? "" : "msg";
    Error e = NewError(c, msg);
    EXPECT_EQ(ErrorFromStatus(e.ToStatus()), e);
  }
  EXPECT_EQ(NewError(RetCode::kInvalidOperation, "bad").ToString(),
            "KVStoreError (code InvalidOperation): bad");
  EXPECT_TRUE(IsUnsupportedOperation(NewError(RetCode::kUnsupportedOperation, "x").ToStatus()));
}

// --- Entry and DBFactory ------------------------------------------------------

TEST(DkvEntryTest, EncodesHeaderThenValue) {
  Entry e{Millis(1), Millis(0x0102030405060708), std::string("v\0w", 3)};
  const std::string data = EncodeEntry(e);
  ASSERT_EQ(data.size(), kEntryHeaderSize + 3);
  EXPECT_EQ(data[0], 1);
  EXPECT_EQ(data.substr(9, 8), std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  EXPECT_EQ(*DecodeEntry(data), e);
  EXPECT_TRUE(absl::IsDataLoss(DecodeEntry("short").status()));
  EXPECT_TRUE(absl::IsDataLoss(DecodeEntry(std::string(17, '\x02')).status()));
}

TEST(DkvFactoryTest, OpenDBOwnsItsDatabaseAndPersists) {
  TempDir dir;
  const std::string path = dir.path() + "/dkv.db";
  revkv::Options c;
  c.no_sync = true;
  FakeClock clock;
  LocalStoreOptions o;
  o.clock = &clock;
  {
    auto s = NewLocalStore(OpenDB(path, c), o);
    ASSERT_TRUE(s.ok()) << s.status();
    REVKV_ASSERT_OK((*s)->SetE("k", "v", seconds(1), Millis(0)));
  }
  auto s = NewLocalStore(OpenDB(path, c), o);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ((*s)->Get("k")->value, "v");
  clock.Advance(seconds(1));
  EXPECT_FALSE((*s)->Get("k")->loaded);
}

TEST(DkvFactoryTest, SharesAStoreWithOtherApisUnderItsPrefix) {
  TempDir dir;
  testutil::MvccFixture db(dir.path() + "/db");
  auto libkv = RevkvStore::Wrap(db.db(), "libnetwork");
  ASSERT_TRUE(libkv.ok());
  REVKV_ASSERT_OK((*libkv)->Put("k", "libkv"));
  LocalStoreOptions o;
  o.background_sweeper = false;
  auto s = LocalStore::Open(ExistingStore(db.store()), o);
  ASSERT_TRUE(s.ok()) << s.status();
  REVKV_ASSERT_OK((*s)->Set("k", "dkv"));
  EXPECT_EQ((*libkv)->Get("k")->value, "libkv");
  EXPECT_EQ((*s)->Get("k")->value, "dkv");
  EXPECT_EQ((*s)->GetDBInfo()->key_count, 1);
  // HashByRev covers both.
  EXPECT_TRUE(db.store()->HashByRev(0).ok());
}

TEST(DkvFactoryTest, FactoryErrorsAreReturned) {
  EXPECT_FALSE(LocalStore::Open(DBFactory()).ok());
  EXPECT_TRUE(absl::IsInvalidArgument(
      LocalStore::Open([]() -> absl::StatusOr<DB> { return DB{}; }).status()));
  auto s = LocalStore::Open([]() -> absl::StatusOr<DB> { return absl::InternalError("boom"); });
  EXPECT_TRUE(IsInternalError(s.status()));
}

}  // namespace
}  // namespace revkv::kvstore::dkv
