// revkv::DB: the front door. Opens a revkv store (a data directory laid out
// like etcd's, or a single file), owns its backend and its mvcc store, and
// closes them in the right order.
//
//   absl::StatusOr<std::unique_ptr<revkv::DB>> db = revkv::DB::Open(dir, {});
//   (*db)->Put("k", "v");     // returns the revision of the change
//   (*db)->Sync();            // durable from here on
//   (*db)->Range("k", "", {.rev = 2});
//
// Durability: a change is visible to reads as soon as the call returns and
// durable once a later Sync() returns (or the background committer has
// committed it, within Options::batch_interval, or Close() returns).
// Concurrent Sync() callers share one commit and one fsync.
//
// One process at a time may write: a read-write open takes an exclusive
// lock on the file, a read-only open a shared one, so read-only opens run
// side by side and exclude writers. An open that finds the lock held waits
// up to Options::lock_timeout, then fails with an error recognised by
// IsLocked() that names the holder's pid when /proc tells it.
//
// Lifetime: views returned by reads (the strings of mvcc::KeyValue) are
// copies the caller owns. Transactions (Read(), Write()) must end before
// Close(); the DB must outlive them.
//
// Thread-safety: thread-safe, except Close(), which no other call may race.
#ifndef REVKV_REVKV_DB_H_
#define REVKV_REVKV_DB_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backend/backend.h"
#include "btree/env.h"
#include "lease/lessor.h"
#include "mvcc/store.h"
#include "mvcc/watchable_store.h"

namespace revkv {

struct Options {
  // Create the store when there is none. Without it (or when read_only),
  // opening a directory or file that holds no store fails with NotFound,
  // recognised by IsNoStore().
  bool create_if_missing = true;
  // Open with a shared lock; every write fails (backend::IsReadOnly), and
  // nothing is written, not even on Close.
  bool read_only = false;
  // How long an open waits for a lock another handle (this process or
  // another) holds; zero fails at once.
  std::chrono::milliseconds lock_timeout{0};
  // The background committer commits a change at most this long after it
  // was made (etcd's batch interval). Must be positive: the committer
  // always runs.
  std::chrono::milliseconds batch_interval{100};
  // ... or as soon as this many changes are pending (etcd's batch limit).
  int64_t batch_limit = 10000;
  // Address space mapped at open (0: the btree's default).
  uint64_t initial_mmap_size = 0;
  // Skip fsync: a crash may lose acknowledged changes, never the file.
  bool no_sync = false;
  // Open the commit before a damaged newest one instead of failing with
  // DataLoss; open_notes() then says what was lost.
  bool allow_rollback = false;
  // File layer (tests inject faults with it); nullptr: the default. Not
  // owned; must outlive the DB.
  btree::Env* env = nullptr;
  // Keep a key-ordered copy of the live records that ranges read in
  // sequence, rebuilt in the background when writes pause (derived data:
  // mvcc/key_order_base.h). Off, ranges read every record by revision, and
  // the file is smaller by about one copy of the live values.
  bool key_order_base = true;
  // The lessor's minimum TTL, retry interval and clock (tests inject a
  // lease::FakeClock).
  lease::LessorOptions lease;
};

// DIR/member/snap/db: where Open keeps a data directory's file.
std::string DataFilePath(std::string_view dir);

// Whether `s` is the error of an open that found no store to open.
bool IsNoStore(const absl::Status& s);
// Whether `s` is the error of an open that found the store locked.
bool IsLocked(const absl::Status& s);

class DB {
 public:
  // Opens the store of data directory `dir` (DataFilePath(dir)), creating
  // the directory and the store if options allow.
  static absl::StatusOr<std::unique_ptr<DB>> Open(std::string_view dir, const Options& options);
  // Opens the store held in the single file `path` (libkv's and bbolt's
  // way), creating its parent directory and the file if options allow.
  static absl::StatusOr<std::unique_ptr<DB>> OpenFile(std::string_view path,
                                                      const Options& options);
  DB(const DB&) = delete;
  DB& operator=(const DB&) = delete;
  // Closes, ignoring the error: call Close() to see it.
  ~DB();

