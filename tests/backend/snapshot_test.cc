// Snapshot: a consistent btree file of the state when it was taken, streamed
// without blocking writes or commits.
#include "backend/snapshot.h"

#include <atomic>
#include <fstream>
#include <sstream>
#include <streambuf>
#include <string>
#include <thread>

#include "backend/backend.h"
#include "btree/bucket.h"
#include "btree/db.h"
#include "gtest/gtest.h"
#include "tests/backend/backend_test_util.h"

namespace revkv::backend {
namespace {

using testutil::KV;
using testutil::ManualConfig;
using testutil::Write;

// Every key/value of bucket `bucket` in the btree file at `path`.
absl::StatusOr<KV> DumpFile(const std::string& path, std::string_view bucket) {
  btree::Options o;
  o.read_only = true;
  o.create_if_missing = false;
  absl::StatusOr<std::unique_ptr<btree::DB>> db = btree::DB::Open(path, o);
  if (!db.ok()) return db.status();
  if (absl::Status s = (*db)->Check(); !s.ok()) return s;
  KV out;
  absl::Status s = (*db)->View([&](btree::Tx& tx) -> absl::Status {
    absl::StatusOr<btree::Bucket*> b = tx.GetBucket(bucket);
    if (!b.ok()) return b.status();
    return (*b)->Range("", "", 0, [&](std::string_view k, std::string_view v) {
      out.emplace(std::string(k), std::string(v));
      return true;
    });
  });
  if (!s.ok()) return s;
  return out;
}

// A streambuf that runs a callback at its first write, then stores bytes.
class HookBuf : public std::stringbuf {
 public:
  explicit HookBuf(std::function<void()> hook) : hook_(std::move(hook)) {}

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    if (hook_) {
      auto h = std::move(hook_);
      hook_ = nullptr;
      h();
    }
    return std::stringbuf::xsputn(s, n);
  }

 private:
  std::function<void()> hook_;
};

TEST(SnapshotTest, WritingDoesNotBlockWritesOrCommits) {
  ASSERT_OK_AND_ASSIGN(auto b, NewTmpBackend(ManualConfig()));
  ASSERT_OK(Write(*b, [](BatchTx& tx) {
    if (absl::Status s = tx.UnsafeCreateBucket("b"); !s.ok()) return s;
    return tx.UnsafePut("b", "before", "1");
  }));
  ASSERT_OK_AND_ASSIGN(auto snap, b->NewSnapshot());
  // In the middle of WriteTo, on the same thread: write and commit. Were
  // either blocked by the snapshot, this would deadlock.
  btree::txid_t committed = 0;
  HookBuf buf([&] {
    EXPECT_OK(Write(*b, [](BatchTx& tx) { return tx.UnsafePut("b", "during", "2"); }));
    EXPECT_OK(b->ForceCommit());
    committed = b->LastTxid();
  });
  std::ostream out(&buf);
  ASSERT_OK(snap->WriteTo(out));
  EXPECT_GT(committed, 0u);
  EXPECT_EQ(buf.str().size(), snap->Size());
  ASSERT_OK(snap->Close());

  std::string path = b->config().path + ".snap";
  std::ofstream(path, std::ios::binary) << buf.str();
  ASSERT_OK_AND_ASSIGN(KV got, DumpFile(path, "b"));
  EXPECT_EQ(got, (KV{{"before", "1"}}));
}

TEST(SnapshotTest, TakenUnderConcurrentWritesEqualsAPrefixOfTheWrites) {
  ASSERT_OK_AND_ASSIGN(auto b, NewTmpBackend(ManualConfig()));
  ASSERT_OK(Write(*b, [](BatchTx& tx) { return tx.UnsafeCreateBucket("b"); }));
  // Writer: cycle i puts key i and sets "n" to i+1; acks after Unlock.
  std::atomic<int> acked{0};
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop.load(); ++i) {
      char key[16];
      snprintf(key, sizeof key, "k%08d", i);
      absl::Status s = Write(*b, [&](BatchTx& tx) {
        if (absl::Status s = tx.UnsafePut("b", key, std::to_string(i)); !s.ok()) return s;
        return tx.UnsafePut("b", "n", std::to_string(i + 1));
      });
      ASSERT_TRUE(s.ok()) << s;
      acked.store(i + 1);
      if (i % 50 == 0) ASSERT_OK(b->ForceCommit());
    }
  });
  ASSERT_TRUE(testutil::WaitUntil([&] { return acked.load() >= 200; }));
  const int acked_before = acked.load();
  ASSERT_OK_AND_ASSIGN(auto snap, b->NewSnapshot());
  const int acked_after = acked.load();
  std::string path = b->config().path + ".snap";
  {
    std::ofstream out(path, std::ios::binary);
    ASSERT_OK(snap->WriteTo(out));  // the writer keeps going meanwhile
  }
  stop.store(true);
  writer.join();

  ASSERT_OK_AND_ASSIGN(KV got, DumpFile(path, "b"));
  ASSERT_EQ(got.count("n"), 1u);
  const int n = std::stoi(got["n"]);
  EXPECT_GE(n, acked_before);
  EXPECT_LE(n, acked_after + 1);
  EXPECT_EQ(got.size(), size_t(n) + 1) << "exactly keys 0..n-1 and n";
  for (int i = 0; i < n; ++i) {
    char key[16];
    snprintf(key, sizeof key, "k%08d", i);
    ASSERT_EQ(got[key], std::to_string(i)) << key;
  }
}

TEST(SnapshotTest, OutlivesTheBackend) {
  std::unique_ptr<Snapshot> snap;
  std::string dir_file;
  {
    ASSERT_OK_AND_ASSIGN(auto b, NewTmpBackend(ManualConfig()));
    ASSERT_OK(Write(*b, [](BatchTx& tx) { return tx.UnsafeCreateBucket("b"); }));
    ASSERT_OK_AND_ASSIGN(snap, b->NewSnapshot());
  }
  std::ostringstream out;
  ASSERT_OK(snap->WriteTo(out));
  EXPECT_EQ(out.str().size(), snap->Size());
  ASSERT_OK(snap->Close());
  EXPECT_TRUE(absl::IsFailedPrecondition(snap->WriteTo(out)));
}

}  // namespace
}  // namespace revkv::backend
