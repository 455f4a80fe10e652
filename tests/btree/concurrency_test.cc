// Readers and the writer at once: snapshot isolation while the file grows and
// is remapped, readers never blocking commits, and pages kept from reuse while
// a reader can still see them. Runs under ThreadSanitizer in CI (tag
// "concurrency"). Synchronisation is by condition variables, never by sleeps.
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "btree/db.h"
#include "gtest/gtest.h"
#include "tests/btree/test_util.h"

namespace revkv::btree {
namespace {

using testutil::CheckClean;
using testutil::Contents;
using testutil::DiffContents;
using testutil::ScopedTempDir;

std::string Key(int i) { return absl::StrFormat("key%06d", i); }

// A value naming the transaction that wrote it, padded to `size` bytes.
std::string TxValue(txid_t txid, size_t size) {
  std::string v = absl::StrFormat("%020d|", txid);
  v.resize(size, char('a' + txid % 26));
  return v;
}
txid_t TxOf(std::string_view value) {
  uint64_t t = 0;
  if (value.size() < 20 || !absl::SimpleAtoi(std::string(value.substr(0, 20)), &t)) return 0;
  return t;
}

// The number of "data" keys the commit with id `txid` leaves.
int DataKeys(txid_t txid) { return 40 + int(txid * 7 % 120); }

// One commit of the writer: every "data" key rewritten with this txid (and
// the count set to DataKeys(txid)), plus one new 16 KiB "blob" that is never
// deleted, so the file keeps growing.
absl::Status WriterCommit(Tx& tx) {
  const txid_t t = tx.id();
  absl::StatusOr<Bucket*> data = tx.CreateBucketIfNotExists("data");
  if (!data.ok()) return data.status();
  absl::StatusOr<Bucket*> blobs = tx.CreateBucketIfNotExists("blobs");
  if (!blobs.ok()) return blobs.status();
  const int n = DataKeys(t);
  for (int i = 0; i < n; ++i) {
    if (absl::Status s = (*data)->Put(Key(i), TxValue(t, 300)); !s.ok()) return s;
  }
  Cursor c = (*data)->NewCursor();
  for (c.Seek(Key(n)); c.Valid();) {
    if (absl::Status s = c.Delete(); !s.ok()) return s;
  }
  if (!c.status().ok()) return c.status();
  return (*blobs)->Put(absl::StrFormat("blob%020d", t), TxValue(t, 16 << 10));
}

// Checks that `tx` sees exactly the state of the commit `tx.id()`, given that
// the writer's first commit was `first`.
::testing::AssertionResult SeesExactlyItsSnapshot(Tx& tx, txid_t first) {
  const txid_t s = tx.id();
  absl::StatusOr<Bucket*> data = tx.GetBucket("data");
  if (!data.ok()) return ::testing::AssertionFailure() << "data: " << data.status();
  int n = 0;
  Cursor c = (*data)->NewCursor();
  for (c.First(); c.Valid(); c.Next(), ++n) {
    if (c.key() != Key(n)) {
      return ::testing::AssertionFailure() << "snapshot " << s << ": key " << c.key()
                                           << " where " << Key(n) << " was expected";
    }
    if (TxOf(c.value()) != s || c.value() != TxValue(s, 300)) {
      return ::testing::AssertionFailure() << "snapshot " << s << ": " << c.key()
                                           << " written by tx " << TxOf(c.value());
    }
  }
  if (!c.status().ok()) return ::testing::AssertionFailure() << c.status();
  if (n != DataKeys(s)) {
    return ::testing::AssertionFailure() << "snapshot " << s << ": " << n
                                         << " data keys, want " << DataKeys(s);
  }
  absl::StatusOr<Bucket*> blobs = tx.GetBucket("blobs");
  if (!blobs.ok()) return ::testing::AssertionFailure() << "blobs: " << blobs.status();
  txid_t want = first;
  Cursor b = (*blobs)->NewCursor();
  for (b.First(); b.Valid(); b.Next(), ++want) {
    if (b.value() != TxValue(want, 16 << 10)) {
      return ::testing::AssertionFailure() << "snapshot " << s << ": blob " << b.key()
                                           << " holds tx " << TxOf(b.value()) << ", want "
                                           << want;
    }
  }
  if (!b.status().ok()) return ::testing::AssertionFailure() << b.status();
  if (want != s + 1) {
    return ::testing::AssertionFailure() << "snapshot " << s << ": blobs up to tx "
                                         << want - 1;
  }
  return ::testing::AssertionSuccess();
}

// The writer's progress, for readers to wait on.
class Progress {
 public:
  void Committed(txid_t t) {
    std::lock_guard<std::mutex> l(mu_);
    last_ = t;
    cv_.notify_all();
  }
  void Done() {
    std::lock_guard<std::mutex> l(mu_);
    done_ = true;
    cv_.notify_all();
  }
  bool done() {
    std::lock_guard<std::mutex> l(mu_);
    return done_;
  }
  // Waits until commit `t` happened or the writer is done; returns whether
  // commit `t` happened.
  bool WaitFor(txid_t t) {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [&] { return last_ >= t || done_; });
    return last_ >= t;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  txid_t last_ = 0;
  bool done_ = false;
};

TEST(ConcurrencyTest, ReadersSeeExactlyTheirSnapshotWhileTheWriterCommitsAndRemaps) {
  ScopedTempDir dir;
  constexpr uint64_t kInitialMap = 1 << 20;
  absl::StatusOr<std::unique_ptr<DB>> opened = DB::Open(
      dir.File("db"), Options{.no_sync = true, .initial_mmap_size = kInitialMap});
  ASSERT_OK(opened);
  DB& db = **opened;
  ASSERT_OK(db.Update(WriterCommit));
  const txid_t first = db.LastTxid();

  constexpr int kCommits = 150;  // 150 x 16 KiB of blobs: several remaps
  constexpr int kReaders = 3;
  constexpr txid_t kHold = 5;  // commits a reader waits for while holding its tx
  Progress progress;
  progress.Committed(first);
  std::atomic<int> snapshots{0}, long_holds{0};

  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&] {
      while (!progress.done()) {
        absl::StatusOr<std::unique_ptr<Tx>> tx = db.Begin(false);
        ASSERT_OK(tx);
        ASSERT_TRUE(SeesExactlyItsSnapshot(**tx, first));
        // Hold the snapshot across several commits, then look again.
        if (progress.WaitFor((*tx)->id() + kHold)) ++long_holds;
        ASSERT_TRUE(SeesExactlyItsSnapshot(**tx, first));
        ++snapshots;
      }
    });
  }
  std::thread checker([&] {
    while (!progress.done()) {
      std::vector<std::string> problems;
      absl::Status s = db.Check(&problems);
      ASSERT_TRUE(s.ok()) << s << testutil::JoinProblems(problems);
      ASSERT_OK(db.Stats());
    }
  });
  for (int i = 0; i < kCommits; ++i) {
    absl::Status s = db.Update(WriterCommit);
    if (!s.ok()) {
      ADD_FAILURE() << "commit " << i << ": " << s;
      break;
    }
    progress.Committed(db.LastTxid());
  }
  progress.Done();
  for (auto& t : readers) t.join();
  checker.join();

  EXPECT_GT(snapshots.load(), 0);
  EXPECT_GT(long_holds.load(), 0);  // some snapshot was held across commits
  EXPECT_GT(db.FileSize(), kInitialMap);
  ASSERT_OK_AND_ASSIGN(DBStats stats, db.Stats());
  EXPECT_GT(stats.counters.remaps, 0u);
  EXPECT_EQ(db.OpenReadTxs(), 0);
  EXPECT_TRUE(CheckClean(db));
}