  // One-operation transactions (see mvcc::Store for their semantics and
  // errors). Put returns the revision of the change; DeleteRange the number
  // deleted and the revision after.
  absl::StatusOr<int64_t> Put(std::string_view key, std::string_view value,
                              int64_t lease = 0) {
    return store_->Put(key, value, lease);
  }
  absl::StatusOr<mvcc::RangeResult> Range(std::string_view key, std::string_view end,
                                          const mvcc::RangeOptions& options = {}) {
    return store_->Range(key, end, options);
  }
  absl::StatusOr<std::pair<int64_t, int64_t>> DeleteRange(std::string_view key,
                                                          std::string_view end) {
    return store_->DeleteRange(key, end);
  }
  // A read transaction at the current revision: answers the same every
  // time, or ErrCompacted once a compaction passes its revision.
  absl::StatusOr<std::unique_ptr<mvcc::TxnRead>> Read() { return store_->Read(); }
  // The write transaction; waits for the current one to end.
  absl::StatusOr<std::unique_ptr<mvcc::TxnWrite>> Write() { return store_->Write(); }
  // Compacts at rev; old records go in the background (WaitCompaction).
  absl::Status Compact(int64_t rev) { return store_->Compact(rev); }
  absl::Status WaitCompaction() { return store_->WaitCompaction(); }
  // etcd's HashKV at rev (0: the current revision).
  absl::StatusOr<mvcc::HashResult> HashKV(int64_t rev) { return store_->HashByRev(rev); }
  int64_t Rev() { return store_->Rev(); }
  int64_t CompactRev() { return store_->CompactRev(); }

  // A stream of watches on this DB (mvcc/watch_stream.h: etcd 3.4's watch
  // semantics). A read-only DB watches too: nothing is written, so its
  // watchers see the history from their start revision (catch-up) and
  // progress, then wait. Close() closes every stream: Next returns nullopt;
  // after Close a new stream is born closed. A stream may outlive the DB.
  std::unique_ptr<mvcc::WatchStream> NewWatchStream() { return watch_->NewStream(); }
  // How many watchers are synced, catching up, or set aside (victims).
  mvcc::WatchableStore::Stats WatchStats() { return watch_->stats(); }

  // The leases (lease/lessor.h: etcd 3.4's): a put naming a lease attaches
  // the key to it, and is refused (lease::IsLeaseNotFound) if there is no
  // such lease. Primary from Open (a read-only DB's is not: no expiry).
  // Close() closes it.
  lease::Lessor* lessor() { return lessor_.get(); }

  // Replaces the store's data with the store file at `file` (a later state
  // of this store's history, as a Raft leader's snapshot is; verify it
  // first: snapshot::Restore) while reads, watches and leases go on, as
  // etcd applies a snapshot: the file is renamed over this DB's
  // (Backend::ReplaceFile), then the index, revisions and leases are
  // rebuilt from it (mvcc::Store::Reload), and every watcher owed a
  // revision reads it back (one whose start the new data compacted is
  // cancelled with the compacted revision). A read that straddles it
  // answers mvcc::ErrRestored (Range at the current revision retries).
  // Writers wait for it. On failure before the rename nothing changed;
  // after it, the store is failed (every call answers the error).
  absl::Status InstallSnapshot(const std::string& file);
  // Makes every change made before the call durable; concurrent callers
  // share one commit. A no-op on a read-only DB.
  absl::Status Sync();
  // Rewrites the file without its free pages, while reads and writes go on.
  absl::Status Defrag(backend::DefragStats* stats = nullptr) { return backend_->Defrag(stats); }

  // Finishes background compaction, closes the store, commits and closes
  // the file: everything done before is durable after it. Idempotent;
  // returns the first error. Later calls answer mvcc::ErrClosed (or the
  // backend's "closed").
  absl::Status Close();

  // What opening found and worked around, one line each, for the user (the
  // library never prints): a damaged meta page, a rolled-back commit, a
  // rejected index checkpoint. Empty for a healthy store.
  const std::vector<std::string>& open_notes() const { return open_notes_; }
  // The data file's path.
  const std::string& path() const { return backend_->config().path; }
  bool read_only() const { return backend_->config().read_only; }

  // The layers beneath, for tools (snapshot, check, the CLI's admin
  // commands) that need more than the front door offers.
  mvcc::Store* store() { return store_.get(); }
  backend::Backend* backend() { return backend_.get(); }

 private:
  DB() = default;
  static absl::StatusOr<std::unique_ptr<DB>> OpenPath(std::string path, const Options& options);

  // Declared in this order so that the store, which uses the backend, is
  // destroyed first.
  std::unique_ptr<backend::Backend> backend_;
  std::unique_ptr<mvcc::Store> store_;
  // After the store: destroyed before it, as it is the store's lease hook.
  std::unique_ptr<lease::Lessor> lessor_;
  // Shared with the streams, which keep it (closed) after the DB is gone.
  std::shared_ptr<mvcc::WatchableStore> watch_;
  std::vector<std::string> open_notes_;
  bool closed_ = false;
};

}  // namespace revkv

#endif  // REVKV_REVKV_DB_H_
