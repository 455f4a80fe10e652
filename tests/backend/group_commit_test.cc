// Group commit (batch_tx.h): concurrent Commit/ForceCommit callers share
// one btree commit and its fsyncs, and each returns once a commit holding
// its writes is durable (or failed: then every caller of it gets the error).
// The FaultEnv holds the first commit's fsync so that the callers pile up
// behind it; while it is held, a caller waiting for a commit must not keep
// the others from writing.
#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "backend/backend.h"
#include "gtest/gtest.h"
#include "tests/backend/backend_test_util.h"
#include "tests/btree/fault_env.h"

namespace revkv::backend {
namespace {

using testutil::Done;
using testutil::KV;
using testutil::ReadAll;
using testutil::WaitUntil;
using testutil::Write;

constexpr int kCallers = 8;

template <typename T>
bool Ready(std::future<T>& f) {
  return f.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
}

class GroupCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BackendConfig c = DefaultBackendConfig();
    c.batch_limit = 0;
    // The committer runs; its timer never fires during a test.
    c.batch_interval = std::chrono::hours(1);
    c.env = &env_;
    ASSERT_OK_AND_ASSIGN(b_, NewTmpBackend(c));
    ASSERT_OK(Write(*b_, [](BatchTx& tx) {
      if (absl::Status s = tx.UnsafeCreateBucket("b"); !s.ok()) return s;
      return tx.UnsafePut("b", "acked", "1");
    }));
    // One commit alone, to count its fsyncs.
    const uint64_t syncs = env_.syncs();
    ASSERT_OK(b_->ForceCommit());
    syncs_per_commit_ = env_.syncs() - syncs;
    ASSERT_GT(syncs_per_commit_, 0u);
  }

  void TearDown() override { env_.ReleaseSyncs(); }

  absl::Status Put(const std::string& k) {
    return Write(*b_, [&](BatchTx& tx) { return tx.UnsafePut("b", k, "v"); });
  }

  // Puts "first" and ForceCommits it on another thread; returns once that
  // commit's fsync is held.
  std::future<absl::Status> HoldFirstCommit() {
    env_.HoldSyncs();
    auto first = std::async(std::launch::async, [this] {
      absl::Status s = Put("first");
      return s.ok() ? b_->ForceCommit() : s;
    });
    env_.WaitForHeldSync();
    return first;
  }

  // kCallers threads each put "k<i>" then ForceCommit; *written counts the
  // puts that returned. Each caller checks, when its ForceCommit returned
  // OK, that a commit after the held one has finished (its write was made
  // while the held one was in flight).
  std::vector<std::future<absl::Status>> StartCallers(std::atomic<int>* written,
                                                      uint64_t held_commit_count) {
    std::vector<std::future<absl::Status>> callers;
    for (int i = 0; i < kCallers; ++i) {
      callers.push_back(std::async(std::launch::async, [this, i, written, held_commit_count] {
        absl::Status s = Put("k" + std::to_string(i));
        written->fetch_add(1);
        if (!s.ok()) return s;
        s = b_->ForceCommit();
        if (s.ok() && b_->CommitCount() < held_commit_count + 1) {
          return absl::InternalError("ForceCommit returned before a commit holding its write");
        }
        return s;
      }));
    }
    return callers;
  }

  // Reopens the file without faults and reads bucket "b".
  KV Reopen() {
    const std::string path = b_->config().path;
    b_->Close().IgnoreError();
    BackendConfig c = testutil::ManualConfig();
    c.path = path;
    auto again = Backend::Open(c);
    EXPECT_TRUE(again.ok()) << again.status();
    if (!again.ok()) return {};
    auto view = (*again)->NewConcurrentReadTx();
    EXPECT_TRUE(view.ok()) << view.status();
    return view.ok() ? ReadAll(**view, "b") : KV{};
  }

  KV Visible() {
    auto view = b_->NewConcurrentReadTx();
    EXPECT_TRUE(view.ok()) << view.status();
    return view.ok() ? ReadAll(**view, "b") : KV{};
  }

