// libnetwork's datastore, as a specification of its documented behaviour:
// optimistic locking on object indexes, every error value, Skip objects,
// and a cache that equals the disk after every call.
#include "kvstore/datastore/datastore.h"

#include <filesystem>
#include <map>
#include <random>

#include "gtest/gtest.h"
#include "kvstore/revkv_store.h"
#include "tests/kvstore/test_object.h"
#include "tests/kvstore/test_util.h"

namespace revkv::kvstore::datastore {
namespace {

using testutil::TempDir;

class DatastoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void Open() {
    auto s = Store::New(dir_.path(), kDefaultBucket);
    ASSERT_TRUE(s.ok()) << s.status();
    ds_ = std::move(*s);
  }
  void Reopen() {
    ds_->Close();
    ds_.reset();
    Open();
  }
  // Every object of the "dummy" prefix, by id, as the cache has them.
  std::map<std::string, TestObject> Cached() {
    std::map<std::string, TestObject> out;
    auto l = ds_->List(TestObject());
    EXPECT_TRUE(l.ok()) << l.status();
    if (l.ok()) {
      for (const auto& o : *l) out[AsTest(*o).id] = AsTest(*o);
    }
    return out;
  }
  // The same, read from disk (Map reads the libkv store, not the cache).
  std::map<std::string, TestObject> OnDisk() {
    std::map<std::string, TestObject> out;
    auto m = ds_->Map(Key("dummy"), TestObject());
    EXPECT_TRUE(m.ok()) << m.status();
    if (m.ok()) {
      for (const auto& [k, o] : *m) out[AsTest(*o).id] = AsTest(*o);
    }
    return out;
  }
  static void ExpectSame(const std::map<std::string, TestObject>& a,
                         const std::map<std::string, TestObject>& b) {
    ASSERT_EQ(a.size(), b.size());
    for (const auto& [id, o] : a) {
      auto it = b.find(id);
      ASSERT_NE(it, b.end()) << id;
      EXPECT_EQ(o.name, it->second.name) << id;
      EXPECT_EQ(o.counter, it->second.counter) << id;
      EXPECT_EQ(o.index, it->second.index) << id;
    }
  }

