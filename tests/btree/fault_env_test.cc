// FaultEnv: the test Env that fails chosen operations or drops writes.
#include "tests/btree/fault_env.h"

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/btree/test_util.h"

namespace revkv::btree {
namespace {

using testutil::ScopedTempDir;

class FaultEnvTest : public ::testing::Test {
 protected:
  std::unique_ptr<File> Open(const std::string& name) {
    absl::StatusOr<std::unique_ptr<File>> f =
        env_.OpenFile(dir_.File(name), OpenFileOptions{.create = true});
    EXPECT_TRUE(f.ok()) << f.status();
    return f.ok() ? *std::move(f) : nullptr;
  }
  std::string Contents(const std::string& name) {
    return testutil::ReadFileBytes(dir_.File(name));
  }

  ScopedTempDir dir_;
  FaultEnv env_;
};

TEST_F(FaultEnvTest, ForwardsOperationsWhenNoFaultIsArmed) {
  std::unique_ptr<File> f = Open("a");
  ASSERT_NE(f, nullptr);
  ASSERT_OK(f->WriteAt(0, "hello"));
  ASSERT_OK(f->Sync());
  char buf[5];
  ASSERT_OK(f->ReadAt(0, 5, buf));
  EXPECT_EQ(std::string(buf, 5), "hello");
  ASSERT_OK(f->Truncate(4096));
  absl::StatusOr<uint64_t> size = f->Size();
  ASSERT_OK(size);
  EXPECT_EQ(*size, 4096u);
  absl::StatusOr<std::shared_ptr<const Mapping>> m = f->Map(8192);
  ASSERT_OK(m);
  EXPECT_EQ(std::string((*m)->data(), 5), "hello");
  EXPECT_TRUE(env_.FileExists(dir_.File("a")));
}

TEST_F(FaultEnvTest, CountsOperationsSeen) {
  std::unique_ptr<File> f = Open("a");
  ASSERT_NE(f, nullptr);
  ASSERT_OK(f->WriteAt(0, "x"));
  ASSERT_OK(f->WriteAt(1, "y"));
  ASSERT_OK(f->Sync());
  char c;
  ASSERT_OK(f->ReadAt(0, 1, &c));
  ASSERT_OK(f->Truncate(10));
  EXPECT_EQ(env_.writes(), 2u);
  EXPECT_EQ(env_.syncs(), 1u);
  EXPECT_EQ(env_.reads(), 1u);
  EXPECT_EQ(env_.truncates(), 1u);
  env_.ResetCounters();
  EXPECT_EQ(env_.writes(), 0u);
  EXPECT_EQ(env_.syncs(), 0u);
}

TEST_F(FaultEnvTest, FailNthWriteFailsExactlyThatWriteOnce) {
  std::unique_ptr<File> f = Open("a");
  ASSERT_NE(f, nullptr);
  env_.FailNthWrite(3);
  EXPECT_OK(f->WriteAt(0, "a"));
  EXPECT_OK(f->WriteAt(1, "b"));
  absl::Status s = f->WriteAt(2, "c");
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_NE(s.message().find("injected WriteAt failure"), std::string::npos) << s;
  EXPECT_OK(f->WriteAt(3, "d"));
  EXPECT_EQ(Contents("a"), std::string("ab\0d", 4));  // the failed write never landed
  EXPECT_EQ(env_.injected_failures(), 1u);
}

TEST_F(FaultEnvTest, FailNthCountsFromTheCallNotFromOpen) {
  std::unique_ptr<File> f = Open("a");
  ASSERT_NE(f, nullptr);
  ASSERT_OK(f->Sync());
  ASSERT_OK(f->Sync());
  env_.FailNthSync(1);
  EXPECT_FALSE(f->Sync().ok());
  EXPECT_OK(f->Sync());
}

TEST_F(FaultEnvTest, FailNthAppliesPerOperationKind) {
  std::unique_ptr<File> f = Open("a");
  ASSERT_NE(f, nullptr);
  env_.FailNthRead(1);
  env_.FailNthTruncate(2);
  ASSERT_OK(f->WriteAt(0, "abc"));  // writes do not advance other countdowns
  ASSERT_OK(f->Sync());
  char c;
  absl::Status r = f->ReadAt(0, 1, &c);
  EXPECT_NE(r.message().find("injected ReadAt failure"), std::string::npos) << r;
  EXPECT_OK(f->Truncate(3));
  absl::Status t = f->Truncate(3);
  EXPECT_NE(t.message().find("injected Truncate failure"), std::string::npos) << t;
}

TEST_F(FaultEnvTest, FailAllFailsEveryOperationUntilCleared) {
  std::unique_ptr<File> f = Open("a");
  ASSERT_NE(f, nullptr);
  env_.FailAll(FaultOp::kSync);
  EXPECT_FALSE(f->Sync().ok());
  EXPECT_FALSE(f->Sync().ok());
  EXPECT_OK(f->WriteAt(0, "x"));
  env_.ClearFaults();
  EXPECT_OK(f->Sync());
}

TEST_F(FaultEnvTest, FailAllFromNowFailsEveryKind) {
  std::unique_ptr<File> f = Open("a");
  ASSERT_NE(f, nullptr);
  env_.FailAllFromNow();
  char c;
  EXPECT_FALSE(f->WriteAt(0, "x").ok());
  EXPECT_FALSE(f->Sync().ok());
  EXPECT_FALSE(f->ReadAt(0, 1, &c).ok());
  EXPECT_FALSE(f->Truncate(0).ok());
  EXPECT_EQ(env_.injected_failures(), 4u);
}

TEST_F(FaultEnvTest, FaultsApplyToFilesOpenedBeforeArming) {
  std::unique_ptr<File> f = Open("a");
  std::unique_ptr<File> g = Open("b");
  ASSERT_NE(f, nullptr);
  ASSERT_NE(g, nullptr);
  env_.FailNthWrite(2);
  EXPECT_OK(f->WriteAt(0, "x"));
  EXPECT_FALSE(g->WriteAt(0, "y").ok());  // the count spans files
}

TEST_F(FaultEnvTest, StopPersistingDropsWritesBeyondTheNthSilently) {
  std::unique_ptr<File> f = Open("a");
  ASSERT_NE(f, nullptr);
  ASSERT_OK(f->WriteAt(0, "0000"));
  env_.StopPersistingAfterWrites(2);
  EXPECT_FALSE(env_.dropping_writes());
  EXPECT_OK(f->WriteAt(0, "1"));
  EXPECT_OK(f->WriteAt(1, "2"));
  EXPECT_TRUE(env_.dropping_writes());
  EXPECT_OK(f->WriteAt(2, "3"));  // OK, yet lost
  EXPECT_OK(f->WriteAt(3, "4"));
  EXPECT_OK(f->Sync());
  EXPECT_EQ(Contents("a"), "1200");
  EXPECT_EQ(env_.dropped_writes(), 2u);
  EXPECT_EQ(env_.writes(), 5u);
  env_.ResumePersisting();
  EXPECT_OK(f->WriteAt(3, "5"));
  EXPECT_EQ(Contents("a"), "1205");
}

TEST_F(FaultEnvTest, StopPersistingAfterZeroWritesDropsTheNextOne) {
  std::unique_ptr<File> f = Open("a");
  ASSERT_NE(f, nullptr);
  env_.StopPersistingAfterWrites(0);
  EXPECT_OK(f->WriteAt(0, "x"));
  EXPECT_EQ(Contents("a"), "");
}

TEST_F(FaultEnvTest, TruncateStillReachesTheFileWhileDroppingWrites) {
  std::unique_ptr<File> f = Open("a");
  ASSERT_NE(f, nullptr);
  env_.StopPersistingAfterWrites(0);
  ASSERT_OK(f->Truncate(8192));
  absl::StatusOr<uint64_t> size = f->Size();
  ASSERT_OK(size);
  EXPECT_EQ(*size, 8192u);
}

TEST_F(FaultEnvTest, CountsAreExactUnderConcurrentUse) {
  std::unique_ptr<File> f = Open("a");
  ASSERT_NE(f, nullptr);
  env_.FailNthWrite(500);
  constexpr int kThreads = 4, kWrites = 250;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kWrites; ++i) {
        if (!f->WriteAt(uint64_t(t * kWrites + i), "z").ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(env_.writes(), uint64_t{kThreads * kWrites});
  EXPECT_EQ(failures.load(), 1);
}

TEST_F(FaultEnvTest, OpenFailureOfTheInnerEnvIsReturned) {
  absl::StatusOr<std::unique_ptr<File>> f =
      env_.OpenFile(dir_.File("missing"), OpenFileOptions{.create = false});
  EXPECT_EQ(f.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace revkv::btree