  // Releases the held fsyncs when a test returns early, before the futures
  // (declared earlier) wait for their threads.
  struct ReleaseOnExit {
    btree::FaultEnv& env;
    ~ReleaseOnExit() { env.ReleaseSyncs(); }
  };

  btree::FaultEnv env_;  // outlives b_
  std::unique_ptr<Backend> b_;
  uint64_t syncs_per_commit_ = 0;
};

TEST_F(GroupCommitTest, CallersBehindACommitShareTheNextOne) {
  const uint64_t commits = b_->CommitCount();
  const uint64_t syncs = env_.syncs();
  std::future<absl::Status> first = HoldFirstCommit();
  std::atomic<int> written{0};
  auto callers = StartCallers(&written, commits + 1);
  ReleaseOnExit release{env_};
  ASSERT_TRUE(WaitUntil([&] { return written.load() == kCallers; }))
      << "a ForceCommit waiting for the fsync kept the other writers out (" << written.load()
      << " of " << kCallers << " puts done)";
  {
    KV seen = Visible();
    for (int i = 0; i < kCallers; ++i) EXPECT_EQ(seen.count("k" + std::to_string(i)), 1u) << i;
  }
  EXPECT_FALSE(Ready(first)) << "returned while its fsync is held";
  for (auto& c : callers) EXPECT_FALSE(Ready(c)) << "returned before its commit";
  env_.ReleaseSyncs();
  ASSERT_TRUE(Done(first));
  EXPECT_OK(first.get());
  for (auto& c : callers) {
    ASSERT_TRUE(Done(c));
    EXPECT_OK(c.get());
  }
  EXPECT_EQ(b_->CommitCount(), commits + 2) << "the held commit, then one for all the callers";
  EXPECT_EQ(env_.syncs() - syncs, 2 * syncs_per_commit_);
  // Nothing was pending after the callers' commit: no later commit made
  // their writes durable.
  EXPECT_OK(b_->ForceCommit());
  EXPECT_EQ(b_->CommitCount(), commits + 2);
}

TEST_F(GroupCommitTest, EveryCallerIsDurableWhenItsForceCommitReturns) {
  const uint64_t commits = b_->CommitCount();
  std::future<absl::Status> first = HoldFirstCommit();
  std::atomic<int> written{0};
  auto callers = StartCallers(&written, commits + 1);
  ReleaseOnExit release{env_};
  ASSERT_TRUE(WaitUntil([&] { return written.load() == kCallers; }));
  env_.ReleaseSyncs();
  ASSERT_TRUE(Done(first));
  ASSERT_OK(first.get());
  for (auto& c : callers) {
    ASSERT_TRUE(Done(c));
    ASSERT_OK(c.get());
  }
  // The power fails the moment the last caller returned: nothing written
  // after (Close's) reaches the file.
  env_.StopPersistingAfterWrites(0);
  KV reopened = Reopen();
  EXPECT_EQ(reopened["acked"], "1");
  EXPECT_EQ(reopened["first"], "v");
  for (int i = 0; i < kCallers; ++i) EXPECT_EQ(reopened["k" + std::to_string(i)], "v") << i;
}

TEST_F(GroupCommitTest, AFailedHeldCommitFailsTheCallersWaitingBehindIt) {
  const uint64_t commits = b_->CommitCount();
  std::future<absl::Status> first = HoldFirstCommit();
  std::atomic<int> written{0};
  auto callers = StartCallers(&written, commits + 1);
  ReleaseOnExit release{env_};
  ASSERT_TRUE(WaitUntil([&] { return written.load() == kCallers; }));
  env_.FailNthSync(1);  // the held fsync fails once released
  env_.ReleaseSyncs();
  ASSERT_TRUE(Done(first));
  absl::Status s = first.get();
  EXPECT_NE(s.message().find("injected Sync failure"), std::string_view::npos) << s;
  for (auto& c : callers) {
    ASSERT_TRUE(Done(c));
    absl::Status cs = c.get();
    EXPECT_FALSE(cs.ok()) << "a write after the failed commit was acknowledged";
    EXPECT_NE(cs.message().find("injected Sync failure"), std::string_view::npos) << cs;
  }
  env_.ClearFaults();
  EXPECT_FALSE(Put("later").ok()) << "sticky";
  EXPECT_EQ(Visible(), (KV{{"acked", "1"}})) << "nothing after the failed commit shows";
  EXPECT_EQ(b_->CommitCount(), commits);
  KV reopened = Reopen();
  EXPECT_EQ(reopened["acked"], "1");
  for (int i = 0; i < kCallers; ++i) EXPECT_EQ(reopened.count("k" + std::to_string(i)), 0u) << i;
}