  TempDir dir_;
  std::unique_ptr<Store> ds_;
};

// --- Key and constants ------------------------------------------------------

TEST(DatastoreKeyTest, KeyJoinsTheRootChainAndSegmentsWithSlashes) {
  EXPECT_EQ(Key(), "docker/network/v1.0/");
  EXPECT_EQ(Key(kNetworkKeyPrefix, "n1"), "docker/network/v1.0/network/n1/");
  EXPECT_EQ(Key(std::vector<std::string>{kEndpointKeyPrefix, "n1", "e1"}),
            "docker/network/v1.0/endpoint/n1/e1/");
  EXPECT_STREQ(kNetworkKeyPrefix, "network");
  EXPECT_STREQ(kEndpointKeyPrefix, "endpoint");
  EXPECT_STREQ(kDefaultBucket, "libnetwork");
}

// --- New --------------------------------------------------------------------

TEST(DatastoreNewTest, EmptyDirOrBucketIsAnError) {
  TempDir dir;
  auto s = Store::New("", kDefaultBucket);
  EXPECT_TRUE(absl::IsInvalidArgument(s.status()));
  EXPECT_EQ(s.status().message(), "empty dir");
  s = Store::New(dir.path(), "");
  EXPECT_TRUE(absl::IsInvalidArgument(s.status()));
  EXPECT_EQ(s.status().message(), "empty bucket");
}

TEST(DatastoreNewTest, OpensLocalKvDbInTheDirectory) {
  TempDir dir;
  auto s = Store::New(dir.path() + "/network/files", kDefaultBucket);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/network/files/local-kv.db"));
}

// --- PutObjectAtomic --------------------------------------------------------

TEST_F(DatastoreTest, PutOfNewObjectStoresItAndSetsItsIndex) {
  TestObject o("a", "alpha");
  EXPECT_FALSE(o.Exists());
  REVKV_ASSERT_OK(ds_->PutObjectAtomic(o));
  EXPECT_TRUE(o.Exists());
  EXPECT_GT(o.Index(), 0u);
  TestObject got("a", "");
  REVKV_ASSERT_OK(ds_->GetObject(got));
  EXPECT_EQ(got.name, "alpha");
  EXPECT_EQ(got.Index(), o.Index());
  EXPECT_TRUE(got.Exists());
}

TEST_F(DatastoreTest, PutWithCurrentIndexUpdates) {
  TestObject o("a", "alpha");
  REVKV_ASSERT_OK(ds_->PutObjectAtomic(o));
  const uint64_t first = o.Index();
  o.name = "beta";
  REVKV_ASSERT_OK(ds_->PutObjectAtomic(o));
  EXPECT_GT(o.Index(), first);
  TestObject got("a", "");
  REVKV_ASSERT_OK(ds_->GetObject(got));
  EXPECT_EQ(got.name, "beta");
}

TEST_F(DatastoreTest, PutWithStaleIndexIsErrKeyModifiedAndChangesNothing) {
  TestObject o("a", "alpha");
  REVKV_ASSERT_OK(ds_->PutObjectAtomic(o));
  TestObject stale = o;
  o.name = "beta";
  REVKV_ASSERT_OK(ds_->PutObjectAtomic(o));
  stale.name = "gamma";
  const uint64_t stale_index = stale.Index();
  absl::Status s = ds_->PutObjectAtomic(stale);
  EXPECT_TRUE(IsKeyModified(s)) << s;
  EXPECT_EQ(stale.Index(), stale_index);  // the object is left as it was
  TestObject got("a", "");
  REVKV_ASSERT_OK(ds_->GetObject(got));
  EXPECT_EQ(got.name, "beta");
  EXPECT_EQ(got.Index(), o.Index());
  ExpectSame(Cached(), OnDisk());
}

TEST_F(DatastoreTest, PutOfNewObjectWhoseKeyIsStoredIsErrKeyModified) {
  TestObject o("a", "alpha");
  REVKV_ASSERT_OK(ds_->PutObjectAtomic(o));
  TestObject again("a", "other");  // Exists() false: a create
  EXPECT_TRUE(IsKeyModified(ds_->PutObjectAtomic(again)));
  EXPECT_FALSE(again.Exists());
  ExpectSame(Cached(), OnDisk());
}

TEST_F(DatastoreTest, PutOfDeletedObjectIsErrKeyNotFound) {
  TestObject o("a", "alpha");
  REVKV_ASSERT_OK(ds_->PutObjectAtomic(o));
  REVKV_ASSERT_OK(ds_->DeleteObject(o));
  EXPECT_TRUE(IsKeyNotFound(ds_->PutObjectAtomic(o)));
  EXPECT_TRUE(Cached().empty());
}

TEST_F(DatastoreTest, PutOfObjectWithoutValueIsInvalidArgument) {
  TestObject o("a", "alpha");
  o.fail_value = true;
  absl::Status s = ds_->PutObjectAtomic(o);
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_FALSE(o.Exists());
  EXPECT_TRUE(OnDisk().empty());
}

TEST_F(DatastoreTest, CacheHoldsCopiesNotTheCallersObject) {
  TestObject o("a", "alpha");
  REVKV_ASSERT_OK(ds_->PutObjectAtomic(o));
  o.name = "changed locally";
  TestObject got("a", "");
  REVKV_ASSERT_OK(ds_->GetObject(got));
  EXPECT_EQ(got.name, "alpha");
  auto l = ds_->List(TestObject());
  ASSERT_TRUE(l.ok());
  static_cast<TestObject&>(*(*l)[0]).name = "changed in the list";
  REVKV_ASSERT_OK(ds_->GetObject(got));
  EXPECT_EQ(got.name, "alpha");
}

// --- GetObject / List / Map -------------------------------------------------

TEST_F(DatastoreTest, GetOfMissingObjectIsErrKeyNotFound) {
  TestObject o("nope", "");
  absl::Status s = ds_->GetObject(o);
  EXPECT_TRUE(IsKeyNotFound(s)) << s;
  EXPECT_EQ(s.message(), "Key not found in store");
}

TEST_F(DatastoreTest, ListReturnsEveryObjectOfThePrefix) {
  EXPECT_TRUE(ds_->List(TestObject())->empty());
  for (const char* id : {"c", "a", "b"}) {
    TestObject o(id, std::string("name-") + id);
    REVKV_ASSERT_OK(ds_->PutObjectAtomic(o));
  }
  auto l = ds_->List(TestObject());
  ASSERT_TRUE(l.ok());
  ASSERT_EQ(l->size(), 3u);
  EXPECT_EQ(AsTest(*(*l)[0]).id, "a");
  EXPECT_EQ(AsTest(*(*l)[2]).name, "name-c");
  for (const auto& o : *l) EXPECT_TRUE(o->Exists());
}

TEST_F(DatastoreTest, MapReadsTheStoreByTrimmedKeyAndCreatesTheParent) {
  TestObject o("a", "alpha");
  REVKV_ASSERT_OK(ds_->PutObjectAtomic(o));
  auto m = ds_->Map(Key("dummy"), TestObject());
  ASSERT_TRUE(m.ok()) << m.status();
  ASSERT_EQ(m->size(), 1u);
  const auto& [key, obj] = *m->begin();
  EXPECT_EQ(key, "docker/network/v1.0/dummy/a");
  EXPECT_EQ(AsTest(*obj).name, "alpha");
  EXPECT_EQ(obj->Index(), o.Index());
  // The parent marker Map stored is empty and never shows up as an object.
  EXPECT_EQ(ds_->List(TestObject())->size(), 1u);
}

TEST_F(DatastoreTest, MapOfEmptyPrefixIsEmpty) {
  auto m = ds_->Map(Key("nothing"), TestObject());
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_TRUE(m->empty());
}

// --- DeleteObject / DeleteObjectAtomic --------------------------------------

TEST_F(DatastoreTest, DeleteObjectIgnoresTheIndex) {
  TestObject o("a", "alpha");
  REVKV_ASSERT_OK(ds_->PutObjectAtomic(o));
  TestObject stale = o;
  REVKV_ASSERT_OK(ds_->PutObjectAtomic(o));
  REVKV_ASSERT_OK(ds_->DeleteObject(stale));
  EXPECT_TRUE(IsKeyNotFound(ds_->GetObject(o)));
  EXPECT_TRUE(OnDisk().empty());
}

TEST_F(DatastoreTest, DeleteObjectOfMissingObjectIsErrKeyNotFound) {
  EXPECT_TRUE(IsKeyNotFound(ds_->DeleteObject(TestObject("nope", ""))));
}

TEST_F(DatastoreTest, DeleteObjectAtomicWithStaleIndexIsErrKeyModified) {
  TestObject o("a", "alpha");
  REVKV_ASSERT_OK(ds_->PutObjectAtomic(o));
  TestObject stale = o;
  REVKV_ASSERT_OK(ds_->PutObjectAtomic(o));
  EXPECT_TRUE(IsKeyModified(ds_->DeleteObjectAtomic(stale)));
  TestObject got("a", "");
  REVKV_EXPECT_OK(ds_->GetObject(got));
  ExpectSame(Cached(), OnDisk());
  REVKV_ASSERT_OK(ds_->DeleteObjectAtomic(o));
  EXPECT_TRUE(IsKeyNotFound(ds_->GetObject(got)));
  ExpectSame(Cached(), OnDisk());
}

TEST_F(DatastoreTest, DeleteObjectAtomicOfMissingObjectIsErrKeyNotFound) {
  TestObject o("nope", "");
  o.SetIndex(7);
  EXPECT_TRUE(IsKeyNotFound(ds_->DeleteObjectAtomic(o)));
}

// --- Skip objects -------------------------------------------------------------

TEST_F(DatastoreTest, SkipObjectsLiveOnlyInTheCacheWithTheirOwnSequence) {
  TestObject o("s", "skipped", 0, /*skip=*/true);
  REVKV_ASSERT_OK(ds_->PutObjectAtomic(o));
  EXPECT_EQ(o.Index(), 1u);
  TestObject stale = o;
  REVKV_ASSERT_OK(ds_->PutObjectAtomic(o));
  EXPECT_EQ(o.Index(), 2u);
  EXPECT_TRUE(IsKeyModified(ds_->PutObjectAtomic(stale)));
  TestObject got("s", "", 0, true);
  REVKV_ASSERT_OK(ds_->GetObject(got));
  EXPECT_EQ(got.Index(), 2u);
  // Never on disk.
  EXPECT_TRUE(OnDisk().empty());
  EXPECT_TRUE(IsKeyModified(ds_->DeleteObjectAtomic(stale)));
  REVKV_ASSERT_OK(ds_->DeleteObjectAtomic(o));
  EXPECT_TRUE(IsKeyNotFound(ds_->GetObject(got)));
  // DeleteObject of an absent Skip object is no error.
  REVKV_EXPECT_OK(ds_->DeleteObject(o));
}

TEST_F(DatastoreTest, SkipObjectsAreGoneAfterReopen) {
  TestObject s("s", "skipped", 0, true), p("p", "persisted");
  REVKV_ASSERT_OK(ds_->PutObjectAtomic(s));
  REVKV_ASSERT_OK(ds_->PutObjectAtomic(p));
  Reopen();
  auto cached = Cached();
  EXPECT_EQ(cached.size(), 1u);
  EXPECT_EQ(cached.count("p"), 1u);
}

// --- Close, reopen, and cache == disk -----------------------------------------

TEST_F(DatastoreTest, CallsAfterCloseAreErrStoreClosed) {
  TestObject o("a", "alpha");
  REVKV_ASSERT_OK(ds_->PutObjectAtomic(o));
  ds_->Close();
  ds_->Close();
  EXPECT_TRUE(IsStoreClosed(ds_->PutObjectAtomic(o)));
  EXPECT_TRUE(IsStoreClosed(ds_->GetObject(o)));
  EXPECT_TRUE(IsStoreClosed(ds_->List(o).status()));
  EXPECT_TRUE(IsStoreClosed(ds_->Map(Key("dummy"), o).status()));
  EXPECT_TRUE(IsStoreClosed(ds_->DeleteObject(o)));
  EXPECT_TRUE(IsStoreClosed(ds_->DeleteObjectAtomic(o)));
}

TEST_F(DatastoreTest, ObjectsAndIndexesSurviveReopen) {
  TestObject o("a", "alpha", 41);
  REVKV_ASSERT_OK(ds_->PutObjectAtomic(o));
  Reopen();
  TestObject got("a", "");
  REVKV_ASSERT_OK(ds_->GetObject(got));
  EXPECT_EQ(got.counter, 41);
  EXPECT_EQ(got.Index(), o.Index());
  got.counter++;
  REVKV_EXPECT_OK(ds_->PutObjectAtomic(got));
  EXPECT_TRUE(IsKeyModified(ds_->PutObjectAtomic(o)));
}

TEST_F(DatastoreTest, CacheEqualsDiskAfterEveryCallOfARandomWorkload) {
  std::mt19937 rng(7);
  std::map<std::string, TestObject> mine;  // what this client last saw
  for (int step = 0; step < 400; ++step) {
    const std::string id(1, char('a' + rng() % 6));
    TestObject o = mine.count(id) ? mine[id] : TestObject(id, "");
    if (rng() % 4 == 0) o.index = o.index > 0 ? o.index - 1 : 0;  // sometimes stale
    absl::Status s;
    switch (rng() % 5) {
      case 0:
      case 1:
        o.name = "v" + std::to_string(step);
        s = ds_->PutObjectAtomic(o);
        if (s.ok()) mine[id] = o;
        break;
      case 2:
        s = ds_->GetObject(o);
        if (s.ok()) mine[id] = o;
        break;
      case 3:
        s = ds_->DeleteObjectAtomic(o);
        if (s.ok()) mine.erase(id);
        break;
      case 4:
        s = ds_->DeleteObject(o);
        if (s.ok()) mine.erase(id);
        break;
    }
    ASSERT_TRUE(s.ok() || IsKeyModified(s) || IsKeyNotFound(s)) << s;
    ASSERT_NO_FATAL_FAILURE(ExpectSame(Cached(), OnDisk())) << "step " << step;
  }
  Reopen();
  ExpectSame(Cached(), OnDisk());
}

TEST(DatastoreFromKVStoreTest, WorksOverAnyLibkvStore) {
  TempDir dir;
  testutil::MvccFixture db(dir.path() + "/db");
  auto kv = RevkvStore::Wrap(db.db(), kDefaultBucket);
  ASSERT_TRUE(kv.ok());
  auto ds = Store::FromKVStore(kv->get());
  TestObject o("a", "alpha");
  REVKV_ASSERT_OK(ds->PutObjectAtomic(o));
  auto pair = (*kv)->Get(Key("dummy", "a"));
  ASSERT_TRUE(pair.ok()) << pair.status();
  EXPECT_EQ(pair->last_index, o.Index());
  ds->Close();  // does not close a store it does not own
  EXPECT_TRUE((*kv)->Get(Key("dummy", "a")).ok());
}


// Two datastores over two handles of one store: each sees the other's
// writes at its next call, through its cache's watch, however many writes
// came between (more than a watch stream queues).
class DatastoreCoherenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 2; ++i) {
      auto kv = RevkvStore::Wrap(db_.db(), kDefaultBucket);
      ASSERT_TRUE(kv.ok());
      kv_[i] = std::move(*kv);
      ds_[i] = Store::FromKVStore(kv_[i].get());
    }
  }
  TempDir dir_;
  testutil::MvccFixture db_{dir_.path() + "/db"};
  std::unique_ptr<RevkvStore> kv_[2];
  std::unique_ptr<Store> ds_[2];
};

