// Store under concurrent readers, a writer and compaction: every read sees a
// consistent revision (run under TSan in CI).
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "backend/backend.h"
#include "gtest/gtest.h"
#include "mvcc/store.h"
#include "tests/btree/fault_env.h"

namespace revkv::mvcc {
namespace {

// A store in a fresh directory (removed after), syncing nothing and
// committing every 20 writes so that commits interleave with the readers.
class StoreConcurrency : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/revkv-mvcc-conc-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto cfg = backend::DefaultBackendConfig();
    cfg.path = dir_ + "/db";
    cfg.no_sync = true;
    cfg.batch_limit = 20;
    auto b = backend::Backend::Open(cfg);
    ASSERT_TRUE(b.ok()) << b.status();
    backend_ = *std::move(b);
    auto store = Store::Open(backend_.get());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }
  void TearDown() override {
    store_.reset();
    if (backend_ != nullptr) {
      EXPECT_TRUE(backend_->Close().ok());
    }
    backend_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::string dir_;
  std::unique_ptr<backend::Backend> backend_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreConcurrency, ReadersSeeWholeTransactionsWhileWritesAndCompactionsRun) {
  Store* s = store_.get();
  // Each transaction writes the same value to keys a and b: a reader must
  // never see them differ.
  std::atomic<bool> stop{false};
  std::atomic<int> torn{0}, reads{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        auto r = s->Range("a", "c", {});
        if (!r.ok()) continue;
        reads++;
        if (r->kvs.size() == 2 && r->kvs[0].value != r->kvs[1].value) torn++;
        if (r->kvs.size() == 1) torn++;
      }
    });
  }
  for (int i = 0; i < 400; ++i) {
    auto txn = s->Write();
    ASSERT_TRUE(txn.ok());
    std::string v = std::to_string(i);
    ASSERT_TRUE((*txn)->Put("a", v).ok());
    ASSERT_TRUE((*txn)->Put("b", v).ok());
    ASSERT_TRUE((*txn)->End().ok());
    if (i % 50 == 49) {
      ASSERT_TRUE(s->Compact(s->Rev() - 10).ok());
    }
  }
  // Keep writing until the readers have read at least a little.
  while (reads.load() < 10) ASSERT_TRUE(s->Put("z", "pad").ok());
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(torn.load(), 0);
  ASSERT_TRUE(s->WaitCompaction().ok());
}

// Point reads go through the point cache, which readers fill while the
// writer stores into and empties it: each read transaction must still see a
// and b equal (one transaction writes or deletes both), and never older
// values than a read before it.
TEST_F(StoreConcurrency, AReadSeesThePutOfEveryRevisionUpToItsOwn) {
  // Each put writes a new key named for its revision; a reader at revision
  // R must find exactly the keys of revisions 2..R, however it races the
  // writer (which publishes before it bumps the revision).
  Store* s = store_.get();
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0}, reads{0};
  auto key = [](int64_t rev) {
    std::string k = std::to_string(rev);
    return std::string(8 - k.size(), '0') + k;
  };
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        auto txn = s->Read();
        if (!txn.ok()) continue;
        const int64_t rev = (*txn)->Rev();
        auto newest = (*txn)->Range(key(rev), "", {});
        auto all = (*txn)->Range(key(0), key(99999999), {0, 0, true});
        if (!newest.ok() || !all.ok()) {
          bad++;
          continue;
        }
        reads++;
        if (rev > 1 && newest->kvs.size() != 1) bad++;
        if (all->count != rev - 1) bad++;
      }
    });
  }
  for (int64_t rev = 2; rev < 800 || reads.load() < 10; ++rev) {
    auto put = s->Put(key(rev), "v");
    ASSERT_TRUE(put.ok()) << put.status();
    ASSERT_EQ(*put, rev);
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
}

TEST_F(StoreConcurrency, PointReadsSeeWholeTransactionsWhilePutsAndDeletesRun) {
  Store* s = store_.get();
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0}, reads{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&] {
      int last = -1;
      while (!stop.load()) {
        auto txn = s->Read();
        if (!txn.ok()) continue;
        auto ra = (*txn)->Range("a", "", {});
        auto rb = (*txn)->Range("b", "", {});
        if (!ra.ok() || !rb.ok()) {
          bad++;
          continue;
        }
        reads++;
        if (ra->kvs.size() != rb->kvs.size()) {
          bad++;
        } else if (!ra->kvs.empty()) {
          if (ra->kvs[0].value != rb->kvs[0].value) bad++;
          const int v = std::stoi(ra->kvs[0].value);
          if (v < last) bad++;
          last = v;
        }
      }
    });
  }
  for (int i = 0; i < 600; ++i) {
    auto txn = s->Write();
    ASSERT_TRUE(txn.ok());
    if (i % 7 == 6) {
      ASSERT_TRUE((*txn)->DeleteRange("a", "c").ok());
    } else {
      std::string v = std::to_string(i);
      ASSERT_TRUE((*txn)->Put("a", v).ok());
      ASSERT_TRUE((*txn)->Put("b", v).ok());
    }
    ASSERT_TRUE((*txn)->End().ok());
  }
  while (reads.load() < 10) ASSERT_TRUE(s->Put("z", "pad").ok());
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
}

