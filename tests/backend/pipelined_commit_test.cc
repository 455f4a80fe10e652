// The committer's pipeline (batch_tx.h): with a committer running, a batch
// the limit hands off is applied and committed on the committer's thread
// while the writer goes on. The FaultEnv holds the commit's fsync to pin the
// moment when a batch is in flight.
#include <chrono>
#include <future>
#include <string>
#include <thread>

#include "backend/backend.h"
#include "gtest/gtest.h"
#include "tests/backend/backend_test_util.h"
#include "tests/btree/fault_env.h"

namespace revkv::backend {
namespace {

using testutil::Done;
using testutil::KV;
using testutil::ReadAll;
using testutil::Write;

class PipelinedCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BackendConfig c = DefaultBackendConfig();
    c.batch_limit = 2;
    // The committer runs; its timer never fires during a test.
    c.batch_interval = std::chrono::hours(1);
    c.env = &env_;
    ASSERT_OK_AND_ASSIGN(b_, NewTmpBackend(c));
    ASSERT_OK(Write(*b_, [](BatchTx& tx) {
      if (absl::Status s = tx.UnsafeCreateBucket("b"); !s.ok()) return s;
      return tx.UnsafePut("b", "acked", "1");
    }));
    ASSERT_OK(b_->ForceCommit());
    start_ = b_->LastTxid();
  }

  void TearDown() override { env_.ReleaseSyncs(); }

  absl::Status Put(const std::string& k) {
    return Write(*b_, [&](BatchTx& tx) { return tx.UnsafePut("b", k, "v"); });
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

  btree::FaultEnv env_;  // outlives b_
  std::unique_ptr<Backend> b_;
  btree::txid_t start_ = 0;
};

TEST_F(PipelinedCommitTest, WritesGoOnWhileTheCommitterWaitsForTheFsync) {
  env_.HoldSyncs();
  ASSERT_OK(Put("k1"));
  ASSERT_OK(Put("k2"));  // the limit: handed off
  env_.WaitForHeldSync();  // the committer is in that batch's fsync
  auto more = std::async(std::launch::async, [&] {
    absl::Status s = Put("k3");
    return s.ok() ? Put("k4") : s;  // the limit again: queued behind it
  });
  ASSERT_TRUE(Done(more)) << "a write waited for the commit's fsync";
  ASSERT_OK(more.get());
  EXPECT_EQ(b_->LastTxid(), start_) << "nothing is durable yet";
  {
    ASSERT_OK_AND_ASSIGN(auto view, b_->NewConcurrentReadTx());
    EXPECT_EQ(ReadAll(*view, "b"),
              (KV{{"acked", "1"}, {"k1", "v"}, {"k2", "v"}, {"k3", "v"}, {"k4", "v"}}));
  }
  env_.ReleaseSyncs();
  ASSERT_OK(b_->ForceCommit());
  EXPECT_EQ(b_->LastTxid(), start_ + 2) << "one commit per batch";
  EXPECT_EQ(Reopen().size(), 5u);
}

TEST_F(PipelinedCommitTest, TheWriterReadsItsOwnWritesWhileTheyAreBeingCommitted) {
  env_.HoldSyncs();
  ASSERT_OK(Put("k1"));
  ASSERT_OK(Put("k2"));
  env_.WaitForHeldSync();
  BatchTx& tx = b_->batch_tx();
  tx.Lock();
  ASSERT_OK(tx.UnsafePut("b", "k3", "v"));
  absl::StatusOr<KeyValues> got = tx.UnsafeRange("b", "k", "l", 0);
  tx.Unlock();
  ASSERT_OK(got.status());
  EXPECT_EQ(testutil::ToMap(*got), (KV{{"k1", "v"}, {"k2", "v"}, {"k3", "v"}}))
      << "the batch in flight and this cycle's write";
}

TEST_F(PipelinedCommitTest, AFailedCommitDropsTheBatchQueuedBehindIt) {
  env_.HoldSyncs();
  ASSERT_OK(Put("k1"));
  ASSERT_OK(Put("k2"));
  env_.WaitForHeldSync();
  ASSERT_OK(Put("k3"));
  ASSERT_OK(Put("k4"));  // queued behind the held batch
  env_.FailNthSync(1);   // the held fsync fails once released
  env_.ReleaseSyncs();
  absl::Status s = b_->ForceCommit();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("injected Sync failure"), std::string_view::npos) << s;
  env_.ClearFaults();
  EXPECT_FALSE(Put("k5").ok()) << "sticky";
  {
    ASSERT_OK_AND_ASSIGN(auto view, b_->NewConcurrentReadTx());
    EXPECT_EQ(ReadAll(*view, "b"), (KV{{"acked", "1"}})) << "no batch after the failure shows";
  }
  // The failed batch's pages may have reached the file before its fsync
  // failed; the batch queued behind it never did.
  KV reopened = Reopen();
  EXPECT_EQ(reopened["acked"], "1");
  EXPECT_EQ(reopened.count("k3") + reopened.count("k4"), 0u);
}

TEST_F(PipelinedCommitTest, CloseCommitsTheBatchesStillInFlight) {
  env_.HoldSyncs();
  ASSERT_OK(Put("k1"));
  ASSERT_OK(Put("k2"));
  env_.WaitForHeldSync();
  ASSERT_OK(Put("k3"));
  ASSERT_OK(Put("k4"));
  ASSERT_OK(Put("k5"));  // pending, not yet handed off
  auto closed = std::async(std::launch::async, [&] { return b_->Close(); });
  env_.ReleaseSyncs();
  ASSERT_TRUE(Done(closed));
  ASSERT_OK(closed.get());
  EXPECT_EQ(Reopen().size(), 6u);
}

}  // namespace
}  // namespace revkv::backend