TEST_F(DatastoreCoherenceTest, EachSeesTheOthersWritesAtItsNextCall) {
  TestObject a("a", "first");
  REVKV_ASSERT_OK(ds_[1]->PutObjectAtomic(a));  // loads ds_[1]'s cache
  TestObject seen("a", "");
  REVKV_ASSERT_OK(ds_[0]->GetObject(seen));  // loads ds_[0]'s cache
  EXPECT_EQ(seen.name, "first");

  for (int i = 0; i < 300; ++i) {
    a.name = "n" + std::to_string(i);
    REVKV_ASSERT_OK(ds_[1]->PutObjectAtomic(a));
  }
  REVKV_ASSERT_OK(ds_[0]->GetObject(seen));
  EXPECT_EQ(seen.name, "n299");
  EXPECT_EQ(seen.Index(), a.Index());

  TestObject stale("a", "stale");
  stale.SetIndex(a.Index() - 1);
  EXPECT_TRUE(IsKeyModified(ds_[0]->PutObjectAtomic(stale)));

  TestObject b("b", "from 0");
  REVKV_ASSERT_OK(ds_[0]->PutObjectAtomic(b));
  auto listed = ds_[1]->List(TestObject());
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ(AsTest(*(*listed)[1]).name, "from 0");

  REVKV_ASSERT_OK(ds_[1]->DeleteObjectAtomic(a));
  TestObject gone("a", "");
  EXPECT_TRUE(IsKeyNotFound(ds_[0]->GetObject(gone)));
  listed = ds_[0]->List(TestObject());
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(AsTest(*(*listed)[0]).id, "b");
}