TEST_F(GroupCommitTest, AFailedSharedCommitFailsEveryCallerOfIt) {
  const uint64_t commits = b_->CommitCount();
  std::future<absl::Status> first = HoldFirstCommit();
  std::atomic<int> written{0};
  auto callers = StartCallers(&written, commits + 1);
  ReleaseOnExit release{env_};
  ASSERT_TRUE(WaitUntil([&] { return written.load() == kCallers; }));
  // The held commit's fsyncs pass; the first of the callers' commit fails.
  env_.FailNthSync(syncs_per_commit_ + 1);
  env_.ReleaseSyncs();
  ASSERT_TRUE(Done(first));
  EXPECT_OK(first.get());
  for (auto& c : callers) {
    ASSERT_TRUE(Done(c));
    absl::Status cs = c.get();
    EXPECT_NE(cs.message().find("injected Sync failure"), std::string_view::npos) << cs;
  }
  env_.ClearFaults();
  EXPECT_FALSE(b_->ForceCommit().ok()) << "sticky";
  EXPECT_EQ(Visible(), (KV{{"acked", "1"}, {"first", "v"}}));
  EXPECT_EQ(b_->CommitCount(), commits + 1);
  KV reopened = Reopen();
  EXPECT_EQ(reopened["first"], "v");
}

// A pre-commit hook fails the BatchTx while the held commit is in flight
// (a Snapshot's hand-off runs it): the held commit's caller gets its own
// commit's outcome, the error if its fsync fails, OK if it commits.
TEST_F(GroupCommitTest, ACommitInFlightWhenAHookFailsAndThenItFailsReportsTheError) {
  std::future<absl::Status> first = HoldFirstCommit();
  ReleaseOnExit release{env_};
  ASSERT_OK(Write(*b_, [](BatchTx& tx) {
    tx.UnsafeSetPreCommitHook([](BatchTx&) { return absl::InternalError("hook refused"); });
    return tx.UnsafePut("b", "k", "v");
  }));
  absl::StatusOr<std::unique_ptr<Snapshot>> snap = b_->NewSnapshot();
  EXPECT_NE(snap.status().message().find("hook refused"), std::string_view::npos) << snap.status();
  env_.FailNthSync(1);
  env_.ReleaseSyncs();
  ASSERT_TRUE(Done(first));
  EXPECT_FALSE(first.get().ok()) << "its commit failed: the caller must not be told OK";
}

TEST_F(GroupCommitTest, ACommitInFlightWhenAHookFailsThatCommitsReportsOk) {
  std::future<absl::Status> first = HoldFirstCommit();
  ReleaseOnExit release{env_};
  ASSERT_OK(Write(*b_, [](BatchTx& tx) {
    tx.UnsafeSetPreCommitHook([](BatchTx&) { return absl::InternalError("hook refused"); });
    return tx.UnsafePut("b", "k", "v");
  }));
  absl::StatusOr<std::unique_ptr<Snapshot>> snap = b_->NewSnapshot();
  EXPECT_NE(snap.status().message().find("hook refused"), std::string_view::npos) << snap.status();
  env_.ReleaseSyncs();
  ASSERT_TRUE(Done(first));
  EXPECT_OK(first.get());  // its commit is durable
  KV reopened = Reopen();
  EXPECT_EQ(reopened["first"], "v");
  EXPECT_EQ(reopened.count("k"), 0u);
}

