// The dKV store under concurrent writers, readers, clock jumps and the
// background sweeper: no data race (TSan, tag "concurrency") and, once the
// clock is past every delete time, every key is swept.
#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "kvstore/dkv/local_store.h"
#include "tests/kvstore/test_util.h"

namespace revkv::kvstore::dkv {
namespace {

using std::chrono::seconds;
using testutil::TempDir;

TEST(DkvConcurrencyTest, WritersReadersAndTheSweeperAgree) {
  TempDir dir;
  testutil::MvccFixture db(dir.path() + "/db");
  FakeClock clock;
  LocalStoreOptions o;
  o.clock = &clock;
  o.sweep_batch = 7;
  auto s = LocalStore::Open(ExistingStore(db.store()), o);
  ASSERT_TRUE(s.ok()) << s.status();
  LocalStore* kv = s->get();

  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 300; ++i) {
        const std::string key = "k" + std::to_string(t) + "-" + std::to_string(i % 40);
        absl::Status st;
        switch (i % 4) {
          case 0: st = kv->SetE(key, "v", seconds(1 + i % 3), seconds(2 + i % 5)); break;
          case 1: st = kv->SetEIfUnset(key, "w", Millis(0), seconds(3)); break;
          case 2: st = kv->Expire(key); break;
          case 3: st = kv->Get(key).status(); break;
        }
        ASSERT_TRUE(st.ok()) << st;
      }
    });
  }
  threads.emplace_back([&] {
    while (!done.load()) {
      clock.Advance(Millis(100));
      ASSERT_TRUE(kv->GetDBInfo().ok());
      std::this_thread::yield();
    }
  });
  threads.emplace_back([&] {
    while (!done.load()) ASSERT_TRUE(kv->SweepNow().ok());
  });
  for (int t = 0; t < 4; ++t) threads[t].join();
  done = true;
  threads[4].join();
  threads[5].join();

  clock.Advance(seconds(10));  // past every delete time
  ASSERT_TRUE(kv->SweepNow().ok());
  auto info = kv->GetDBInfo();
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->key_count, 0);
  EXPECT_EQ(info->pending_deletes, 0);
}

}  // namespace
}  // namespace revkv::kvstore::dkv