TEST(ConcurrencyTest, ALongLivedReadTransactionDoesNotBlockCommits) {
  ScopedTempDir dir;
  absl::StatusOr<std::unique_ptr<DB>> opened =
      DB::Open(dir.File("db"), Options{.no_sync = true, .initial_mmap_size = 1 << 20});
  ASSERT_OK(opened);
  DB& db = **opened;
  ASSERT_OK(db.Update(WriterCommit));
  const txid_t first = db.LastTxid();
  ASSERT_OK_AND_ASSIGN(auto reader, db.Begin(false));
  // The same thread commits: if a commit waited for the reader, this would
  // never return.
  for (int i = 0; i < 100; ++i) ASSERT_OK(db.Update(WriterCommit));
  EXPECT_EQ(db.LastTxid(), first + 100);
  EXPECT_EQ(reader->id(), first);
  EXPECT_EQ(db.OpenReadTxs(), 1);
  EXPECT_TRUE(SeesExactlyItsSnapshot(*reader, first));
  reader->Rollback();
  EXPECT_EQ(db.OpenReadTxs(), 0);
  EXPECT_TRUE(CheckClean(db));
}

TEST(ConcurrencyTest, PagesAreNotReusedWhileAReaderCanSeeThem) {
  ScopedTempDir dir;
  absl::StatusOr<std::unique_ptr<DB>> opened = DB::Open(
      dir.File("db"), Options{.no_sync = true});
  ASSERT_OK(opened);
  DB& db = **opened;
  auto rewrite = [](int round) {
    return [round](Tx& tx) -> absl::Status {
      absl::StatusOr<Bucket*> b = tx.CreateBucketIfNotExists("b");
      if (!b.ok()) return b.status();
      for (int i = 0; i < 2000; ++i) {
        if (i % 3 == round % 3) {
          if (absl::Status s = (*b)->Delete(Key(i)); !s.ok()) return s;
        } else if (absl::Status s = (*b)->Put(Key(i), TxValue(tx.id(), 50 + i % 200));
                   !s.ok()) {
          return s;
        }
      }
      return (*b)->Put("big", TxValue(tx.id(), 30000 + round));
    };
  };
  ASSERT_OK(db.Update(rewrite(0)));
  ASSERT_OK_AND_ASSIGN(auto reader, db.Begin(false));
  ASSERT_OK_AND_ASSIGN(Contents before, testutil::Dump(*reader));
  for (int round = 1; round <= 40; ++round) ASSERT_OK(db.Update(rewrite(round)));
  ASSERT_OK_AND_ASSIGN(DBStats held, db.Stats());
  EXPECT_GT(held.pending_pages, 0u);  // the reader's pages wait for it

  ASSERT_OK_AND_ASSIGN(Contents after, testutil::Dump(*reader));
  EXPECT_EQ(DiffContents(before, after), "");
  std::vector<std::string> problems = reader->Check();
  EXPECT_TRUE(problems.empty()) << testutil::JoinProblems(problems);
  reader->Rollback();

  // Once the reader is gone, the next commit frees everything pending.
  ASSERT_OK(db.Update(rewrite(41)));
  ASSERT_OK(db.Update(rewrite(42)));
  ASSERT_OK_AND_ASSIGN(DBStats released, db.Stats());
  EXPECT_LT(released.pending_pages, held.pending_pages);
  EXPECT_GT(released.free_pages, 0u);
  EXPECT_TRUE(CheckClean(db));
}

