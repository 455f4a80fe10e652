// Defrag: compacts, keeps every write (including those made during the
// copy), keeps open views, and leaves the backend usable when it fails.
#include <atomic>
#include <fstream>
#include <string>
#include <thread>

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

absl::Status FillAndThin(Backend& b, int n, KV* model) {
  absl::Status s = Write(b, [&](BatchTx& tx) {
    if (absl::Status s = tx.UnsafeCreateBucket("b"); !s.ok()) return s;
    for (int i = 0; i < n; ++i) {
      std::string k = "k" + std::to_string(i);
      std::string v(100, char('a' + i % 26));
      if (absl::Status s = tx.UnsafePut("b", k, v); !s.ok()) return s;
      (*model)[k] = v;
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (s = b.ForceCommit(); !s.ok()) return s;
  s = Write(b, [&](BatchTx& tx) {
    for (int i = 0; i < n; ++i) {
      if (i % 10 == 0) continue;
      std::string k = "k" + std::to_string(i);
      if (absl::Status s = tx.UnsafeDelete("b", k); !s.ok()) return s;
      model->erase(k);
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return b.ForceCommit();
}

TEST(DefragTest, ShrinksTheFileAndKeepsTheData) {
  ASSERT_OK_AND_ASSIGN(auto b, NewTmpBackend(ManualConfig()));
  KV model;
  ASSERT_OK(FillAndThin(*b, 20000, &model));
  const uint64_t before = b->Size();
  const uint64_t file_before = b->FileSize();
  DefragStats st;
  ASSERT_OK(b->Defrag(&st));
  EXPECT_LT(b->Size(), before);
  EXPECT_LT(b->FileSize(), file_before);
  EXPECT_EQ(st.size_before, file_before);
  EXPECT_LE(st.pause, st.total);
  ASSERT_OK_AND_ASSIGN(auto rtx, b->NewConcurrentReadTx());
  EXPECT_EQ(ReadAll(*rtx, "b"), model);
  ASSERT_OK_AND_ASSIGN(DbSizes sizes, b->Sizes());
  EXPECT_LE(sizes.in_use, sizes.size);
}

TEST(DefragTest, WritesContinueAfterDefragAndSurviveReopen) {
  ASSERT_OK_AND_ASSIGN(auto b, NewTmpBackend(ManualConfig()));
  KV model;
  ASSERT_OK(FillAndThin(*b, 1000, &model));
  ASSERT_OK(Write(*b, [](BatchTx& tx) { return tx.UnsafePut("b", "buffered", "1"); }));
  model["buffered"] = "1";
  ASSERT_OK(b->Defrag());
  ASSERT_OK(Write(*b, [](BatchTx& tx) { return tx.UnsafePut("b", "after", "2"); }));
  model["after"] = "2";
  const std::string path = b->config().path;
  ASSERT_OK(b->Close());
  BackendConfig c = ManualConfig();
  c.path = path;
  ASSERT_OK_AND_ASSIGN(auto again, Backend::Open(c));
  ASSERT_OK_AND_ASSIGN(auto rtx, again->NewConcurrentReadTx());
  EXPECT_EQ(ReadAll(*rtx, "b"), model);
}

TEST(DefragTest, OpenViewsKeepTheOldFile) {
  ASSERT_OK_AND_ASSIGN(auto b, NewTmpBackend(ManualConfig()));
  KV model;
  ASSERT_OK(FillAndThin(*b, 1000, &model));
  ASSERT_OK_AND_ASSIGN(auto old_view, b->NewConcurrentReadTx());
  ASSERT_OK(b->Defrag());
  ASSERT_OK(Write(*b, [](BatchTx& tx) { return tx.UnsafePut("b", "new", "1"); }));
  EXPECT_EQ(ReadAll(*old_view, "b"), model);
  ASSERT_OK_AND_ASSIGN(auto new_view, b->NewConcurrentReadTx());
  model["new"] = "1";
  EXPECT_EQ(ReadAll(*new_view, "b"), model);
}

TEST(DefragTest, WritesDuringTheCopyAreReplayed) {
  // A writer runs through five defrags; whatever it wrote before, during or
  // after each copy must be there at the end.
  ASSERT_OK_AND_ASSIGN(auto b, NewTmpBackend(ManualConfig()));
  KV model;
  ASSERT_OK(FillAndThin(*b, 500, &model));
  // Make writes from another thread while defrag runs, many times over.
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    for (int i = 0; !stop.load(); ++i) {
      std::string k = "w" + std::to_string(i % 300);
      ASSERT_OK(Write(*b, [&](BatchTx& tx) {
        if (i % 7 == 0) return tx.UnsafeDelete("b", "k" + std::to_string((i / 7) % 500));
        return tx.UnsafePut("b", k, std::to_string(i));
      }));
      written.store(i + 1);
    }
  });
  for (int round = 0; round < 5; ++round) ASSERT_OK(b->Defrag());
  stop.store(true);
  writer.join();
  // Replay the writer's history into the model.
  for (int i = 0; i < written.load(); ++i) {
    if (i % 7 == 0) {
      model.erase("k" + std::to_string((i / 7) % 500));
    } else {
      model["w" + std::to_string(i % 300)] = std::to_string(i);
    }
  }
  ASSERT_OK_AND_ASSIGN(auto rtx, b->NewConcurrentReadTx());
  EXPECT_EQ(ReadAll(*rtx, "b"), model);
  ASSERT_OK(b->ForceCommit());
  ASSERT_OK_AND_ASSIGN(auto committed, b->NewConcurrentReadTx());
  EXPECT_EQ(committed->segment_count(), 0u);
  EXPECT_EQ(ReadAll(*committed, "b"), model);
}

TEST(DefragTest, FailedCopyLeavesTheBackendWorking) {
  btree::FaultEnv env;
  BackendConfig c = ManualConfig();
  c.no_sync = false;
  c.env = &env;
  ASSERT_OK_AND_ASSIGN(auto b, NewTmpBackend(c));
  KV model;
  ASSERT_OK(FillAndThin(*b, 1000, &model));
  env.FailNthSync(1);  // the copy's sync
  EXPECT_FALSE(b->Defrag().ok());
  env.ClearFaults();
  EXPECT_FALSE(env.FileExists(b->config().path + ".defrag"));
  ASSERT_OK(Write(*b, [](BatchTx& tx) { return tx.UnsafePut("b", "x", "1"); }));
  model["x"] = "1";
  ASSERT_OK(b->ForceCommit());
  ASSERT_OK_AND_ASSIGN(auto rtx, b->NewConcurrentReadTx());
  EXPECT_EQ(ReadAll(*rtx, "b"), model);
  ASSERT_OK(b->Defrag());
}

TEST(DefragTest, OpenRemovesALeftoverCopy) {
  ASSERT_OK_AND_ASSIGN(auto b, NewTmpBackend(ManualConfig()));
  ASSERT_OK(Write(*b, [](BatchTx& tx) { return tx.UnsafeCreateBucket("b"); }));
  const std::string path = b->config().path;
  ASSERT_OK(b->Close());
  std::ofstream(path + ".defrag") << "half a copy";
  BackendConfig c = ManualConfig();
  c.path = path;
  ASSERT_OK_AND_ASSIGN(auto again, Backend::Open(c));
  EXPECT_FALSE(btree::Env::Default()->FileExists(path + ".defrag"));
  ASSERT_OK(again->Defrag());
}

}  // namespace
}  // namespace revkv::backend
