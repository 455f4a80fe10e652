// Crash during defrag: a child process writes, commits and defrags in a
// loop and is killed (SIGKILL) at a random moment; the file it leaves must
// open, pass the btree check, and hold every commit the child acknowledged
// (and no half commit). Seeds: REVKV_SEED replays one.
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "backend/backend.h"
#include "btree/db.h"
#include "gtest/gtest.h"
#include "tests/backend/backend_test_util.h"

namespace revkv::backend {
namespace {

using testutil::KV;
using testutil::ReadAll;
using testutil::Write;

constexpr int kPreload = 20000;
constexpr int kPerCycle = 50;

std::string PreKey(int i) { return "p" + std::to_string(i); }
std::string CycleKey(int i, int j) { return "c" + std::to_string(i) + "-" + std::to_string(j); }

// The child: never returns.
[[noreturn]] void RunChild(const std::string& path, int ack_fd) {
  BackendConfig c = testutil::ManualConfig();
  c.path = path;
  absl::StatusOr<std::unique_ptr<Backend>> b = Backend::Open(c);
  if (!b.ok()) _exit(2);
  absl::Status s = Write(**b, [](BatchTx& tx) {
    if (absl::Status s = tx.UnsafeCreateBucket("b"); !s.ok()) return s;
    for (int i = 0; i < kPreload; ++i) {
      if (absl::Status s = tx.UnsafePut("b", PreKey(i), std::string(100, 'p')); !s.ok()) return s;
    }
    return tx.UnsafePut("b", "n", "0");
  });
  if (!s.ok() || !(*b)->ForceCommit().ok()) _exit(3);
  for (int32_t i = 1;; ++i) {
    s = Write(**b, [&](BatchTx& tx) {
      for (int j = 0; j < kPerCycle; ++j) {
        if (absl::Status s = tx.UnsafePut("b", CycleKey(i, j), std::to_string(i)); !s.ok()) {
          return s;
        }
      }
      if (absl::Status s = tx.UnsafeDelete("b", PreKey(i)); !s.ok()) return s;
      return tx.UnsafePut("b", "n", std::to_string(i));
    });
    if (!s.ok() || !(*b)->ForceCommit().ok()) _exit(4);
    if (write(ack_fd, &i, sizeof i) != sizeof i) _exit(5);  // acknowledged
    if (i % 2 == 0 && !(*b)->Defrag().ok()) _exit(6);
  }
}

TEST(DefragCrashTest, KillAtRandomPointsLeavesEveryAcknowledgedCommit) {
  int killed_mid_defrag = 0;
  for (uint64_t seed : {1, 2, 3, 4, 5, 6, 7, 8}) {
    if (const char* e = getenv("REVKV_SEED"); e != nullptr && *e != '\0') {
      seed = std::strtoull(e, nullptr, 0);
    }
    SCOPED_TRACE("seed " + std::to_string(seed) + " (replay: REVKV_SEED=" +
                 std::to_string(seed) + ")");
    std::mt19937_64 rng(seed);
    std::string dir = ::testing::TempDir() + "/crash_" + std::to_string(seed);
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const std::string path = dir + "/db";

    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      RunChild(path, fds[1]);
    }
    close(fds[1]);
    // Let it acknowledge a few cycles, then kill it at a random moment.
    const int wait_acks = 1 + int(rng() % 8);
    int32_t last = 0, got;
    for (int n = 0; n < wait_acks; ++n) {
      ASSERT_EQ(read(fds[0], &got, sizeof got), ssize_t(sizeof got)) << "child died early";
      last = got;
    }
    // Choosing the kill point, not synchronising.
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 20000));
    kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
    while (read(fds[0], &got, sizeof got) == ssize_t(sizeof got)) last = got;
    close(fds[0]);

    if (std::filesystem::exists(path + ".defrag")) ++killed_mid_defrag;
    {
      btree::Options o;
      o.create_if_missing = false;
      ASSERT_OK_AND_ASSIGN(auto db, btree::DB::Open(path, o));
      ASSERT_OK(db->Check());
    }
    BackendConfig c = testutil::ManualConfig();
    c.path = path;
    ASSERT_OK_AND_ASSIGN(auto b, Backend::Open(c));
    EXPECT_FALSE(std::filesystem::exists(path + ".defrag"));
    ASSERT_OK_AND_ASSIGN(auto rtx, b->NewConcurrentReadTx());
    KV kv = ReadAll(*rtx, "b");
    ASSERT_EQ(kv.count("n"), 1u);
    const int n = std::stoi(kv["n"]);
    EXPECT_GE(n, last) << "an acknowledged commit was lost";
    EXPECT_LE(n, last + 1);
    // Exactly cycles 1..n, whole.
    size_t want = 1 + size_t(kPreload - n) + size_t(n) * kPerCycle;
    EXPECT_EQ(kv.size(), want);
    for (int i = 1; i <= n; ++i) {
      EXPECT_EQ(kv.count(PreKey(i)), 0u);
      for (int j = 0; j < kPerCycle; ++j) ASSERT_EQ(kv[CycleKey(i, j)], std::to_string(i));
    }
    rtx.reset();
    b.reset();
    std::filesystem::remove_all(dir);
    if (getenv("REVKV_SEED") != nullptr && *getenv("REVKV_SEED") != '\0') break;
  }
  std::cout << "[ info     ] killed while a defrag copy existed: " << killed_mid_defrag
            << " of the runs" << std::endl;
}

}  // namespace
}  // namespace revkv::backend
