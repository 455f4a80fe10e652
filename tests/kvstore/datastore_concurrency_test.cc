// The datastore under concurrent clients: optimistic-locking increments of
// shared objects lose nothing, and the cache equals the disk at the end.
// Run under TSan (tag "concurrency").
#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "kvstore/datastore/datastore.h"
#include "kvstore/revkv_store.h"
#include "tests/kvstore/test_object.h"
#include "tests/kvstore/test_util.h"

namespace revkv::kvstore::datastore {
namespace {

using testutil::TempDir;

constexpr int kThreads = 8;
constexpr int kPerThread = 100;
constexpr int kObjects = 3;

TEST(DatastoreConcurrencyTest, NoIncrementIsLostAndCacheEqualsDisk) {
  TempDir dir;
  testutil::MvccFixture db(dir.path() + "/db");
  auto kv = RevkvStore::Wrap(db.db(), kDefaultBucket);
  ASSERT_TRUE(kv.ok());
  auto ds = Store::FromKVStore(kv->get());
  for (int i = 0; i < kObjects; ++i) {
    TestObject o(std::to_string(i), "counter");
    REVKV_ASSERT_OK(ds->PutObjectAtomic(o));
  }
  std::atomic<int> conflicts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int n = 0; n < kPerThread; ++n) {
        const std::string id = std::to_string((t + n) % kObjects);
        while (true) {
          TestObject o(id, "");
          absl::Status s = ds->GetObject(o);
          ASSERT_TRUE(s.ok()) << s;
          o.counter++;
          s = ds->PutObjectAtomic(o);
          if (s.ok()) break;
          ASSERT_TRUE(IsKeyModified(s)) << s;
          conflicts++;
        }
        // Readers of the whole family run alongside.
        if (n % 10 == 0) {
          ASSERT_TRUE(ds->List(TestObject()).ok());
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();

  int64_t total = 0;
  auto cached = ds->List(TestObject());
  ASSERT_TRUE(cached.ok());
  for (const auto& o : *cached) total += AsTest(*o).counter;
  EXPECT_EQ(total, kThreads * kPerThread);
  auto disk = ds->Map(Key("dummy"), TestObject());
  ASSERT_TRUE(disk.ok());
  ASSERT_EQ(disk->size(), cached->size());
  for (const auto& o : *cached) {
    const auto& d = disk->at("docker/network/v1.0/dummy/" + AsTest(*o).id);
    EXPECT_EQ(AsTest(*d).counter, AsTest(*o).counter);
    EXPECT_EQ(d->Index(), o->Index());
  }
}

TEST(DatastoreConcurrencyTest, RacingCreatorsAndDeletersKeepCacheEqualToDisk) {
  TempDir dir;
  testutil::MvccFixture db(dir.path() + "/db");
  auto kv = RevkvStore::Wrap(db.db(), kDefaultBucket);
  ASSERT_TRUE(kv.ok());
  auto ds = Store::FromKVStore(kv->get());
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int n = 0; n < 200; ++n) {
        TestObject o(std::to_string(n % 5), "t" + std::to_string(t));
        absl::Status s = (n + t) % 3 == 0 ? ds->DeleteObject(o) : ds->PutObjectAtomic(o);
        ASSERT_TRUE(s.ok() || IsKeyModified(s) || IsKeyNotFound(s)) << s;
        if (s.ok() && n % 2 == 0) {
          s = ds->DeleteObjectAtomic(o);
          ASSERT_TRUE(s.ok() || IsKeyModified(s) || IsKeyNotFound(s)) << s;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  auto cached = ds->List(TestObject());
  auto disk = ds->Map(Key("dummy"), TestObject());
  ASSERT_TRUE(cached.ok() && disk.ok());
  ASSERT_EQ(cached->size(), disk->size());
  for (const auto& o : *cached) {
    const auto& d = disk->at("docker/network/v1.0/dummy/" + AsTest(*o).id);
    EXPECT_EQ(AsTest(*d).name, AsTest(*o).name);
    EXPECT_EQ(d->Index(), o->Index());
  }
}


// One handle writes while another reads through its cache: every read sees
// a value at least as new as the last write that returned before it began
// (the watch's catch-up is exact, not eventual).
TEST(DatastoreConcurrencyTest, AReaderNeverSeesAWriteOlderThanOneThatReturned) {
  TempDir dir;
  testutil::MvccFixture db(dir.path() + "/db");
  auto kv0 = RevkvStore::Wrap(db.db(), kDefaultBucket);
  auto kv1 = RevkvStore::Wrap(db.db(), kDefaultBucket);
  ASSERT_TRUE(kv0.ok() && kv1.ok());
  auto writer_ds = Store::FromKVStore(kv0->get());
  auto reader_ds = Store::FromKVStore(kv1->get());
  TestObject o("c", "x", 0);
  REVKV_ASSERT_OK(writer_ds->PutObjectAtomic(o));
  constexpr int kWrites = 2000;
  std::atomic<int64_t> returned{0};
  std::thread writer([&] {
    for (int i = 1; i <= kWrites; ++i) {
      o.counter = i;
      ASSERT_TRUE(writer_ds->PutObjectAtomic(o).ok());
      returned.store(i, std::memory_order_release);
    }
  });
  int64_t reads = 0;
  while (returned.load(std::memory_order_acquire) < kWrites) {
    const int64_t floor = returned.load(std::memory_order_acquire);
    TestObject seen("c", "");
    ASSERT_TRUE(reader_ds->GetObject(seen).ok());
    ASSERT_GE(seen.counter, floor) << "read " << reads;
    ++reads;
  }
  writer.join();
  TestObject last("c", "");
  ASSERT_TRUE(reader_ds->GetObject(last).ok());
  EXPECT_EQ(last.counter, kWrites);
}

}  // namespace
}  // namespace revkv::kvstore::datastore
