// The benchmark engines behave alike: batches commit, gets see them, scans
// walk them in order, readers keep their snapshot, and files survive reopen.
// Built twice: with BENCH_ENGINE_LMDB and with BENCH_ENGINE_REVKV.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench/engine.h"
#include "gtest/gtest.h"

namespace revkv::bench {
namespace {

std::unique_ptr<Engine> MakeEngine() {
#if defined(BENCH_ENGINE_LMDB)
  return NewLmdbEngine();
#elif defined(BENCH_ENGINE_REVKV)
  return NewRevkvEngine();
#else
#error "define BENCH_ENGINE_LMDB or BENCH_ENGINE_REVKV"
#endif
}

std::string Key(int i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%016d", i);
  return buf;
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    std::string base = tmp != nullptr ? tmp : "/tmp";
    std::string tmpl = base + "/engine_test.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    engine_ = MakeEngine();
    ASSERT_TRUE(engine_->Open(dir_).ok());
  }
  void TearDown() override {
    engine_.reset();
    std::filesystem::remove_all(dir_);
  }

  void PutRange(int from, int to, const std::string& suffix) {
    std::vector<std::string> ks, vs;
    for (int i = from; i < to; ++i) {
      ks.push_back(Key(i));
      vs.push_back("value-" + std::to_string(i) + suffix);
    }
    std::vector<std::string_view> kv(ks.begin(), ks.end()), vv(vs.begin(), vs.end());
    ASSERT_TRUE(engine_->PutBatch(kv, vv).ok());
  }

  std::string dir_;
  std::unique_ptr<Engine> engine_;
};

TEST_F(EngineTest, PutGetScan) {
  PutRange(0, 500, "");
  PutRange(500, 1000, "");
  std::string v;
  ASSERT_TRUE(engine_->Get(Key(0), &v).ok());
  EXPECT_EQ(v, "value-0");
  ASSERT_TRUE(engine_->Get(Key(999), &v).ok());
  EXPECT_EQ(v, "value-999");
  EXPECT_TRUE(absl::IsNotFound(engine_->Get(Key(1000), &v)));

  uint64_t n = 0;
  ASSERT_TRUE(engine_->Scan(0, &n).ok());
  EXPECT_EQ(n, 1000u);
  ASSERT_TRUE(engine_->Scan(10, &n).ok());
  EXPECT_EQ(n, 10u);
  EXPECT_GT(engine_->FileBytes(), 0u);
}

TEST_F(EngineTest, ScanCountsBytes) {
  PutRange(0, 10, "");
  auto r = engine_->NewReader();
  ASSERT_TRUE(r->Begin().ok());
  uint64_t n = 0, bytes = 0;
  ASSERT_TRUE(r->Scan(0, &n, &bytes).ok());
  EXPECT_EQ(n, 10u);
  EXPECT_EQ(bytes, 10u * 16 + 10u * 7);  // "value-N"
  r->End();
}

TEST_F(EngineTest, ReaderKeepsItsSnapshot) {
  PutRange(0, 100, "-old");
  auto r = engine_->NewReader();
  ASSERT_TRUE(r->Begin().ok());
  PutRange(0, 200, "-new");
  std::string_view v;
  ASSERT_TRUE(r->Get(Key(5), &v).ok());
  EXPECT_EQ(v, "value-5-old");
  EXPECT_TRUE(absl::IsNotFound(r->Get(Key(150), &v)));
  r->End();
  ASSERT_TRUE(r->Begin().ok());
  ASSERT_TRUE(r->Get(Key(150), &v).ok());
  EXPECT_EQ(v, "value-150-new");
  r->End();
}

TEST_F(EngineTest, ConcurrentReadersAndWriter) {
  PutRange(0, 1000, "");
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&, t] {
      auto r = engine_->NewReader();
      int i = t;
      while (!stop.load()) {
        if (!r->Begin().ok()) {
          failures++;
          return;
        }
        for (int j = 0; j < 100; ++j, i = (i + 7) % 1000) {
          std::string_view v;
          if (!r->Get(Key(i), &v).ok()) failures++;
        }
        r->End();
      }
    });
  }
  for (int round = 0; round < 20; ++round) PutRange(0, 1000, "-" + std::to_string(round));
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST_F(EngineTest, ReopenKeepsData) {
  PutRange(0, 300, "");
  engine_->Close();
  engine_->Close();  // idempotent
  ASSERT_TRUE(engine_->Open(dir_).ok());
  std::string v;
  ASSERT_TRUE(engine_->Get(Key(299), &v).ok());
  EXPECT_EQ(v, "value-299");
}

}  // namespace
}  // namespace revkv::bench
