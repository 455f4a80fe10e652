// Concurrency: readers, a writer, the committer and defrags at once (run
// under TSan in CI). Readers check that every view is consistent: the
// writer changes keys a<j> and b<j> together in one Lock cycle, so a view
// that shows them differing mixes two states.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "backend/backend.h"
#include "gtest/gtest.h"
#include "tests/backend/backend_test_util.h"

namespace revkv::backend {
namespace {

using testutil::KV;
using testutil::ReadAll;
using testutil::Write;

constexpr int kSlots = 64;

std::string Key(char side, int j) { return std::string(1, side) + std::to_string(j); }

// Empty when the view is consistent, else what is wrong.
std::string CheckView(const KV& kv, int* counter) {
  for (int j = 0; j < kSlots; ++j) {
    auto a = kv.find(Key('a', j)), b = kv.find(Key('b', j));
    bool ha = a != kv.end(), hb = b != kv.end();
    if (ha != hb) return "slot " + std::to_string(j) + " half present";
    if (ha && a->second != b->second) return "slot " + std::to_string(j) + " differs";
  }
  auto n = kv.find("n");
  *counter = n == kv.end() ? 0 : std::stoi(n->second);
  return "";
}

TEST(ConcurrencyTest, DefragUnderConcurrentReadersAndWriters) {
  BackendConfig c = testutil::ManualConfig();
  c.batch_interval = std::chrono::milliseconds(2);  // the committer runs too
  c.batch_limit = 100;
  ASSERT_OK_AND_ASSIGN(auto b, NewTmpBackend(c));
  ASSERT_OK(Write(*b, [](BatchTx& tx) { return tx.UnsafeCreateBucket("b"); }));

  std::atomic<bool> stop{false};
  std::atomic<int> cycles{0};
  std::thread writer([&] {
    for (int i = 1; !stop.load(); ++i) {
      ASSERT_OK(Write(*b, [&](BatchTx& tx) {
        int put = i % kSlots, del = (i + kSlots / 2) % kSlots;
        for (char side : {'a', 'b'}) {
          if (absl::Status s = tx.UnsafePut("b", Key(side, put), std::to_string(i)); !s.ok()) {
            return s;
          }
          if (absl::Status s = tx.UnsafeDelete("b", Key(side, del)); !s.ok()) return s;
        }
        return tx.UnsafePut("b", "n", std::to_string(i));
      }));
      cycles.store(i);
    }
  });
  std::vector<std::thread> readers;
  std::atomic<int> views{0};
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      int last = 0;
      while (!stop.load()) {
        absl::StatusOr<std::unique_ptr<ConcurrentReadTx>> tx = b->NewConcurrentReadTx();
        ASSERT_TRUE(tx.ok()) << tx.status();
        int counter = 0;
        KV first = ReadAll(**tx, "b");
        ASSERT_EQ(CheckView(first, &counter), "");
        ASSERT_GE(counter, last) << "views go back in time";
        last = counter;
        // A second read of the same view sees the same thing.
        ASSERT_EQ(ReadAll(**tx, "b"), first);
        views.fetch_add(1);
      }
    });
  }
  // Defrag repeatedly while the others run, until enough happened.
  int defrags = 0;
  uint64_t replayed = 0;
  std::chrono::nanoseconds longest_pause{0}, total{0};
  while (defrags < 3 || cycles.load() < 300 || views.load() < 50) {
    DefragStats st;
    ASSERT_OK(b->Defrag(&st));
    ++defrags;
    replayed += st.replayed_entries;
    longest_pause = std::max(longest_pause, st.pause);
    total += st.total;
    if (defrags > 200) break;
  }
  stop.store(true);
  writer.join();
  for (auto& t : readers) t.join();
  std::cout << "[ info     ] " << defrags << " defrags, " << replayed
            << " entries replayed, longest pause " << longest_pause.count() / 1000
            << " us, defrag time " << total.count() / 1000 << " us, " << cycles.load()
            << " write cycles, " << views.load() << " views" << std::endl;

  // The final state is the writer's last cycle, durable across a reopen.
  const int last = cycles.load();
  ASSERT_OK_AND_ASSIGN(auto rtx, b->NewConcurrentReadTx());
  int counter = 0;
  KV final_kv = ReadAll(*rtx, "b");
  EXPECT_EQ(CheckView(final_kv, &counter), "");
  EXPECT_EQ(counter, last);
  rtx.reset();
  ASSERT_OK_AND_ASSIGN(uint64_t hash, b->Hash());
  const std::string path = b->config().path;
  ASSERT_OK(b->Close());
  BackendConfig again_config = testutil::ManualConfig();
  again_config.path = path;
  ASSERT_OK_AND_ASSIGN(auto again, Backend::Open(again_config));
  ASSERT_OK_AND_ASSIGN(auto rtx2, again->NewConcurrentReadTx());
  EXPECT_EQ(ReadAll(*rtx2, "b"), final_kv);
  ASSERT_OK_AND_ASSIGN(uint64_t hash2, again->Hash());
  EXPECT_EQ(hash, hash2);
}

