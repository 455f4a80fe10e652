// Issue #19: a snapshot trailer's revision and compact revision are believed
// only when the content bears them out. Each forged trailer here is
// re-encoded with EncodeTrailer, so its check, magic, size and content hash
// are all valid and only the cross-check can refuse it. Valid snapshots --
// of an empty store, a compacted one, one with a compaction still to finish,
// one saved under concurrent writes and compactions, and one of a store
// restored with --bump-revision -- pass it.
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "mvcc/revision.h"
#include "mvcc/store.h"
#include "revkv/db.h"
#include "snapshot/snapshot.h"
#include "snapshot/trailer.h"

namespace revkv::snapshot {
namespace {

namespace fs = std::filesystem;

std::string TempDir() {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/crosscheck-XXXXXX";
  EXPECT_NE(mkdtemp(tmpl.data()), nullptr);
  return tmpl;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The trailer of the snapshot at `path`.
Trailer TrailerOf(const std::string& path) {
  const std::string bytes = ReadAll(path);
  Trailer t;
  EXPECT_GE(bytes.size(), kTrailerSize);
  EXPECT_TRUE(DecodeTrailer(std::string_view(bytes).substr(bytes.size() - kTrailerSize), &t).ok());
  return t;
}

// Rewrites the trailer of `path` with `edit` applied, as a valid trailer.
template <typename Edit>
void ForgeTrailer(const std::string& path, Edit edit) {
  std::string bytes = ReadAll(path);
  Trailer t = TrailerOf(path);
  edit(t);
  bytes.replace(bytes.size() - kTrailerSize, kTrailerSize, EncodeTrailer(t));
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

class CrossCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = TempDir();
    file_ = root_ + "/snap.db";
    auto d = DB::Open(root_ + "/data", {});
    ASSERT_TRUE(d.ok()) << d.status();
    d_ = std::move(*d);
  }

  mvcc::Store* store() { return d_->store(); }

  // Puts n keys; the last revision written.
  int64_t Fill(int n) {
    for (int i = 0; i < n; ++i) {
      EXPECT_TRUE(store()->Put("k" + std::to_string(i % 13), std::to_string(i)).ok());
    }
    return store()->Rev();
  }

  void Compact(int64_t rev) {
    ASSERT_TRUE(store()->Compact(rev).ok());
    ASSERT_TRUE(store()->WaitCompaction().ok());
  }

  // Restores file_ into a new target; returns the status and checks that a
  // refused restore left neither the target nor a temporary directory.
  absl::Status RestoreAndCheckLeftovers(const RestoreOptions& o = {}) {
    const std::string target = root_ + "/target" + std::to_string(restores_++);
    absl::Status s = Restore(file_, target, o);
    if (!s.ok()) {
      EXPECT_FALSE(fs::exists(target)) << s;
      for (const auto& e : fs::directory_iterator(root_)) {
        EXPECT_EQ(e.path().string().find("restore-tmp"), std::string::npos) << e.path();
      }
    }
    last_target_ = target;
    return s;
  }

  // A valid snapshot: status and restore accept it, and the restored store
  // has the trailer's revisions.
  void ExpectRoundTrip(int64_t want_rev, int64_t want_compact) {
    absl::StatusOr<Status> st = GetStatus(file_);
    ASSERT_TRUE(st.ok()) << st.status();
    EXPECT_EQ(st->trailer.revision, want_rev);
    EXPECT_EQ(st->trailer.compact_revision, want_compact);
    ASSERT_TRUE(RestoreAndCheckLeftovers().ok());
    auto r = DB::Open(last_target_, {});
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ((*r)->store()->Rev(), want_rev);
    EXPECT_EQ((*r)->store()->CompactRev(), want_compact);
  }

  std::string root_, file_, last_target_;
  std::unique_ptr<DB> d_;
  int restores_ = 0;
};

TEST_F(CrossCheckTest, StatusRefusesATrailerWhoseRevisionDisagreesWithTheContent) {
  const int64_t rev = Fill(100);
  ASSERT_TRUE(Save(store(), file_).ok());
  for (int64_t forged : {rev + 20, rev - 1}) {
    ForgeTrailer(file_, [&](Trailer& t) { t.revision = forged; });
    ASSERT_EQ(TrailerOf(file_).revision, forged);
    absl::StatusOr<Status> st = GetStatus(file_);
    EXPECT_TRUE(absl::IsDataLoss(st.status())) << forged << ": " << st.status();
    EXPECT_TRUE(IsTrailerContradictsContent(st.status())) << forged << ": " << st.status();
  }
}

TEST_F(CrossCheckTest, RestoreRefusesATrailerWhoseRevisionDisagreesWithTheContent) {
  const int64_t rev = Fill(100);
  ASSERT_TRUE(Save(store(), file_).ok());
  for (int64_t forged : {rev + 20, rev - 1}) {
    ForgeTrailer(file_, [&](Trailer& t) { t.revision = forged; });
    absl::Status s = RestoreAndCheckLeftovers();
    EXPECT_TRUE(IsTrailerContradictsContent(s)) << forged << ": " << s;
  }
}

TEST_F(CrossCheckTest, RestoreRefusesAForgedCompactRevision) {
  Fill(100);
  Compact(50);
  ASSERT_TRUE(Save(store(), file_).ok());
  ASSERT_EQ(TrailerOf(file_).compact_revision, 50);
  for (int64_t forged : {int64_t{-1}, int64_t{49}, int64_t{51}}) {
    ForgeTrailer(file_, [&](Trailer& t) { t.compact_revision = forged; });
    absl::Status s = RestoreAndCheckLeftovers();
    EXPECT_TRUE(IsTrailerContradictsContent(s)) << forged << ": " << s;
    EXPECT_TRUE(IsTrailerContradictsContent(GetStatus(file_).status())) << forged;
  }
}

TEST_F(CrossCheckTest, RestoreRefusesACompactRevisionOnANeverCompactedStore) {
  Fill(10);
  ASSERT_TRUE(Save(store(), file_).ok());
  ASSERT_EQ(TrailerOf(file_).compact_revision, -1);
  ForgeTrailer(file_, [](Trailer& t) { t.compact_revision = 1; });
  EXPECT_TRUE(IsTrailerContradictsContent(RestoreAndCheckLeftovers()));
}

TEST_F(CrossCheckTest, RestoreRefusesACompactRevisionAboveTheRevision) {
  const int64_t rev = Fill(100);
  ASSERT_TRUE(Save(store(), file_).ok());
  ForgeTrailer(file_, [&](Trailer& t) { t.compact_revision = rev + 1; });
  absl::Status s = RestoreAndCheckLeftovers();
  EXPECT_TRUE(absl::IsDataLoss(s)) << s;
  EXPECT_TRUE(IsCompactAboveRevision(s)) << s;
  EXPECT_TRUE(IsCompactAboveRevision(GetStatus(file_).status()));
}

TEST_F(CrossCheckTest, DecodeTrailerRefusesACompactRevisionAboveTheRevision) {
  Trailer t;
  t.revision = 7;
  t.compact_revision = 8;
  Trailer out;
  EXPECT_TRUE(IsCompactAboveRevision(DecodeTrailer(EncodeTrailer(t), &out)));
  t.compact_revision = 7;  // compacted at the revision itself: valid
  EXPECT_TRUE(DecodeTrailer(EncodeTrailer(t), &out).ok());
}

// --skip-hash-check skips the content hash only: the trailer's revisions are
// still checked.
TEST_F(CrossCheckTest, SkipHashCheckStillRefusesAForgedRevision) {
  const int64_t rev = Fill(20);
  ASSERT_TRUE(Save(store(), file_).ok());
  ForgeTrailer(file_, [&](Trailer& t) { t.revision = rev + 1; });
  RestoreOptions o;
  o.skip_hash_check = true;
  EXPECT_TRUE(IsTrailerContradictsContent(RestoreAndCheckLeftovers(o)));
}

// The check is against the file's own content, not the bumped result: a
// trailer claiming the revision the bump will reach is still a lie.
TEST_F(CrossCheckTest, RestoreWithBumpRevisionChecksTheFileNotTheBumpedStore) {
  const int64_t rev = Fill(30);
  ASSERT_TRUE(Save(store(), file_).ok());
  ForgeTrailer(file_, [&](Trailer& t) { t.revision = rev + 1000; });
  RestoreOptions o;
  o.bump_revision = 1000;
  o.mark_compacted = true;
  EXPECT_TRUE(IsTrailerContradictsContent(RestoreAndCheckLeftovers(o)));
}

TEST_F(CrossCheckTest, ASnapshotOfABumpedStoreRoundTrips) {
  const int64_t rev = Fill(30);
  ASSERT_TRUE(Save(store(), file_).ok());
  RestoreOptions o;
  o.bump_revision = 1000;
  o.mark_compacted = true;
  ASSERT_TRUE(RestoreAndCheckLeftovers(o).ok());
  // The bumped store holds no record at its revision: only the meta bucket
  // says where it is.
  auto bumped = DB::Open(last_target_, {});
  ASSERT_TRUE(bumped.ok()) << bumped.status();
  ASSERT_EQ((*bumped)->store()->Rev(), rev + 1000);
  file_ = root_ + "/bumped.db";
  ASSERT_TRUE(Save((*bumped)->store(), file_).ok());
  ASSERT_TRUE((*bumped)->Close().ok());
  ExpectRoundTrip(rev + 1000, rev + 1000);
}

TEST_F(CrossCheckTest, ASnapshotOfAnEmptyStoreRoundTrips) {
  ASSERT_TRUE(Save(store(), file_).ok());
  ExpectRoundTrip(1, -1);
}

// A compaction at a tombstone deletes it: the last record is below the
// revision, which only the meta bucket still holds.
TEST_F(CrossCheckTest, ASnapshotOfACompactedStoreRoundTrips) {
  Fill(40);
  ASSERT_TRUE(store()->DeleteRange("k", "l").ok());
  const int64_t rev = store()->Rev();
  Compact(rev);
  ASSERT_TRUE(Save(store(), file_).ok());
  ExpectRoundTrip(rev, rev);
}

// A compaction scheduled but not finished (as a crash leaves it) is the
// compacted revision: open resumes it.
TEST_F(CrossCheckTest, ASnapshotWithACompactionToFinishRoundTrips) {
  const int64_t rev = Fill(40);
  backend::BatchTx& tx = d_->backend()->batch_tx();
  tx.Lock();
  absl::Status put =
      tx.UnsafePut(mvcc::kMetaBucket, mvcc::kScheduledCompactKey, mvcc::RevisionKey({20, 0}));
  tx.Unlock();
  ASSERT_TRUE(put.ok()) << put;
  ASSERT_TRUE(Save(store(), file_).ok());
  ExpectRoundTrip(rev, 20);
}

// Writes and compactions go on while Save runs: the trailer must still be
// what the saved content holds.
TEST_F(CrossCheckTest, SnapshotsSavedUnderWritesAndCompactionsPassTheCheck) {
  Fill(50);
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop.load(); ++i) {
      absl::StatusOr<int64_t> rev = store()->Put("w" + std::to_string(i % 50), "v");
      if (!rev.ok()) return;
      if (i % 64 == 0 && !store()->Compact(*rev - 10).ok()) return;
    }
  });
  absl::Status saved;
  std::vector<absl::Status> checked;
  for (int i = 0; i < 8 && saved.ok(); ++i) {
    saved = Save(store(), file_);
    if (saved.ok()) checked.push_back(GetStatus(file_).status());
  }
  stop = true;
  writer.join();
  ASSERT_TRUE(saved.ok()) << saved;
  for (const absl::Status& s : checked) EXPECT_TRUE(s.ok()) << s;
  EXPECT_TRUE(RestoreAndCheckLeftovers().ok());
}

}  // namespace
}  // namespace revkv::snapshot
