// Fault injection: a failed write or fsync is reported, the backend refuses
// further writes, and every acknowledged commit survives.
#include <string>

#include "backend/backend.h"
#include "gtest/gtest.h"
#include "tests/backend/backend_test_util.h"
#include "tests/btree/fault_env.h"

namespace revkv::backend {
namespace {

using testutil::KV;
using testutil::ManualConfig;
using testutil::ReadAll;
using testutil::Write;

class FaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BackendConfig c = ManualConfig();
    c.no_sync = false;
    c.env = &env_;
    auto b = NewTmpBackend(c);
    ASSERT_TRUE(b.ok()) << b.status();
    b_ = *std::move(b);
    ASSERT_OK(Write(*b_, [](BatchTx& tx) {
      if (absl::Status s = tx.UnsafeCreateBucket("b"); !s.ok()) return s;
      return tx.UnsafePut("b", "acked", "1");
    }));
    ASSERT_OK(b_->ForceCommit());  // acknowledged
  }

  // Reopens the file with the plain file layer and reads bucket "b".
  KV Reopen() {
    const std::string path = b_->config().path;
    EXPECT_FALSE(b_->Close().ok()) << "Close must report the earlier failure";
    BackendConfig c = ManualConfig();
    c.path = path;
    auto again = Backend::Open(c);
    EXPECT_TRUE(again.ok()) << again.status();
    if (!again.ok()) return {};
    auto rtx = (*again)->NewConcurrentReadTx();
    EXPECT_TRUE(rtx.ok()) << rtx.status();
    return rtx.ok() ? ReadAll(**rtx, "b") : KV{};
  }

  btree::FaultEnv env_;  // outlives b_
  std::unique_ptr<Backend> b_;
};

TEST_F(FaultTest, FailedFsyncIsReportedAndWritesAreRefused) {
  ASSERT_OK(Write(*b_, [](BatchTx& tx) { return tx.UnsafePut("b", "lost", "2"); }));
  env_.FailNthSync(1);
  absl::Status s = b_->ForceCommit();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("injected Sync failure"), absl::string_view::npos) << s;
  // Sticky: writes, commits, snapshots all report it, even with the disk fine.
  env_.ClearFaults();
  EXPECT_FALSE(Write(*b_, [](BatchTx& tx) { return tx.UnsafePut("b", "x", "3"); }).ok());
  EXPECT_FALSE(b_->ForceCommit().ok());
  EXPECT_FALSE(b_->NewSnapshot().ok());
  EXPECT_FALSE(b_->Defrag().ok());
}

TEST_F(FaultTest, ReadersStopSeeingWritesThatWereNeverDurable) {
  ASSERT_OK(Write(*b_, [](BatchTx& tx) { return tx.UnsafePut("b", "lost", "2"); }));
  env_.FailNthSync(1);
  ASSERT_FALSE(b_->ForceCommit().ok());
  ASSERT_OK_AND_ASSIGN(auto rtx, b_->NewConcurrentReadTx());
  EXPECT_EQ(ReadAll(*rtx, "b"), (KV{{"acked", "1"}}));
}

TEST_F(FaultTest, NothingAcknowledgedIsLostAfterAFailedFsync) {
  ASSERT_OK(Write(*b_, [](BatchTx& tx) { return tx.UnsafePut("b", "lost", "2"); }));
  env_.FailNthSync(1);
  ASSERT_FALSE(b_->ForceCommit().ok());
  env_.ClearFaults();
  KV got = Reopen();
  EXPECT_EQ(got.count("acked"), 1u);
  EXPECT_EQ(got["acked"], "1");
}

TEST_F(FaultTest, FailedWriteIsReportedAndNothingAcknowledgedIsLost) {
  ASSERT_OK(Write(*b_, [](BatchTx& tx) { return tx.UnsafePut("b", "lost", "2"); }));
  env_.FailNthWrite(1);
  ASSERT_FALSE(b_->ForceCommit().ok());
  env_.ClearFaults();
  EXPECT_FALSE(Write(*b_, [](BatchTx& tx) { return tx.UnsafePut("b", "x", "3"); }).ok());
  KV got = Reopen();
  EXPECT_EQ(got["acked"], "1");
}

TEST_F(FaultTest, CommitFailureAtTheBatchLimitIsReportedByTheNextWrite) {
  ASSERT_OK(b_->Close());
  BackendConfig c = ManualConfig();
  c.no_sync = false;
  c.env = &env_;
  c.batch_limit = 2;
  ASSERT_OK_AND_ASSIGN(auto b, NewTmpBackend(c));
  ASSERT_OK(Write(*b, [](BatchTx& tx) { return tx.UnsafeCreateBucket("b"); }));
  env_.FailNthSync(1);
  // The second pending write makes Unlock commit, which fails.
  ASSERT_OK(Write(*b, [](BatchTx& tx) { return tx.UnsafePut("b", "k", "v"); }));
  absl::Status s = Write(*b, [](BatchTx& tx) { return tx.UnsafePut("b", "k2", "v"); });
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("injected Sync failure"), absl::string_view::npos) << s;
}

}  // namespace
}  // namespace revkv::backend
