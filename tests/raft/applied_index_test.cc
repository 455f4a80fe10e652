// AppliedIndex's callbacks: each called exactly once, with true only once
// the index reached the one awaited (at once if it already had), with false
// when closed below it, never under the index's lock; under TSan with
// threads registering while another advances.
#include "raft/applied_index.h"

#include <atomic>
#include <cstdint>
#include <random>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace revkv::cluster {
namespace {

TEST(AppliedIndexTest, CallbacksRunWhenTheirIndexIsReachedAndOnce) {
  AppliedIndex a(5);
  std::vector<int> calls(4, 0);
  std::vector<bool> results(4, false);
  auto record = [&](int i) {
    return [&, i](bool reached) {
      ++calls[size_t(i)];
      results[size_t(i)] = reached;
    };
  };
  a.WhenAtLeast(5, record(0));  // already there
  EXPECT_EQ(calls[0], 1);
  EXPECT_TRUE(results[0]);
  a.WhenAtLeast(7, record(1));
  a.WhenAtLeast(9, record(2));
  a.Advance(6);
  EXPECT_EQ(calls[1], 0);
  a.Advance(8);
  EXPECT_EQ(calls[1], 1);
  EXPECT_TRUE(results[1]);
  EXPECT_EQ(calls[2], 0);
  a.Advance(3);  // never lowers
  EXPECT_EQ(a.get(), 8u);
  a.WhenAtLeast(20, record(3));
  a.Advance(9);
  EXPECT_EQ(calls[2], 1);
  a.Close();
  EXPECT_EQ(calls[3], 1);
  EXPECT_FALSE(results[3]);
  a.Advance(30);  // nothing is called twice
  EXPECT_EQ(calls, (std::vector<int>{1, 1, 1, 1}));
}

TEST(AppliedIndexTest, AfterCloseAWaitAnswersAtOnce) {
  AppliedIndex a(10);
  a.Close();
  int below = -1, above = -1;
  a.WhenAtLeast(10, [&](bool r) { below = r; });
  a.WhenAtLeast(11, [&](bool r) { above = r; });
  EXPECT_EQ(below, 1);
  EXPECT_EQ(above, 0);
}

TEST(AppliedIndexTest, ACallbackMayWaitOnTheIndexItself) {
  // Called outside the lock: a callback that reads or waits on the index
  // does not deadlock.
  AppliedIndex a(0);
  uint64_t seen = 0;
  a.WhenAtLeast(3, [&](bool) {
    seen = a.get();
    a.WhenAtLeast(2, [&](bool) { seen += 100; });
  });
  a.Advance(3);
  EXPECT_EQ(seen, 103u);
}

TEST(AppliedIndexTest, ConcurrentWaitersAreEachAnsweredOnceAndNeverEarly) {
  const uint64_t seed = std::random_device{}();
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  constexpr int kThreads = 4, kWaits = 2000;
  constexpr uint64_t kTop = 5000;
  AppliedIndex a(0);
  std::atomic<int> answered{0}, early{0}, refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(seed + uint64_t(t));
      for (int i = 0; i < kWaits; ++i) {
        const uint64_t want = 1 + rng() % kTop;
        a.WhenAtLeast(want, [&, want](bool reached) {
          if (!reached) ++refused;
          if (reached && a.get() < want) ++early;
          ++answered;
        });
      }
    });
  }
  std::thread advancer([&] {
    for (uint64_t i = 1; i <= kTop; ++i) a.Advance(i);
  });
  for (std::thread& t : threads) t.join();
  advancer.join();
  EXPECT_EQ(answered.load(), kThreads * kWaits);
  EXPECT_EQ(early.load(), 0);
  EXPECT_EQ(refused.load(), 0);
}

}  // namespace
}  // namespace revkv::cluster
