// The CLI reports an index checkpoint that fails verification (issue #19):
// an open says so in one stderr line and answers as before; check lists it
// as a problem and fails.
#include <string>
#include <vector>

#include "backend/backend.h"
#include "gtest/gtest.h"
#include "mvcc/checkpoint.h"
#include "mvcc/store.h"
#include "tests/cmd/process.h"

namespace revkv::testing {
namespace {

ProcessResult Revkv(const std::string& dir, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {RevkvPath(), "--data-dir", dir};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, "");
}

// Flips a byte of the checkpoint's first chunk through the backend (the
// page checksums stay valid).
void FlipCheckpointByte(const std::string& dir) {
  auto cfg = backend::DefaultBackendConfig();
  cfg.path = dir + "/member/snap/db";
  auto b = backend::Backend::Open(cfg);
  ASSERT_TRUE(b.ok()) << b.status();
  backend::BatchTx& tx = (*b)->batch_tx();
  tx.Lock();
  auto kvs = tx.UnsafeRange(mvcc::kIndexBucket, mvcc::CheckpointChunkKey(0), "", 0);
  ASSERT_TRUE(kvs.ok() && kvs->size() == 1);
  std::string chunk = kvs->values[0];
  chunk[chunk.size() / 2] ^= 0x20;
  ASSERT_TRUE(tx.UnsafePut(mvcc::kIndexBucket, mvcc::CheckpointChunkKey(0), chunk).ok());
  tx.Unlock();
  ASSERT_TRUE((*b)->Close().ok());
}

int CountLines(const std::string& s, const std::string& prefix) {
  int n = 0;
  for (size_t at = 0; at < s.size();) {
    size_t end = s.find('\n', at);
    if (end == std::string::npos) end = s.size();
    if (s.compare(at, prefix.size(), prefix) == 0) ++n;
    at = end + 1;
  }
  return n;
}

TEST(CheckpointCli, AFlippedCheckpointByteIsAWarningOnOpenAndAProblemForCheck) {
  const std::string dir = NewTempDir("checkpoint");
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(Revkv(dir, {"put", "k" + std::to_string(i), "v" + std::to_string(i)}).exit_code, 0);
  }
  ProcessResult good = Revkv(dir, {"get", "k", "--prefix"});
  ASSERT_EQ(good.exit_code, 0);
  EXPECT_EQ(good.err, "");
  ProcessResult ok = Revkv(dir, {"check"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_EQ(ok.out, "OK\n");

  FlipCheckpointByte(dir);
  ProcessResult check = Revkv(dir, {"check"});
  EXPECT_NE(check.exit_code, 0);
  EXPECT_EQ(CountLines(check.out, "mvcc: index checkpoint rejected: "), 1) << check.out;
  EXPECT_EQ(check.LastErrLine().rfind("Error: ", 0), 0u) << check.err;

  ProcessResult get = Revkv(dir, {"get", "k", "--prefix"});
  EXPECT_EQ(get.exit_code, 0);
  EXPECT_EQ(get.out, good.out);
  EXPECT_EQ(CountLines(get.err, "Warning: mvcc: index checkpoint rejected: "), 1) << get.err;
  EXPECT_EQ(CountLines(get.err, ""), 1) << get.err;  // one line, nothing else

  // A read opens read-only and writes nothing: the checkpoint stays bad
  // until a write's close writes a good one.
  EXPECT_EQ(CountLines(Revkv(dir, {"check"}).out, "mvcc: index checkpoint rejected: "), 1);
  ProcessResult put = Revkv(dir, {"put", "k0", "again"});
  EXPECT_EQ(put.exit_code, 0) << put.err;
  EXPECT_EQ(CountLines(put.err, "Warning: mvcc: index checkpoint rejected: "), 1) << put.err;
  EXPECT_EQ(Revkv(dir, {"check"}).out, "OK\n");
  EXPECT_EQ(Revkv(dir, {"get", "k", "--prefix"}).err, "");
}

}  // namespace
}  // namespace revkv::testing
