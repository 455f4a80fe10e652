// The libkv Store (libnetwork/internal/kvstore), as a specification of the
// Go API's documented behaviour, every error value included.
#include <chrono>
#include <filesystem>
#include <thread>

#include "gtest/gtest.h"
#include "kvstore/revkv_store.h"
#include "kvstore/store.h"
#include "tests/kvstore/test_util.h"

namespace revkv::kvstore {
namespace {

using testutil::TempDir;

class LibkvStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void Open() {
    auto s = New(kRevkv, path(), Config{std::chrono::milliseconds(0), "libnetwork"});
    ASSERT_TRUE(s.ok()) << s.status();
    kv_ = std::move(*s);
  }
  void Reopen() {
    kv_->Close();
    kv_.reset();
    Open();
  }
  std::string path() const { return dir_.path() + "/sub/dir/local-kv.db"; }

  TempDir dir_;
  std::unique_ptr<Store> kv_;
};

// --- New --------------------------------------------------------------------

TEST(LibkvNewTest, UnknownBackendIsErrBackendNotSupported) {
  TempDir dir;
  for (const char* name : {"boltdb", "consul", "etcd", "zk", ""}) {
    auto s = New(name, dir.path() + "/db", Config{{}, "b"});
    EXPECT_TRUE(IsBackendNotSupported(s.status())) << name << ": " << s.status();
    EXPECT_EQ(s.status().message().substr(0, sizeof kBackendNotSupportedMessage - 1),
              kBackendNotSupportedMessage);  // libkv's message, for people
  }
}

TEST(LibkvNewTest, EmptyBucketIsErrBucketOptionMissing) {
  TempDir dir;
  auto s = New(kRevkv, dir.path() + "/db", Config{});
  EXPECT_TRUE(IsBucketOptionMissing(s.status())) << s.status();
  EXPECT_EQ(s.status().message(), "boltBucket config option missing");
}

TEST(LibkvNewTest, BucketWithSlashIsInvalidArgument) {
  TempDir dir;
  auto s = New(kRevkv, dir.path() + "/db", Config{{}, "a/b"});
  EXPECT_TRUE(absl::IsInvalidArgument(s.status())) << s.status();
}

TEST(LibkvNewTest, CreatesMissingParentDirectories) {
  TempDir dir;
  const std::string path = dir.path() + "/x/y/z/db";
  auto s = New(kRevkv, path, Config{{}, "b"});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(std::filesystem::exists(path));
}

TEST(LibkvNewTest, LockedFileFailsAfterConnectionTimeout) {
  TempDir dir;
  const std::string path = dir.path() + "/db";
  auto first = New(kRevkv, path, Config{{}, "b"});
  ASSERT_TRUE(first.ok()) << first.status();
  // Zero: fail at once.
  auto second = New(kRevkv, path, Config{{}, "b"});
  EXPECT_TRUE(absl::IsFailedPrecondition(second.status())) << second.status();
  // Non-zero: keep trying for that long.
  const auto start = std::chrono::steady_clock::now();
  second = New(kRevkv, path, Config{std::chrono::milliseconds(100), "b"});
  EXPECT_FALSE(second.ok());
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(100));
}

TEST(LibkvNewTest, WaitsForTheLockUpToConnectionTimeout) {
  TempDir dir;
  const std::string path = dir.path() + "/db";
  auto first = New(kRevkv, path, Config{{}, "b"});
  ASSERT_TRUE(first.ok()) << first.status();
  REVKV_ASSERT_OK((*first)->Put("k", "v"));
  std::thread closer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    (*first)->Close();
  });
  auto second = New(kRevkv, path, Config{std::chrono::seconds(30), "b"});
  closer.join();
  ASSERT_TRUE(second.ok()) << second.status();
  auto got = (*second)->Get("k");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->value, "v");
}

// --- Put / Get --------------------------------------------------------------

TEST_F(LibkvStoreTest, PutThenGetReturnsTheValueAndItsIndex) {
  REVKV_ASSERT_OK(kv_->Put("foo", "bar"));
  auto p = kv_->Get("foo");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->key, "foo");
  EXPECT_EQ(p->value, "bar");
  EXPECT_GT(p->last_index, 0u);
}

TEST_F(LibkvStoreTest, GetOfMissingKeyIsErrKeyNotFound) {
  auto p = kv_->Get("nope");
  EXPECT_TRUE(IsKeyNotFound(p.status())) << p.status();
  EXPECT_EQ(p.status().message(), "Key not found in store");
}