TEST(ConcurrencyTest, WriteTransactionsAreSerialized) {
  ScopedTempDir dir;
  absl::StatusOr<std::unique_ptr<DB>> opened = DB::Open(dir.File("db"), Options{.no_sync = true});
  ASSERT_OK(opened);
  DB& db = **opened;
  ASSERT_OK_AND_ASSIGN(auto a, db.Begin(true));
  ASSERT_OK_AND_ASSIGN(Bucket * b, a->CreateBucket("b"));
  ASSERT_OK(b->Put("k", "from a"));
  txid_t b_id = 0;
  std::string b_saw;
  std::thread second([&] {
    // Waits while `a` is open, then starts after its commit.
    absl::StatusOr<std::unique_ptr<Tx>> tx = db.Begin(true);
    ASSERT_OK(tx);
    b_id = (*tx)->id();
    absl::StatusOr<Bucket*> bucket = (*tx)->GetBucket("b");
    ASSERT_OK(bucket);
    std::string_view v;
    ASSERT_OK((*bucket)->Get("k", &v));
    b_saw = std::string(v);
    ASSERT_OK((*bucket)->Put("k", "from b"));
    ASSERT_OK((*tx)->Commit());
  });
  const txid_t a_id = a->id();
  ASSERT_OK(a->Commit());
  second.join();
  EXPECT_EQ(b_id, a_id + 1);
  EXPECT_EQ(b_saw, "from a");
  EXPECT_EQ(db.LastTxid(), a_id + 1);
  EXPECT_TRUE(CheckClean(db));
}

TEST(ConcurrencyTest, AWriteTransactionMayCommitOnAnotherThread) {
  ScopedTempDir dir;
  absl::StatusOr<std::unique_ptr<DB>> opened = DB::Open(dir.File("db"), Options{.no_sync = true});
  ASSERT_OK(opened);
  DB& db = **opened;
  ASSERT_OK_AND_ASSIGN(auto tx, db.Begin(true));
  ASSERT_OK(tx->CreateBucket("b"));
  std::thread other([&] { ASSERT_OK(tx->Commit()); });
  other.join();
  tx.reset();
  // The writer gate was released by the other thread.
  ASSERT_OK(db.Update([](Tx& t) { return t.CreateBucket("c").status(); }));
  ASSERT_OK_AND_ASSIGN(Contents c, testutil::Dump(db));
  EXPECT_EQ(c[""].size(), 2u);
}

TEST(ConcurrencyTest, ManyReadersOfOneSnapshotAgree) {
  ScopedTempDir dir;
  absl::StatusOr<std::unique_ptr<DB>> opened = DB::Open(dir.File("db"), Options{.no_sync = true});
  ASSERT_OK(opened);
  DB& db = **opened;
  ASSERT_OK(db.Update(WriterCommit));
  const txid_t first = db.LastTxid();
  std::vector<std::thread> threads;
  for (int r = 0; r < 4; ++r) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        ASSERT_OK(db.View([&](Tx& tx) -> absl::Status {
          EXPECT_EQ(tx.id(), first);
          EXPECT_TRUE(SeesExactlyItsSnapshot(tx, first));
          return absl::OkStatus();
        }));
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_OK_AND_ASSIGN(DBStats stats, db.Stats());
  EXPECT_GE(stats.counters.read_tx_started, 80u);
}

}  // namespace
}  // namespace revkv::btree
