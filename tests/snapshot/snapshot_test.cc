// snapshot::Save / GetStatus / Restore: round trips (also under concurrent
// writes), bad input of every kind, refusal of a non-empty target,
// etcdutl's bump/mark options, and crash-during-restore.
#include "snapshot/snapshot.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "gtest/gtest.h"
#include "revkv/db.h"

namespace revkv::snapshot {
namespace {

namespace fs = std::filesystem;

std::string TempDir(const std::string& name) {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/" + name + "-XXXXXX";
  EXPECT_NE(mkdtemp(tmpl.data()), nullptr);
  return tmpl;
}

std::unique_ptr<DB> Open(const std::string& dir) {
  auto d = DB::Open(dir, {});
  EXPECT_TRUE(d.ok()) << d.status();
  return d.ok() ? std::move(*d) : nullptr;
}

// A store with some history: puts, deletes, a compaction.
void Fill(mvcc::Store* s, int n) {
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(s->Put("k" + std::to_string(i % 37), "v" + std::to_string(i)).ok());
    if (i % 11 == 0) {
      ASSERT_TRUE(s->DeleteRange("k" + std::to_string(i % 7), "").ok());
    }
  }
}

uint32_t Hash(mvcc::Store* s, int64_t rev = 0) {
  auto h = s->HashByRev(rev);
  EXPECT_TRUE(h.ok()) << h.status();
  return h.ok() ? h->hash : 0;
}

class SnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = TempDir("snap");
    dir_ = root_ + "/data";
    file_ = root_ + "/snap.db";
    d_ = Open(dir_);
    ASSERT_NE(d_, nullptr);
    Fill(d_->store(), 300);
    ASSERT_TRUE(d_->store()->Compact(100).ok());
    ASSERT_TRUE(d_->store()->WaitCompaction().ok());
    Fill(d_->store(), 50);
  }
  std::string root_, dir_, file_;
  std::unique_ptr<DB> d_;
};

TEST_F(SnapshotTest, RoundTripKeepsRevisionsAndHash) {
  ASSERT_TRUE(Save(d_->store(), file_).ok());
  const std::string target = root_ + "/restored";
  ASSERT_TRUE(Restore(file_, target).ok());
  auto r = Open(target);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->store()->Rev(), d_->store()->Rev());
  EXPECT_EQ(r->store()->CompactRev(), d_->store()->CompactRev());
  EXPECT_EQ(Hash(r->store()), Hash(d_->store()));
  EXPECT_TRUE(r->backend()->ForceCommit().ok());
}

TEST_F(SnapshotTest, SaveLeavesNoPartFile) {
  ASSERT_TRUE(Save(d_->store(), file_).ok());
  EXPECT_TRUE(fs::exists(file_));
  EXPECT_FALSE(fs::exists(file_ + ".part"));
}

TEST_F(SnapshotTest, StatusReportsLastKeyRevisionAndCounts) {
  ASSERT_TRUE(Save(d_->store(), file_).ok());
  auto st = GetStatus(file_);
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->revision, d_->store()->Rev());
  EXPECT_GT(st->total_key, 0);
  EXPECT_EQ(uint64_t(st->total_size) + kTrailerSize, fs::file_size(file_));
  EXPECT_EQ(st->trailer.revision, d_->store()->Rev());
  EXPECT_EQ(st->trailer.compact_revision, 100);
}

TEST(SnapshotStatus, FreshStoreHasRevisionZero) {
  std::string root = TempDir("fresh");
  auto d = Open(root + "/data");
  ASSERT_TRUE(Save(d->store(), root + "/s.db").ok());
  auto st = GetStatus(root + "/s.db");
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->revision, 0);
}

TEST_F(SnapshotTest, SaveUnderConcurrentWritesRestoresAConsistentRevision) {
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop.load(); ++i) {
      if (!d_->store()->Put("w" + std::to_string(i % 100), std::to_string(i)).ok()) return;
    }
  });
  absl::Status s = Save(d_->store(), file_);
  stop = true;
  writer.join();
  ASSERT_TRUE(s.ok()) << s;
  const std::string target = root_ + "/restored";
  ASSERT_TRUE(Restore(file_, target).ok());
  auto r = Open(target);
  const int64_t rev = r->store()->Rev();
  EXPECT_LE(rev, d_->store()->Rev());
  // The snapshot is exactly the original's history up to its revision.
  EXPECT_EQ(Hash(r->store()), Hash(d_->store(), rev));
}

void FlipByte(const std::string& path, uint64_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(std::streamoff(offset));
  char c;
  f.get(c);
  f.seekp(std::streamoff(offset));
  f.put(char(c ^ 0x01));
}

class BadInput : public SnapshotTest {
 protected:
  void ExpectRejected(const std::string& path, const std::string& what) {
    const std::string target = root_ + "/target";
    absl::Status s = Restore(path, target);
    EXPECT_FALSE(s.ok()) << what;
    EXPECT_NE(s.message().find(what), std::string::npos) << s;
    EXPECT_FALSE(fs::exists(target)) << what;
    EXPECT_FALSE(GetStatus(path).ok()) << what;
    for (const auto& e : fs::directory_iterator(root_)) {
      EXPECT_EQ(e.path().string().find("restore-tmp"), std::string::npos) << e.path();
    }
  }
};

TEST_F(BadInput, Truncated) {
  ASSERT_TRUE(Save(d_->store(), file_).ok());
  fs::resize_file(file_, fs::file_size(file_) - 100);
  ExpectRejected(file_, "truncated");
}

TEST_F(BadInput, FlippedContentByte) {
  ASSERT_TRUE(Save(d_->store(), file_).ok());
  FlipByte(file_, 5000);
  ExpectRejected(file_, "hash mismatch");
}