TEST(ConcurrencyTest, ConcurrentReadTxIsSafeToShareBetweenThreads) {
  ASSERT_OK_AND_ASSIGN(auto b, NewTmpBackend(testutil::ManualConfig()));
  ASSERT_OK(Write(*b, [](BatchTx& tx) {
    if (absl::Status s = tx.UnsafeCreateBucket("b"); !s.ok()) return s;
    for (int i = 0; i < 100; ++i) {
      if (absl::Status s = tx.UnsafePut("b", "k" + std::to_string(i), "v"); !s.ok()) return s;
    }
    return absl::OkStatus();
  }));
  ASSERT_OK(b->ForceCommit());
  ASSERT_OK_AND_ASSIGN(auto shared, b->NewConcurrentReadTx());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) ASSERT_EQ(ReadAll(*shared, "b").size(), 100u);
    });
  }
  for (auto& t : threads) t.join();
}

// Views taken between two commits share one btree read transaction; threads
// each taking their own views read it at once while the writer commits. Every
// view must see a whole commit: all keys of the last round it saw, none torn.
TEST(ConcurrencyTest, FreshViewsInManyThreadsShareEachSnapshotWhileTheWriterCommits) {
  ASSERT_OK_AND_ASSIGN(auto b, NewTmpBackend(testutil::ManualConfig()));
  ASSERT_OK(Write(*b, [](BatchTx& tx) { return tx.UnsafeCreateBucket("b"); }));
  constexpr int kKeys = 50, kRounds = 200;
  auto put_round = [&](int round) {
    return Write(*b, [&](BatchTx& tx) {
      for (int i = 0; i < kKeys; ++i) {
        if (absl::Status s = tx.UnsafePut("b", "k" + std::to_string(i), std::to_string(round));
            !s.ok()) {
          return s;
        }
      }
      return absl::OkStatus();
    });
  };
  ASSERT_OK(put_round(0));
  ASSERT_OK(b->ForceCommit());
  std::atomic<bool> done{false}, failed{false};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!done.load() && !failed.load()) {
        absl::StatusOr<std::unique_ptr<ConcurrentReadTx>> view = b->NewConcurrentReadTx();
        if (!view.ok()) {
          failed = true;
          return;
        }
        absl::StatusOr<std::string_view> first = (*view)->UnsafeGet("b", "k0");
        absl::StatusOr<std::string_view> last =
            (*view)->UnsafeGet("b", "k" + std::to_string(kKeys - 1));
        // One Lock cycle writes every key: a view holds all or none of it.
        if (!first.ok() || !last.ok() || *first != *last) failed = true;
      }
    });
  }
  for (int round = 1; round <= kRounds; ++round) {
    ASSERT_OK(put_round(round));
    if (round % 2 == 0) ASSERT_OK(b->ForceCommit());
  }
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_FALSE(failed);
  EXPECT_EQ(b->OpenReadTxN(), 0);
}