TEST_F(LibkvStoreTest, PutOverwritesAndAdvancesTheIndex) {
  REVKV_ASSERT_OK(kv_->Put("foo", "1"));
  const uint64_t i1 = kv_->Get("foo")->last_index;
  REVKV_ASSERT_OK(kv_->Put("foo", "2"));
  auto p = kv_->Get("foo");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->value, "2");
  EXPECT_GT(p->last_index, i1);
}

TEST_F(LibkvStoreTest, IndexGrowsAcrossKeys) {
  REVKV_ASSERT_OK(kv_->Put("a", "1"));
  REVKV_ASSERT_OK(kv_->Put("b", "1"));
  EXPECT_LT(kv_->Get("a")->last_index, kv_->Get("b")->last_index);
}

TEST_F(LibkvStoreTest, EmptyKeyIsRequired) {
  EXPECT_TRUE(absl::IsInvalidArgument(kv_->Put("", "v")));
  EXPECT_TRUE(absl::IsInvalidArgument(kv_->AtomicPut("", "v", std::nullopt).status()));
}

TEST_F(LibkvStoreTest, BinaryKeysAndValuesRoundTrip) {
  const std::string key("k\0\xff", 3), value("\0\1\2\xff", 4);
  REVKV_ASSERT_OK(kv_->Put(key, value));
  auto p = kv_->Get(key);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->key, key);
  EXPECT_EQ(p->value, value);
}

// --- Exists -----------------------------------------------------------------

TEST_F(LibkvStoreTest, ExistsIsFalseForMissingKeyWithoutError) {
  auto e = kv_->Exists("nope");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_FALSE(*e);
}

TEST_F(LibkvStoreTest, ExistsIsTrueAfterPutEvenForEmptyValue) {
  REVKV_ASSERT_OK(kv_->Put("k", ""));
  EXPECT_TRUE(*kv_->Exists("k"));
  REVKV_ASSERT_OK(kv_->Delete("k"));
  EXPECT_FALSE(*kv_->Exists("k"));
}

// --- List -------------------------------------------------------------------

TEST_F(LibkvStoreTest, ListReturnsEveryKeyUnderThePrefixInOrder) {
  for (const char* k : {"a/b", "a/b/c", "a/bc", "a/a", "b", "a"}) REVKV_ASSERT_OK(kv_->Put(k, k));
  auto l = kv_->List("a/b");
  ASSERT_TRUE(l.ok()) << l.status();
  std::vector<std::string> keys;
  for (const KVPair& p : *l) {
    keys.push_back(p.key);
    EXPECT_EQ(p.value, p.key);
    EXPECT_EQ(p.last_index, kv_->Get(p.key)->last_index);
  }
  EXPECT_EQ(keys, (std::vector<std::string>{"a/b", "a/b/c", "a/bc"}));
}

TEST_F(LibkvStoreTest, ListOfEmptyDirectoryIsErrKeyNotFound) {
  EXPECT_TRUE(IsKeyNotFound(kv_->List("dir/").status()));
  REVKV_ASSERT_OK(kv_->Put("dir/x", "1"));
  REVKV_ASSERT_OK(kv_->Delete("dir/x"));
  EXPECT_TRUE(IsKeyNotFound(kv_->List("dir/").status()));
}

TEST_F(LibkvStoreTest, ListOfEmptyPrefixIsTheWholeBucket) {
  REVKV_ASSERT_OK(kv_->Put("x", "1"));
  REVKV_ASSERT_OK(kv_->Put("y", "2"));
  auto l = kv_->List("");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->size(), 2u);
}

// --- AtomicPut --------------------------------------------------------------

TEST_F(LibkvStoreTest, AtomicPutWithoutPreviousCreates) {
  auto p = kv_->AtomicPut("k", "v", std::nullopt);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(*p, (KVPair{"k", "v", p->last_index}));
  EXPECT_EQ(kv_->Get("k")->last_index, p->last_index);
}

TEST_F(LibkvStoreTest, AtomicPutWithoutPreviousOnPresentKeyIsErrKeyExists) {
  REVKV_ASSERT_OK(kv_->Put("k", "v"));
  auto p = kv_->AtomicPut("k", "w", std::nullopt);
  EXPECT_TRUE(IsKeyExists(p.status())) << p.status();
  EXPECT_EQ(p.status().message(), "Previous K/V pair exists, cannot complete Atomic operation");
  EXPECT_EQ(kv_->Get("k")->value, "v");
}