TEST_F(BadInput, FlippedTrailerByte) {
  ASSERT_TRUE(Save(d_->store(), file_).ok());
  FlipByte(file_, fs::file_size(file_) - kTrailerSize + 3);
  ExpectRejected(file_, "trailer");
}

TEST_F(BadInput, WrongTrailerSize) {
  ASSERT_TRUE(Save(d_->store(), file_).ok());
  // A valid trailer recording another content size.
  std::string bytes;
  {
    std::ifstream in(file_, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  Trailer t;
  t.content_size = bytes.size();  // wrong
  std::string wrong = bytes.substr(0, bytes.size() - kTrailerSize) + EncodeTrailer(t);
  std::ofstream(file_, std::ios::binary | std::ios::trunc) << wrong;
  ExpectRejected(file_, "truncated or extended");
}

TEST_F(BadInput, NotASnapshot) {
  std::ofstream(file_) << "hello, this is not a snapshot at all, just some text....................";
  ExpectRejected(file_, "not a revkv snapshot");
}

TEST_F(BadInput, MissingFile) {
  ExpectRejected(root_ + "/nope.db", "stat " + root_ + "/nope.db: no such file or directory");
}

TEST_F(SnapshotTest, RefusesANonEmptyTarget) {
  ASSERT_TRUE(Save(d_->store(), file_).ok());
  const std::string target = root_ + "/busy";
  fs::create_directories(target);
  std::ofstream(target + "/x") << "x";
  absl::Status s = Restore(file_, target);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("exists"), std::string::npos);
  EXPECT_TRUE(fs::exists(target + "/x"));
}

TEST_F(SnapshotTest, RestoresIntoAnEmptyDirectory) {
  ASSERT_TRUE(Save(d_->store(), file_).ok());
  const std::string target = root_ + "/empty";
  fs::create_directories(target);
  EXPECT_TRUE(Restore(file_, target).ok());
}

TEST_F(SnapshotTest, BumpRevisionNeedsMarkCompacted) {
  ASSERT_TRUE(Save(d_->store(), file_).ok());
  RestoreOptions o;
  o.bump_revision = 10;
  EXPECT_FALSE(Restore(file_, root_ + "/t", o).ok());
  EXPECT_FALSE(fs::exists(root_ + "/t"));
}

TEST_F(SnapshotTest, BumpRevisionAndMarkCompacted) {
  ASSERT_TRUE(Save(d_->store(), file_).ok());
  RestoreOptions o;
  o.bump_revision = 1000;
  o.mark_compacted = true;
  ASSERT_TRUE(Restore(file_, root_ + "/t", o).ok());
  auto r = Open(root_ + "/t");
  const int64_t want = d_->store()->Rev() + 1000;
  EXPECT_EQ(r->store()->Rev(), want);
  EXPECT_EQ(r->store()->CompactRev(), want);
  auto put = r->store()->Put("after", "bump");
  ASSERT_TRUE(put.ok());
  EXPECT_EQ(*put, want + 1);
  // The live data is intact.
  auto got = r->store()->Range("k1", "", {});
  auto orig = d_->store()->Range("k1", "", {});
  ASSERT_TRUE(got.ok() && orig.ok());
  EXPECT_EQ(got->kvs, orig->kvs);
}

TEST_F(SnapshotTest, SkipHashCheckAcceptsABareDataFile) {
  ASSERT_TRUE(d_->Close().ok());
  RestoreOptions o;
  o.skip_hash_check = true;
  ASSERT_TRUE(Restore(DataFilePath(dir_), root_ + "/t", o).ok());
  EXPECT_FALSE(Restore(DataFilePath(dir_), root_ + "/t2").ok());
}

// A restore killed mid-way leaves its temporary directory; the next restore
// to the same target removes it (its process is gone).
TEST_F(SnapshotTest, RestoreRemovesTheTempDirOfAKilledRestore) {
  ASSERT_TRUE(Save(d_->store(), file_).ok());
  pid_t dead = fork();
  if (dead == 0) _exit(0);
  waitpid(dead, nullptr, 0);
  const std::string target = root_ + "/again";
  const std::string stale = target + ".restore-tmp-" + std::to_string(dead);
  fs::create_directories(stale + "/member");
  ASSERT_TRUE(Restore(file_, target).ok());
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(target));
}

// A child restores and is killed at a random moment: the target is either
// absent or a complete store.
TEST_F(SnapshotTest, CrashDuringRestoreNeverLeavesAHalfRestoredStore) {
  ASSERT_TRUE(Save(d_->store(), file_).ok());
  const uint32_t want = Hash(d_->store());
  const uint64_t seed = std::random_device{}();
  std::printf("crash-during-restore seed %llu\n", (unsigned long long)seed);
  std::mt19937_64 rng(seed);
  // Kill points spread over 3x the time one restore takes here.
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(Restore(file_, root_ + "/timed").ok());
  const int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::steady_clock::now() - t0).count() * 3 + 1;
  int complete = 0, absent = 0;
  for (int round = 0; round < 20; ++round) {
    const std::string target = root_ + "/crash" + std::to_string(round);
    pid_t pid = fork();
    if (pid == 0) _exit(Restore(file_, target).ok() ? 0 : 1);
    // The kill point: a random delay into the restore (not synchronisation).
    std::this_thread::sleep_for(std::chrono::microseconds(int64_t(rng() % uint64_t(us))));
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    if (!fs::exists(target)) {
      ++absent;
      continue;
    }
    ++complete;
    auto r = Open(target);
    ASSERT_NE(r, nullptr) << "seed " << seed;
    EXPECT_EQ(Hash(r->store()), want) << "seed " << seed;
  }
  std::printf("crash-during-restore: %d complete, %d absent\n", complete, absent);
}

}  // namespace
}  // namespace revkv::snapshot