// The writer appends one key per Lock cycle, the pattern a write buffer
// absorbs into the newest segment in place; a view must still never change
// and must hold exactly the keys written before it was taken.
TEST(ConcurrencyTest, ViewsStayFixedWhileAppendsGrowTheNewestSegment) {
  ASSERT_OK_AND_ASSIGN(auto b, NewTmpBackend(testutil::ManualConfig()));
  ASSERT_OK(Write(*b, [](BatchTx& tx) { return tx.UnsafeCreateBucket("b"); }));
  constexpr int kKeys = 3000;
  auto key = [](int i) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "k%08d", i);
    return std::string(buf);
  };
  std::atomic<int> written{0};
  std::atomic<bool> failed{false};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&] {
      size_t last = 0;
      while (written.load() < kKeys && !failed) {
        const int before = written.load();
        absl::StatusOr<std::unique_ptr<ConcurrentReadTx>> view = b->NewConcurrentReadTx();
        if (!view.ok()) {
          failed = true;
          return;
        }
        KV first = ReadAll(**view, "b");
        KV again = ReadAll(**view, "b");
        // A contiguous prefix k0..k(m-1), at least what was written before
        // the view, never shrinking, and the same on a second read.
        size_t m = first.size();
        bool ok = first == again && m >= size_t(before) && m >= last &&
                  (m == 0 || (first.begin()->first == key(0) && first.rbegin()->first == key(int(m) - 1)));
        if (!ok) failed = true;
        last = m;
      }
    });
  }
  for (int i = 0; i < kKeys; ++i) {
    ASSERT_OK(Write(*b, [&](BatchTx& tx) { return tx.UnsafePut("b", key(i), "v"); }));
    written = i + 1;
    if (i % 1000 == 999) ASSERT_OK(b->ForceCommit());
  }
  for (auto& t : readers) t.join();
  EXPECT_FALSE(failed);
  ASSERT_OK_AND_ASSIGN(auto view, b->NewConcurrentReadTx());
  EXPECT_EQ(ReadAll(*view, "b").size(), size_t(kKeys));
}

// Publish computes a push (and the merges it brings) on a copy of the read
// buffer outside the view lock, and installs it only if no commit sealed or
// dropped segments meanwhile (segment_test checks that rule on its own).
// Writes, commits forced from another thread, and readers that check each
// view holds every write acknowledged before it was taken. Keys alternate
// between ascending runs (appended to the newest segment when no reader
// holds it) and one that sorts first (always a push).
TEST(ConcurrencyTest, PushesOutsideTheViewLockLoseNoWriteToConcurrentCommits) {
  ASSERT_OK_AND_ASSIGN(auto b, NewTmpBackend(testutil::ManualConfig()));
  ASSERT_OK(Write(*b, [](BatchTx& tx) { return tx.UnsafeCreateBucket("b"); }));
  constexpr int kKeys = 4000;
  auto key = [](int i) {
    char buf[16];
    // Every fifth key sorts before all the others: it never appends.
    std::snprintf(buf, sizeof buf, i % 5 == 4 ? "a%08d" : "b%08d", i % 5 == 4 ? kKeys - i : i);
    return std::string(buf);
  };
  std::atomic<int> written{0};
  std::atomic<bool> failed{false};
  std::string why;  // set by the first failure only
  std::atomic<bool> reported{false};
  auto fail = [&](std::string what) {
    if (!reported.exchange(true)) why = std::move(what);
    failed = true;
  };
  std::vector<std::thread> threads;
  threads.emplace_back([&] {  // the commits
    while (written.load() < kKeys && !failed) {
      if (absl::Status s = b->ForceCommit(); !s.ok()) fail(s.ToString());
    }
  });
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      while (written.load() < kKeys && !failed) {
        const int before = written.load();
        absl::StatusOr<std::unique_ptr<ConcurrentReadTx>> view = b->NewConcurrentReadTx();
        if (!view.ok()) return fail(view.status().ToString());
        for (int i = 0; i < before; i += 1 + i / 8) {  // a sample, denser early
          if (!(*view)->UnsafeGet("b", key(i)).ok()) {
            return fail("write " + std::to_string(i) + " of " + std::to_string(before) +
                        " acknowledged before the view is missing from it");
          }
        }
        if (before > 0 && !(*view)->UnsafeGet("b", key(before - 1)).ok()) {
          return fail("the last write acknowledged before the view is missing");
        }
      }
    });
  }
  for (int i = 0; i < kKeys && !failed; ++i) {
    ASSERT_OK(Write(*b, [&](BatchTx& tx) { return tx.UnsafePut("b", key(i), "v"); }));
    written = i + 1;
  }
  written = kKeys;
  for (auto& t : threads) t.join();
  EXPECT_FALSE(failed) << why;
  ASSERT_OK(b->ForceCommit());  // the read buffer empties: the btree alone answers
  ASSERT_OK_AND_ASSIGN(auto view, b->NewConcurrentReadTx());
  EXPECT_EQ(view->segment_count(), 0u);
  EXPECT_EQ(ReadAll(*view, "b").size(), size_t(kKeys));
}

}  // namespace
}  // namespace revkv::backend