// A store with fsync on, a batch limit of one write and a FaultEnv that can
// hold the commit's fsync.
class StoreCommit : public ::testing::Test {
 protected:
  void TearDown() override {
    env_.ReleaseSyncs();
    store_.reset();
    if (backend_ != nullptr) {
      EXPECT_TRUE(backend_->Close().ok());
    }
    backend_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // interval 0: no committer, a full batch commits in the writer's Unlock.
  void Open(std::chrono::milliseconds interval) {
    char tmpl[] = "/tmp/revkv-mvcc-commit-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto cfg = backend::DefaultBackendConfig();
    cfg.path = dir_ + "/db";
    cfg.env = &env_;
    cfg.batch_limit = 1;
    cfg.batch_interval = interval;
    auto b = backend::Backend::Open(cfg);
    ASSERT_TRUE(b.ok()) << b.status();
    backend_ = *std::move(b);
    auto store = Store::Open(backend_.get());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    ASSERT_TRUE(backend_->ForceCommit().ok());  // nothing of the open in flight
  }

  btree::FaultEnv env_;  // outlives the backend
  std::string dir_;
  std::unique_ptr<backend::Backend> backend_;
  std::unique_ptr<Store> store_;
};

// A deadline to report a hang as a failure, not a synchronisation.
template <typename T>
bool Done(std::future<T>& f) {
  return f.wait_for(std::chrono::seconds(30)) == std::future_status::ready;
}

// Without a committer, a put that fills the batch commits in its Unlock; its
// fsync must not hold the lock readers take their revision under (reads
// never wait for the writer). The FaultEnv holds the fsync until the read is
// done.
TEST_F(StoreCommit, AReadDoesNotWaitForTheCommitOfAPutThatFilledTheBatch) {
  Open(std::chrono::milliseconds(0));
  Store* s = store_.get();
  ASSERT_TRUE(s->Put("a", "1").ok());
  env_.HoldSyncs();
  auto put = std::async(std::launch::async, [&] { return s->Put("a", "2"); });
  env_.WaitForHeldSync();  // the writer is in its commit's fsync now
  auto read = std::async(std::launch::async, [&] { return s->Range("a", "", {}); });
  EXPECT_TRUE(Done(read)) << "the read waited for the commit";
  env_.ReleaseSyncs();
  absl::StatusOr<int64_t> rev = put.get();
  ASSERT_TRUE(rev.ok()) << rev.status();
  absl::StatusOr<RangeResult> r = read.get();
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->kvs.size(), 1u);
  EXPECT_EQ(r->kvs[0].value, "2") << "published before its commit";
  EXPECT_EQ(r->rev, *rev);
}

// With a committer, the batch a put fills is committed on the committer's
// thread: the next put neither waits for that commit's fsync nor is hidden
// from readers meanwhile.
TEST_F(StoreCommit, APutDoesNotWaitForTheFsyncOfTheBatchBeforeIt) {
  Open(std::chrono::hours(1));  // the committer runs; its timer never fires
  Store* s = store_.get();
  env_.HoldSyncs();
  // On a thread of its own, so that a put that committed itself would fail
  // the deadline below instead of hanging the test.
  auto first = std::async(std::launch::async, [&] { return s->Put("a", "1"); });
  env_.WaitForHeldSync();  // that batch's commit is in its fsync
  auto second = std::async(std::launch::async, [&] { return s->Put("b", "2"); });
  EXPECT_TRUE(Done(second)) << "the put waited for the commit before it";
  absl::StatusOr<RangeResult> r = s->Range("a", std::string(1, '\0'), {});
  env_.ReleaseSyncs();
  ASSERT_TRUE(first.get().ok());
  ASSERT_TRUE(second.get().ok());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->kvs.size(), 2u) << "both puts are visible before either is durable";
  ASSERT_TRUE(backend_->ForceCommit().ok());
}

}  // namespace
}  // namespace revkv::mvcc
