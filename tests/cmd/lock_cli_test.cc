// The CLI and the data directory's lock: reads share it, a write waits for
// it up to --command-timeout, then fails naming the holder.
#include <unistd.h>

#include <future>
#include <string>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "revkv/db.h"
#include "tests/cmd/process.h"

namespace revkv::testing {
namespace {

ProcessResult Revkv(const std::string& dir, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {RevkvPath(), "--data-dir", dir};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, "");
}

std::unique_ptr<DB> Hold(const std::string& dir, bool read_only) {
  Options o;
  o.read_only = read_only;
  absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(dir, o);
  EXPECT_TRUE(db.ok()) << db.status();
  return db.ok() ? *std::move(db) : nullptr;
}

TEST(LockCli, AReadRunsBesideAnotherReader) {
  const std::string dir = NewTempDir("lock");
  ASSERT_EQ(Revkv(dir, {"put", "a", "1"}).exit_code, 0);
  std::unique_ptr<DB> reader = Hold(dir, /*read_only=*/true);
  ASSERT_NE(reader, nullptr);
  ProcessResult get = Revkv(dir, {"--command-timeout=100ms", "get", "a", "--print-value-only"});
  EXPECT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(get.out, "1\n");
}

TEST(LockCli, AWriteGivesUpAfterTheCommandTimeoutNamingTheHolder) {
  const std::string dir = NewTempDir("lock");
  ASSERT_EQ(Revkv(dir, {"put", "a", "1"}).exit_code, 0);
  std::unique_ptr<DB> reader = Hold(dir, /*read_only=*/true);
  ASSERT_NE(reader, nullptr);
  ProcessResult put = Revkv(dir, {"--command-timeout=200ms", "put", "a", "2"});
  EXPECT_EQ(put.exit_code, 1);
  const std::string want = absl::StrFormat(
      "Error: revkv: %s is locked by process %d (lock_cli_test); gave up after waiting ",
      DataFilePath(dir), getpid());
  EXPECT_EQ(put.LastErrLine().substr(0, want.size()), want) << put.err;
  reader.reset();
  ProcessResult get = Revkv(dir, {"get", "a", "--print-value-only"});
  EXPECT_EQ(get.out, "1\n") << "the refused write changed the store";
}

TEST(LockCli, AWriteWaitsForTheHolderToClose) {
  const std::string dir = NewTempDir("lock");
  std::unique_ptr<DB> writer = Hold(dir, /*read_only=*/false);
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->Put("a", "held").ok());
  auto put = std::async(std::launch::async,
                        [&] { return Revkv(dir, {"--command-timeout=60s", "put", "a", "2"}); });
  // Whenever the child tries, it cannot pass the lock before this close.
  ASSERT_TRUE(writer->Close().ok());
  writer.reset();
  ASSERT_EQ(put.wait_for(std::chrono::seconds(90)), std::future_status::ready);
  ProcessResult r = put.get();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Revkv(dir, {"get", "a", "--print-value-only"}).out, "2\n");
}

TEST(LockCli, AReadOfADirectoryWithoutAStoreCreatesNothing) {
  const std::string dir = NewTempDir("lock") + "/none";
  ProcessResult get = Revkv(dir, {"get", "a"});
  EXPECT_EQ(get.exit_code, 1);
  EXPECT_EQ(get.LastErrLine(), "Error: no revkv store at " + dir);
  EXPECT_NE(access(dir.c_str(), F_OK), 0) << "a read created " << dir;
}

}  // namespace
}  // namespace revkv::testing