TEST_F(DatastoreCoherenceTest, AWriteThroughTheLibkvStoreIsSeenToo) {
  TestObject probe("x", "");
  EXPECT_TRUE(IsKeyNotFound(ds_[0]->GetObject(probe)));  // loads the prefix
  REVKV_ASSERT_OK(kv_[1]->Put(Key("dummy", "x"), "x|direct|7|0"));
  REVKV_ASSERT_OK(ds_[0]->GetObject(probe));
  EXPECT_EQ(probe.name, "direct");
  EXPECT_EQ(probe.counter, 7);
  REVKV_ASSERT_OK(kv_[1]->Put(Key("dummy", "x"), ""));  // an empty value: not an object
  EXPECT_TRUE(IsKeyNotFound(ds_[0]->GetObject(probe)));
}

TEST_F(DatastoreCoherenceTest, ACacheWhoseWatchLostItsHistoryReloads) {
  TestObject a("a", "v0");
  REVKV_ASSERT_OK(ds_[0]->PutObjectAtomic(a));
  // Far behind, then the history it would catch up from is compacted.
  for (int i = 1; i <= 300; ++i) {
    a.name = "v" + std::to_string(i);
    REVKV_ASSERT_OK(ds_[1]->PutObjectAtomic(a));
  }
  REVKV_ASSERT_OK(db_.store()->Compact(db_.store()->Rev()));
  TestObject seen("a", "");
  REVKV_ASSERT_OK(ds_[0]->GetObject(seen));
  EXPECT_EQ(seen.name, "v300");
  EXPECT_EQ(seen.Index(), a.Index());
}

}  // namespace
}  // namespace revkv::kvstore::datastore