TEST_F(LibkvStoreTest, AtomicPutWithMatchingPreviousSwaps) {
  auto first = kv_->AtomicPut("k", "1", std::nullopt);
  ASSERT_TRUE(first.ok());
  auto second = kv_->AtomicPut("k", "2", *first);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_GT(second->last_index, first->last_index);
  EXPECT_EQ(kv_->Get("k")->value, "2");
}

TEST_F(LibkvStoreTest, AtomicPutWithStalePreviousIsErrKeyModified) {
  auto first = kv_->AtomicPut("k", "1", std::nullopt);
  ASSERT_TRUE(first.ok());
  REVKV_ASSERT_OK(kv_->Put("k", "other"));
  auto p = kv_->AtomicPut("k", "2", *first);
  EXPECT_TRUE(IsKeyModified(p.status())) << p.status();
  EXPECT_EQ(p.status().message(), "Unable to complete atomic operation, key modified");
  EXPECT_EQ(kv_->Get("k")->value, "other");
}

TEST_F(LibkvStoreTest, AtomicPutWithPreviousOnMissingKeyIsErrKeyNotFound) {
  auto p = kv_->AtomicPut("k", "v", KVPair{"k", "", 5});
  EXPECT_TRUE(IsKeyNotFound(p.status())) << p.status();
  EXPECT_FALSE(*kv_->Exists("k"));
}

TEST_F(LibkvStoreTest, AtomicPutComparesOnlyTheIndex) {
  auto first = kv_->AtomicPut("k", "1", std::nullopt);
  ASSERT_TRUE(first.ok());
  // libkv builds previous from Key and LastIndex only; the value is ignored.
  auto p = kv_->AtomicPut("k", "2", KVPair{"k", "whatever", first->last_index});
  EXPECT_TRUE(p.ok()) << p.status();
}

// --- AtomicDelete -----------------------------------------------------------

TEST_F(LibkvStoreTest, AtomicDeleteWithoutPreviousIsErrPreviousNotSpecified) {
  REVKV_ASSERT_OK(kv_->Put("k", "v"));
  absl::Status s = kv_->AtomicDelete("k", std::nullopt);
  EXPECT_TRUE(IsPreviousNotSpecified(s)) << s;
  EXPECT_EQ(s.message(), "Previous K/V pair should be provided for the Atomic operation");
  EXPECT_TRUE(*kv_->Exists("k"));
}

TEST_F(LibkvStoreTest, AtomicDeleteOfMissingKeyIsErrKeyNotFound) {
  EXPECT_TRUE(IsKeyNotFound(kv_->AtomicDelete("k", KVPair{"k", "", 1})));
}

TEST_F(LibkvStoreTest, AtomicDeleteWithStalePreviousIsErrKeyModified) {
  auto first = kv_->AtomicPut("k", "1", std::nullopt);
  ASSERT_TRUE(first.ok());
  REVKV_ASSERT_OK(kv_->Put("k", "2"));
  EXPECT_TRUE(IsKeyModified(kv_->AtomicDelete("k", *first)));
  EXPECT_TRUE(*kv_->Exists("k"));
}

TEST_F(LibkvStoreTest, AtomicDeleteWithMatchingPreviousDeletes) {
  auto first = kv_->AtomicPut("k", "1", std::nullopt);
  ASSERT_TRUE(first.ok());
  REVKV_ASSERT_OK(kv_->AtomicDelete("k", *first));
  EXPECT_FALSE(*kv_->Exists("k"));
  // A deleted key can be created again.
  REVKV_EXPECT_OK(kv_->AtomicPut("k", "again", std::nullopt));
}

// --- Delete -----------------------------------------------------------------

TEST_F(LibkvStoreTest, DeleteRemovesTheKey) {
  REVKV_ASSERT_OK(kv_->Put("k", "v"));
  REVKV_ASSERT_OK(kv_->Delete("k"));
  EXPECT_TRUE(IsKeyNotFound(kv_->Get("k").status()));
}

TEST_F(LibkvStoreTest, DeleteOfMissingKeyIsErrKeyNotFound) {
  EXPECT_TRUE(IsKeyNotFound(kv_->Delete("k")));
}

