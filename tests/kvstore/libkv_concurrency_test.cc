// libkv's AtomicPut/AtomicDelete are linearizable: threads incrementing a
// counter through read-modify-AtomicPut retries lose no increment, and of
// racing creators exactly one wins. Run under TSan (tag "concurrency").
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "kvstore/revkv_store.h"
#include "kvstore/store.h"
#include "tests/kvstore/test_util.h"

namespace revkv::kvstore {
namespace {

using testutil::TempDir;

constexpr int kThreads = 8;

// Increments key `n` times with Get + AtomicPut, retrying on ErrKeyModified.
void Increment(Store* kv, const std::string& key, int n, std::atomic<int>* retries) {
  for (int i = 0; i < n; ++i) {
    while (true) {
      absl::StatusOr<KVPair> cur = kv->Get(key);
      ASSERT_TRUE(cur.ok()) << cur.status();
      const std::string next = std::to_string(std::stoi(cur->value) + 1);
      absl::StatusOr<KVPair> put = kv->AtomicPut(key, next, *cur);
      if (put.ok()) break;
      ASSERT_TRUE(IsKeyModified(put.status())) << put.status();
      retries->fetch_add(1, std::memory_order_relaxed);
    }
  }
}

void RunCounter(Store* kv, int per_thread) {
  ASSERT_TRUE(kv->AtomicPut("counter", "0", std::nullopt).ok());
  std::atomic<int> retries{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back(Increment, kv, "counter", per_thread, &retries);
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(kv->Get("counter")->value, std::to_string(kThreads * per_thread));
  // Not asserted (scheduling decides), but the test means something only if
  // threads collided at least sometimes.
  ::testing::Test::RecordProperty("retries", retries.load());
}

TEST(LibkvConcurrencyTest, NoIncrementIsLostOverAWrappedStore) {
  TempDir dir;
  testutil::MvccFixture db(dir.path() + "/db");
  auto kv = RevkvStore::Wrap(db.db(), "b");
  ASSERT_TRUE(kv.ok());
  RunCounter(kv->get(), 200);
}

TEST(LibkvConcurrencyTest, NoIncrementIsLostThroughNew) {
  TempDir dir;
  auto kv = New(kRevkv, dir.path() + "/db", Config{{}, "libnetwork"});
  ASSERT_TRUE(kv.ok()) << kv.status();
  RunCounter(kv->get(), 25);
}

TEST(LibkvConcurrencyTest, ExactlyOneCreatorWins) {
  TempDir dir;
  testutil::MvccFixture db(dir.path() + "/db");
  auto kv = RevkvStore::Wrap(db.db(), "b");
  ASSERT_TRUE(kv.ok());
  for (int round = 0; round < 20; ++round) {
    const std::string key = "k" + std::to_string(round);
    std::atomic<int> won{0}, exists{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        auto p = (*kv)->AtomicPut(key, std::to_string(t), std::nullopt);
        if (p.ok()) {
          won++;
        } else if (IsKeyExists(p.status())) {
          exists++;
        }
      });
    }
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(won.load(), 1);
    EXPECT_EQ(exists.load(), kThreads - 1);
  }
}

TEST(LibkvConcurrencyTest, ExactlyOneAtomicDeleterWins) {
  TempDir dir;
  testutil::MvccFixture db(dir.path() + "/db");
  auto kv = RevkvStore::Wrap(db.db(), "b");
  ASSERT_TRUE(kv.ok());
  auto p = (*kv)->AtomicPut("k", "v", std::nullopt);
  ASSERT_TRUE(p.ok());
  std::atomic<int> won{0}, lost{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      absl::Status s = (*kv)->AtomicDelete("k", *p);
      if (s.ok()) {
        won++;
      } else if (IsKeyNotFound(s)) {
        lost++;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(lost.load(), kThreads - 1);
}

TEST(LibkvConcurrencyTest, CloseWaitsForRunningCalls) {
  TempDir dir;
  auto kv = New(kRevkv, dir.path() + "/db", Config{{}, "b"});
  ASSERT_TRUE(kv.ok());
  std::atomic<bool> go{true};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; go.load(); ++i) {
        absl::Status s = (*kv)->Put("k" + std::to_string(t), std::to_string(i));
        if (!s.ok()) {
          EXPECT_TRUE(IsStoreClosed(s)) << s;
          return;
        }
      }
    });
  }
  std::this_thread::yield();
  (*kv)->Close();
  go = false;
  for (std::thread& t : threads) t.join();
}

}  // namespace
}  // namespace revkv::kvstore
