// Backend::Defrag: compaction into a new file while writes continue.
//
//  1. (writer lock) commit pending writes; start recording every segment the
//     BatchTx publishes into the defrag log.
//  2. (no lock) CompactTo "<path>.defrag" from the latest snapshot. That
//     snapshot holds the state of step 1 plus some prefix of the log.
//  3. (no lock) catch-up rounds: take the log so far and replay it into the
//     copy; repeat while rounds are large. Replaying a delta over a state that
//     already holds a prefix of it gives the same result (segment.h).
//  4. (writer lock: the pause) commit pending writes into the old file,
//     replay the rest of the log into the copy and commit it (fsync), rename
//     the copy over <path>, fsync the directory, swap the file readers and
//     the writer use.
// Crash safety: until the rename, <path> is the old file, untouched by
// defrag; the rename is atomic and comes after the copy is complete and
// synced; Open removes a leftover "<path>.defrag".
#include <chrono>
#include <string>
#include <utility>

#include "backend/apply.h"
#include "backend/backend.h"
#include "backend/errors.h"

namespace revkv::backend {

namespace {

using Clock = std::chrono::steady_clock;

// Catch-up stops once a round replays fewer entries than this; the pause
// then replays about as many.
constexpr size_t kCatchUpEntries = 1024;
constexpr int kMaxCatchUpRounds = 8;

std::string DirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Replays `log` into `db` in one commit. Returns the entries replayed.
absl::StatusOr<size_t> Replay(btree::DB& db, const SegmentStack& log) {
  std::shared_ptr<const Segment> flat = log.Flatten();
  if (flat == nullptr) return 0;
  absl::Status s = db.Update([&](btree::Tx& tx) { return ApplySegment(tx, *flat); });
  if (!s.ok()) return s;
  return flat->entry_count();
}

}  // namespace

absl::Status Backend::Defrag(DefragStats* stats) {
  if (config_.read_only) return ErrReadOnly(config_.path);
  util::MutexLock dl(defrag_mu_);
  DefragStats st;
  const Clock::time_point start = Clock::now();
  const std::string tmp = config_.path + ".defrag";
  if (env()->FileExists(tmp)) {
    if (absl::Status s = env()->RemoveFile(tmp); !s.ok()) return s;
  }

  // 1.
  std::shared_ptr<btree::DB> old_db;
  {
    util::MutexLock l(batch_->mu_);
    if (absl::Status s = batch_->CheckWritable(); !s.ok()) return s;
    if (absl::Status s = batch_->SyncLocked(); !s.ok()) return s;
    old_db = CurrentDb();
    util::MutexLock ll(log_mu_);
    recording_ = true;
    defrag_log_.Clear();
  }
  st.size_before = old_db->FileSize();
  std::shared_ptr<btree::DB> new_db;
  auto abandon = [&](absl::Status s) ABSL_LOCKS_EXCLUDED(log_mu_) {
    {
      util::MutexLock ll(log_mu_);
      recording_ = false;
      defrag_log_.Clear();
    }
    new_db.reset();
    if (env()->FileExists(tmp)) env()->RemoveFile(tmp).IgnoreError();
    return s;
  };

  // 2.
  const btree::Options options = BtreeOptions();
  if (absl::Status s = old_db->CompactTo(tmp, options); !s.ok()) return abandon(s);
  absl::StatusOr<std::unique_ptr<btree::DB>> opened = btree::DB::Open(tmp, options);
  if (!opened.ok()) return abandon(opened.status());
  new_db = std::shared_ptr<btree::DB>(std::move(*opened));
  const Clock::time_point copied = Clock::now();
  st.copy = copied - start;

  // 3.
  for (int round = 0; round < kMaxCatchUpRounds; ++round) {
    SegmentStack taken;
    {
      util::MutexLock ll(log_mu_);
      std::swap(taken, defrag_log_);
    }
    if (taken.empty()) break;
    absl::StatusOr<size_t> n = Replay(*new_db, taken);
    if (!n.ok()) return abandon(n.status());
    st.catch_up_rounds++;
    st.replayed_entries += *n;
    if (*n < kCatchUpEntries) break;
  }
  const Clock::time_point caught_up = Clock::now();
  st.catch_up = caught_up - copied;

  // 4.
  absl::Status dir_status;
  {
    util::MutexLock l(batch_->mu_);
    const Clock::time_point pause_start = Clock::now();
    absl::Status s = batch_->CheckWritable();
    if (s.ok()) s = batch_->SyncLocked();
    if (!s.ok()) return abandon(s);
    SegmentStack rest;
    {
      util::MutexLock ll(log_mu_);
      std::swap(rest, defrag_log_);
      recording_ = false;
    }
    absl::StatusOr<size_t> n = Replay(*new_db, rest);
    if (!n.ok()) return abandon(n.status());
    st.replayed_entries += *n;
    if (absl::Status s = env()->RenameFile(tmp, config_.path); !s.ok()) return abandon(s);
    // From here <path> is the new file, complete and synced: swap even if the
    // directory sync fails, and report that failure.
    dir_status = env()->SyncDir(DirOf(config_.path));
    std::shared_ptr<SharedReadTx> old_read;
    {
      util::AdaptiveMutexLock vl(view_mu_);
      db_ = new_db;
      read_buffer_.Clear();
      std::swap(old_read, shared_read_);  // it reads the old file
    }
    st.pause = Clock::now() - pause_start;
  }
  st.size_after = new_db->FileSize();
  st.total = Clock::now() - start;
  if (stats != nullptr) *stats = st;
  return dir_status;
}

}  // namespace revkv::backend

namespace revkv::backend {

absl::Status Backend::ReplaceFile(const std::string& source) {
  if (config_.read_only) return ErrReadOnly(config_.path);
  util::MutexLock dl(defrag_mu_);
  util::MutexLock l(batch_->mu_);
  // The old file stays whole and current until the rename: a failure up to
  // there changes nothing.
  if (absl::Status s = batch_->CheckWritable(); !s.ok()) return s;
  if (absl::Status s = batch_->SyncLocked(); !s.ok()) return s;
  // (The btree's open would create a missing file.)
  if (!env()->FileExists(source)) {
    return absl::NotFoundError("backend: no store file at " + source + " to install");
  }
  absl::StatusOr<std::unique_ptr<btree::DB>> opened = btree::DB::Open(source, BtreeOptions());
  if (!opened.ok()) return opened.status();
  std::shared_ptr<btree::DB> new_db(std::move(*opened));
  if (absl::Status s = env()->RenameFile(source, config_.path); !s.ok()) return s;
  // <path> is the new file now: swap even if the directory sync fails, and
  // report that failure.
  absl::Status dir_status = env()->SyncDir(DirOf(config_.path));
  std::shared_ptr<SharedReadTx> old_read;
  {
    util::AdaptiveMutexLock vl(view_mu_);
    db_ = new_db;
    read_buffer_.Clear();
    std::swap(old_read, shared_read_);  // it reads the old file
  }
  return dir_status;
}

}  // namespace revkv::backend