// --- Close and durability ---------------------------------------------------

TEST_F(LibkvStoreTest, CallsAfterCloseAreErrStoreClosed) {
  kv_->Close();
  kv_->Close();  // idempotent
  EXPECT_TRUE(IsStoreClosed(kv_->Put("k", "v")));
  EXPECT_TRUE(IsStoreClosed(kv_->Get("k").status()));
  EXPECT_TRUE(IsStoreClosed(kv_->Exists("k").status()));
  EXPECT_TRUE(IsStoreClosed(kv_->List("k").status()));
  EXPECT_TRUE(IsStoreClosed(kv_->AtomicPut("k", "v", std::nullopt).status()));
  EXPECT_TRUE(IsStoreClosed(kv_->AtomicDelete("k", KVPair{})));
  EXPECT_TRUE(IsStoreClosed(kv_->Delete("k")));
}

TEST_F(LibkvStoreTest, DataAndIndexesSurviveReopen) {
  auto p = kv_->AtomicPut("k", "v", std::nullopt);
  ASSERT_TRUE(p.ok());
  REVKV_ASSERT_OK(kv_->Put("gone", "x"));
  REVKV_ASSERT_OK(kv_->Delete("gone"));
  Reopen();
  auto got = kv_->Get("k");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, *p);
  EXPECT_FALSE(*kv_->Exists("gone"));
  // The index compares across the reopen.
  REVKV_EXPECT_OK(kv_->AtomicPut("k", "w", *p));
}

// --- Buckets ----------------------------------------------------------------

TEST(LibkvBucketTest, BucketsIsolateKeySpacesOverOneMvccStore) {
  TempDir dir;
  testutil::MvccFixture db(dir.path() + "/db");
  auto a = RevkvStore::Wrap(db.db(), "a");
  auto ab = RevkvStore::Wrap(db.db(), "ab");
  ASSERT_TRUE(a.ok() && ab.ok());
  REVKV_ASSERT_OK((*a)->Put("k", "in a"));
  REVKV_ASSERT_OK((*ab)->Put("k", "in ab"));
  REVKV_ASSERT_OK((*ab)->Put("k2", "only ab"));
  EXPECT_EQ((*a)->Get("k")->value, "in a");
  EXPECT_EQ((*ab)->Get("k")->value, "in ab");
  EXPECT_TRUE(IsKeyNotFound((*a)->Get("k2").status()));
  EXPECT_EQ((*a)->List("")->size(), 1u);
  EXPECT_EQ((*ab)->List("")->size(), 2u);
  REVKV_ASSERT_OK((*a)->Delete("k"));
  EXPECT_TRUE(*(*ab)->Exists("k"));
  // The mvcc keys carry the bucket.
  auto r = db.store()->Range("ab/k", "");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->kvs.size(), 1u);
  EXPECT_EQ(r->kvs[0].value, "in ab");
}

TEST(LibkvBucketTest, WrapChecksTheBucket) {
  TempDir dir;
  testutil::MvccFixture db(dir.path() + "/db");
  EXPECT_TRUE(IsBucketOptionMissing(RevkvStore::Wrap(db.db(), "").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(RevkvStore::Wrap(db.db(), "x/y").status()));
}

// --- Errors -----------------------------------------------------------------

TEST(LibkvErrorsTest, EveryHelperRecognizesOnlyItsError) {
  const std::vector<absl::Status> errs = {ErrKeyModified(),  ErrKeyNotFound(),
                                          ErrPreviousNotSpecified(), ErrKeyExists(),
                                          ErrBackendNotSupported(), ErrBucketOptionMissing(),
                                          ErrStoreClosed()};
  const std::vector<bool (*)(const absl::Status&)> is = {
      IsKeyModified,        IsKeyNotFound,         IsPreviousNotSpecified, IsKeyExists,
      IsBackendNotSupported, IsBucketOptionMissing, IsStoreClosed};
  for (size_t i = 0; i < errs.size(); ++i) {
    for (size_t j = 0; j < is.size(); ++j) EXPECT_EQ(is[j](errs[i]), i == j) << i << " " << j;
    EXPECT_FALSE(is[i](absl::OkStatus()));
    EXPECT_FALSE(is[i](absl::InternalError(errs[i].message())));
  }
}

}  // namespace
}  // namespace revkv::kvstore