TEST_F(GroupCommitTest, CloseWhileCallersWaitCommitsTheirWrites) {
  const uint64_t commits = b_->CommitCount();
  std::future<absl::Status> first = HoldFirstCommit();
  std::atomic<int> written{0};
  auto callers = StartCallers(&written, commits + 1);
  ReleaseOnExit release{env_};
  ASSERT_TRUE(WaitUntil([&] { return written.load() == kCallers; }));
  auto closed = std::async(std::launch::async, [&] { return b_->Close(); });
  env_.ReleaseSyncs();
  ASSERT_TRUE(Done(closed));
  EXPECT_OK(closed.get());
  ASSERT_TRUE(Done(first));
  EXPECT_OK(first.get());
  for (auto& c : callers) {
    ASSERT_TRUE(Done(c));
    EXPECT_OK(c.get());
  }
  KV reopened = Reopen();
  for (int i = 0; i < kCallers; ++i) EXPECT_EQ(reopened["k" + std::to_string(i)], "v") << i;
}

// Many threads putting and committing at once, with a bulk writer whose
// limit hand-offs fill the committer's queue and a timer that fires often:
// every commit returns OK, each caller reads its own write back at once,
// and everything acknowledged survives a reopen. With and without a
// committer thread.
void Stress(std::chrono::milliseconds interval) {
  BackendConfig c = DefaultBackendConfig();
  c.batch_limit = 16;
  c.batch_interval = interval;
  c.no_sync = true;
  ASSERT_OK_AND_ASSIGN(auto b, NewTmpBackend(c));
  ASSERT_OK(Write(*b, [](BatchTx& tx) { return tx.UnsafeCreateBucket("b"); }));
  constexpr int kThreads = 6, kOps = 40;
  std::atomic<bool> stop{false};
  std::atomic<int> bulk_puts{0};
  auto bulk = std::async(std::launch::async, [&] {
    for (int i = 0; !stop.load(); ++i) {
      absl::Status s = Write(*b, [&](BatchTx& tx) {
        return tx.UnsafePut("b", "bulk" + std::to_string(i % 100), "x");
      });
      if (!s.ok()) return s;
      bulk_puts.fetch_add(1);
      std::this_thread::yield();
    }
    return absl::OkStatus();
  });
  std::vector<std::future<absl::Status>> callers;
  for (int t = 0; t < kThreads; ++t) {
    callers.push_back(std::async(std::launch::async, [&, t] {
      for (int i = 0; i < kOps; ++i) {
        const std::string k = "t" + std::to_string(t) + "-" + std::to_string(i);
        absl::Status s = Write(*b, [&](BatchTx& tx) { return tx.UnsafePut("b", k, "v"); });
        if (s.ok()) s = b->ForceCommit();
        if (!s.ok()) return s;
        auto view = b->NewConcurrentReadTx();
        if (!view.ok()) return view.status();
        absl::StatusOr<KeyValues> got = (*view)->UnsafeRange("b", k, "", 0);
        if (!got.ok()) return got.status();
        if (got->size() != 1) return absl::InternalError("lost " + k);
      }
      return absl::OkStatus();
    }));
  }
  for (auto& f : callers) {
    ASSERT_TRUE(Done(f));
    EXPECT_OK(f.get());
  }
  stop.store(true);
  ASSERT_TRUE(Done(bulk));
  EXPECT_OK(bulk.get());
  EXPECT_GT(bulk_puts.load(), 0);
  EXPECT_LE(b->CommitCount(), uint64_t{kThreads * kOps} + bulk_puts.load() / 16 + 2);
  const std::string path = b->config().path;
  ASSERT_OK(b->Close());
  BackendConfig m = testutil::ManualConfig();
  m.path = path;
  ASSERT_OK_AND_ASSIGN(auto again, Backend::Open(m));
  ASSERT_OK_AND_ASSIGN(auto view, again->NewConcurrentReadTx());
  KV all = ReadAll(*view, "b");
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kOps; ++i) {
      EXPECT_EQ(all.count("t" + std::to_string(t) + "-" + std::to_string(i)), 1u) << t << " " << i;
    }
  }
}

TEST(GroupCommitStressTest, WithACommitterAndAFastTimer) { Stress(std::chrono::milliseconds(1)); }

TEST(GroupCommitStressTest, WithoutACommitter) { Stress(std::chrono::milliseconds(0)); }

}  // namespace
}  // namespace revkv::backend
