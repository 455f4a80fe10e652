// The annotated lock types: each excludes what it should, the guards hold and
// release, CondVar waits and times out. Under --config=tsa this file is also
// checked by the thread-safety analysis (the counters are ABSL_GUARDED_BY).
#include "util/mutex.h"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace revkv::util {
namespace {

constexpr int kThreads = 4;
constexpr int kRounds = 20000;

// Runs fn on kThreads threads at once.
template <typename Fn>
void RunThreads(Fn fn) {
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(fn);
  for (std::thread& t : threads) t.join();
}

TEST(MutexTest, MutexLockExcludes) {
  struct {
    Mutex mu;
    int64_t n ABSL_GUARDED_BY(mu) = 0;
  } s;
  RunThreads([&] {
    for (int i = 0; i < kRounds; ++i) {
      MutexLock l(s.mu);
      s.n++;
    }
  });
  MutexLock l(s.mu);
  EXPECT_EQ(s.n, int64_t{kThreads} * kRounds);
}

TEST(MutexTest, TryLockFailsWhileHeldAndAdoptReleases) {
  Mutex mu;
  if (!mu.TryLock()) {
    ADD_FAILURE() << "TryLock of a free mutex failed";
    return;
  }
  std::thread([&] { EXPECT_FALSE(mu.TryLock()); }).join();
  { MutexLock adopted(mu, std::adopt_lock); }
  std::thread([&] {
    if (mu.TryLock()) {
      mu.Unlock();
    } else {
      ADD_FAILURE() << "the adopting guard did not release the mutex";
    }
  }).join();
}

TEST(MutexTest, AdaptiveMutexLockExcludes) {
  struct {
    AdaptiveMutex mu;
    int64_t n ABSL_GUARDED_BY(mu) = 0;
  } s;
  RunThreads([&] {
    for (int i = 0; i < kRounds; ++i) {
      AdaptiveMutexLock l(s.mu);
      s.n++;
    }
  });
  AdaptiveMutexLock l(s.mu);
  EXPECT_EQ(s.n, int64_t{kThreads} * kRounds);
}

// Writers and readers of a reader-writer lock type L: both fields change
// together under the writer's lock, so a reader sees them equal.
template <typename L>
void CheckWritersExcludeReaders() {
  struct {
    L mu;
    int64_t a ABSL_GUARDED_BY(mu) = 0;
    int64_t b ABSL_GUARDED_BY(mu) = 0;
  } s;
  std::atomic<int> torn{0};
  std::atomic<int> writer_id{0};
  RunThreads([&] {
    const bool writer = writer_id.fetch_add(1) % 2 == 0;
    for (int i = 0; i < kRounds; ++i) {
      if (writer) {
        ScopedLock l(s.mu);
        s.a++;
        s.b++;
      } else {
        ScopedSharedLock l(s.mu);
        if (s.a != s.b) torn.fetch_add(1);
      }
    }
  });
  EXPECT_EQ(torn.load(), 0);
  ScopedSharedLock l(s.mu);
  EXPECT_EQ(s.a, int64_t{kThreads / 2} * kRounds);
}

// A second reader gets in while the first holds it (a writer would not).
template <typename L>
void CheckReadersShare() {
  L mu;
  ScopedSharedLock l(mu);
  std::thread([&] { ScopedSharedLock again(mu); }).join();
}

TEST(MutexTest, RwLockWritersExcludeReaders) { CheckWritersExcludeReaders<RwLock>(); }
TEST(MutexTest, RwLockReadersShare) { CheckReadersShare<RwLock>(); }
TEST(MutexTest, SpinningRwLockWritersExcludeReaders) {
  CheckWritersExcludeReaders<SpinningRwLock>();
}
TEST(MutexTest, SpinningRwLockReadersShare) { CheckReadersShare<SpinningRwLock>(); }

TEST(MutexTest, CondVarWakesAWaiter) {
  struct {
    Mutex mu;
    CondVar cv;
    bool ready ABSL_GUARDED_BY(mu) = false;
    int value ABSL_GUARDED_BY(mu) = 0;
  } s;
  std::thread producer([&] {
    MutexLock l(s.mu);
    s.value = 42;
    s.ready = true;
    s.cv.NotifyAll();
  });
  {
    MutexLock l(s.mu);
    while (!s.ready) s.cv.Wait(s.mu);
    EXPECT_EQ(s.value, 42);
  }
  producer.join();
}

TEST(MutexTest, CondVarWaitUntilTimesOut) {
  Mutex mu;
  CondVar cv;
  MutexLock l(mu);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(20);
  std::cv_status status = std::cv_status::no_timeout;
  while (status == std::cv_status::no_timeout) status = cv.WaitUntil(mu, deadline);
  EXPECT_GE(std::chrono::steady_clock::now(), deadline);
  // mu is held again after the wait: another thread cannot take it.
  std::thread([&] { EXPECT_FALSE(mu.TryLock()); }).join();
}

// Three readers in a tight loop keep it shared nearly all the time; a
// writer must still get in, as the index's writer must against a stream of
// ranges. A starving lock hangs this test until its timeout.
TEST(MutexTest, SpinningRwLockLetsAWriterInBetweenOverlappingReaders) {
  SpinningRwLock mu;
  std::atomic<bool> done{false};
  std::atomic<int64_t> reads{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!done.load()) {
        ScopedSharedLock l(mu);
        reads.fetch_add(1);
      }
    });
  }
  while (reads.load() < 1000) std::this_thread::yield();  // the stream runs
  for (int i = 0; i < 1000; ++i) ScopedLock l(mu);
  done = true;
  for (std::thread& t : readers) t.join();
  EXPECT_GE(reads.load(), 1000);
}

}  // namespace
}  // namespace revkv::util
