// Backend: etcd's mvcc/backend over a btree file -- batched writes, reads
// that see applied writes before they are committed, snapshots, hash and
// defrag.
//
// Writes go through the one BatchTx (see batch_tx.h). Readers take
// ConcurrentReadTx views (see read_tx.h): the btree's last commit overlaid
// with the read buffer, the writes unlocked since that commit, held as a
// SegmentStack of immutable segments. A commit publishes the new btree
// snapshot and drops the segments of its batch atomically with respect to
// new views (the btree commit happens first, then the segments go under the
// view lock; a view taken in between reads them over a snapshot that already
// holds them, which reads the same), so no view misses or double-counts a
// write.
//
// Locks (mvcc/README.md lists them with mvcc's in one order table), in
// acquisition order: close_mu_ (Close); defrag_mu_ (Defrag,
// Close); the BatchTx lock (the writer; the committer never waits for it);
// the BatchTx's commit lock; view_mu_ (a plain mutex, held briefly: by view
// creation, for publishing a segment, a buffer reset or the swap of the file;
// glibc's rwlocks could starve the writer); log_mu_ (the defrag log). Readers
// hold view_mu_ only for two pointer copies and a flag, the writer for an
// append to the newest segment or the install of a push whose merges it
// computed outside the lock: nobody waits for a commit or a merge there. The members say which lock guards them (ABSL_GUARDED_BY, checked
// by clang's thread-safety analysis: --config=tsa).
//
// Close commits pending writes, stops the committer and drops the backend's
// reference to the file. Read transactions and snapshots still open keep
// working on their view and keep the file open until they end; taking new
// ones, and every write, then fails with FailedPrecondition.
//
// Thread-safety: thread-safe. Do not call Close, ForceCommit, NewSnapshot,
// Hash, EtcdHash or Defrag while holding the BatchTx lock (they take it).
#ifndef REVKV_BACKEND_BACKEND_H_
#define REVKV_BACKEND_BACKEND_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "util/mutex.h"  // util::AdaptiveMutex, which mvcc/store.h names
#include "backend/batch_tx.h"
#include "backend/config.h"
#include "backend/read_tx.h"
#include "backend/segment_stack.h"
#include "backend/shared_read_tx.h"
#include "backend/snapshot.h"
#include "util/mutex.h"
#include "btree/db.h"

namespace revkv::backend {

// Hash skips the (bucket, key) pairs for which this returns true.
using HashIgnoreFn = std::function<bool(std::string_view bucket, std::string_view key)>;

// What one Defrag did and how long it took.
struct DefragStats {
  std::chrono::nanoseconds total{0};
  std::chrono::nanoseconds copy{0};      // CompactTo, writers running
  std::chrono::nanoseconds catch_up{0};  // replaying the log, writers running
  // Writers (and the committer) blocked: the final replay, rename and swap.
  std::chrono::nanoseconds pause{0};
  int catch_up_rounds = 0;
  uint64_t replayed_entries = 0;  // entries replayed into the copy, all rounds
  uint64_t size_before = 0;       // file bytes
  uint64_t size_after = 0;
};

// etcd's two figures of the database's size (Backend::Sizes).
struct DbSizes {
  uint64_t size = 0;    // Backend::Size()
  uint64_t in_use = 0;  // <= size
};

class Backend {
 public:
  // Opens or creates the file at config.path and starts the committer.
  // Removes the leftover of a defrag that crashed before its swap.
  static absl::StatusOr<std::unique_ptr<Backend>> Open(const BackendConfig& config);
  // Close()s (dropping its error), then removes a NewTmpBackend directory.
  ~Backend();
  Backend(const Backend&) = delete;
  Backend& operator=(const Backend&) = delete;

  // Empty, or what the btree's open set aside (btree::DB::open_note): a
  // damaged meta page, or under allow_rollback a lost newest commit.
  const std::string& open_note() const { return open_note_; }

  // The writer.
  BatchTx& batch_tx() { return *batch_; }
  // A consistent view that never waits for writes or commits (read_tx.h
  // states its cost). FailedPrecondition once closed.
  absl::StatusOr<std::unique_ptr<ConcurrentReadTx>> NewConcurrentReadTx()
      ABSL_LOCKS_EXCLUDED(view_mu_);

  // Commits pending writes, then returns a snapshot of the whole database as
  // of that moment. Streaming it never blocks commits or writes; it pins the
  // snapshot's pages until closed.
  absl::StatusOr<std::unique_ptr<Snapshot>> NewSnapshot() ABSL_LOCKS_EXCLUDED(batch_->mu_);

  // XXH3-64 over every bucket name, key and value in order, skipping the
  // pairs `ignores` names (null: none), and whole buckets for which it
  // names the empty key (no entry has one). Encoding: per bucket 'B' then the
  // name; per entry 'K', key, value; every string preceded by its length as
  // 4 bytes little-endian. Independent of page layout and history: pending
  // writes are committed first, then a btree snapshot is hashed (writes go
  // on meanwhile). O(data).
  absl::StatusOr<uint64_t> Hash(const HashIgnoreFn& ignores = nullptr)
      ABSL_LOCKS_EXCLUDED(batch_->mu_);
  // etcd 3.4's backend.Hash, what its Maintenance.Hash answers: CRC-32C
  // (Castagnoli) over, for each bucket in name order, its name, then for
  // each entry in key order its key and value, written back to back with no
  // framing. A nested bucket's entry adds its key alone (bbolt's ForEach
  // gives etcd a nil value for one). Pairs `ignores` names are skipped, as
  // etcd's ignore set; a bucket for which it names the empty key is left out
  // whole, name included (etcd has no such notion: it is how revkv leaves out
  // buckets an etcd never holds; no entry has an empty key). Same snapshot
  // rules and cost as Hash.
  absl::StatusOr<uint32_t> EtcdHash(const HashIgnoreFn& ignores = nullptr)
      ABSL_LOCKS_EXCLUDED(batch_->mu_);

  // The database's size as etcd 3.4 counts it (backend.Size(), what its
  // quota, Status.dbSize and `endpoint status` use): the btree's high-water
  // mark as of the last commit, every page ever allocated, free ones
  // included. Writes not yet committed do not count. It grows by whole pages
  // and never shrinks except by Defrag. Below FileSize(), which runs ahead
  // of it. O(1); 0 once closed.
  uint64_t Size() ABSL_LOCKS_EXCLUDED(view_mu_);
  // Size() and etcd's dbSizeInUse (Size() less the free and pending pages)
  // as of one commit, so that in_use <= size. O(1); FailedPrecondition once
  // closed.
  absl::StatusOr<DbSizes> Sizes() ABSL_LOCKS_EXCLUDED(view_mu_);
  // The data file's length: what it takes on disk. Commits grow the file
  // ahead of Size() in steps of at least 1 MiB, so this is the figure for
  // disk use, not for the quota. One fstat; 0 once closed.
  uint64_t FileSize() ABSL_LOCKS_EXCLUDED(view_mu_);
  // ConcurrentReadTx (and ReadTx views) open now.
  int64_t OpenReadTxN() const { return open_reads_->load(std::memory_order_relaxed); }
  // Txid of the current file's last commit (restarts low after a Defrag).
  btree::txid_t LastTxid() ABSL_LOCKS_EXCLUDED(view_mu_);
  // Commits made since open (across defrags).
  uint64_t CommitCount() const { return commits_.load(std::memory_order_relaxed); }

  // Compacts into "<path>.defrag" from a snapshot while writes continue,
  // replays the writes made meanwhile (recorded by the BatchTx) into it, and
  // swaps it in with an fsynced rename. Writers pause only for the last
  // replay round, the rename and the swap. Readers never pause; those open
  // keep their view of the old file. A crash at any moment leaves either the
  // old file or the new one at `path`, each complete with every commit
  // acknowledged before the crash. One defrag at a time.
  absl::Status Defrag(DefragStats* stats = nullptr)
      ABSL_LOCKS_EXCLUDED(defrag_mu_, batch_->mu_);

  // Installs the btree file at `source` (a complete store: a verified
  // snapshot, say) as this backend's file: commits pending writes into the
  // old file, opens `source` (failing, with the old file in place, if it
  // does not open as a btree file), renames it over `path` with an fsynced
  // directory, and swaps it in for new views and the writer. Views and
  // snapshots open keep reading the old file until they end. A crash leaves
  // either file at `path`, complete. Not on a read-only backend; one at a
  // time with Defrag.
  absl::Status ReplaceFile(const std::string& source) ABSL_LOCKS_EXCLUDED(defrag_mu_, batch_->mu_);

  // Commits pending writes now and waits until they are durable; concurrent
  // callers share one commit (BatchTx::Commit, group commit).
  absl::Status ForceCommit() ABSL_LOCKS_EXCLUDED(batch_->mu_);
  // See the top of the file. Idempotent; returns the final commit's error.
  absl::Status Close() ABSL_LOCKS_EXCLUDED(close_mu_, defrag_mu_, batch_->mu_);

  const BackendConfig& config() const { return config_; }

 private:
  friend class BatchTx;
  friend absl::StatusOr<std::unique_ptr<Backend>> NewTmpBackend(BackendConfig config);

  explicit Backend(const BackendConfig& config);
  btree::Options BtreeOptions() const;
  btree::Env* env() const { return config_.env != nullptr ? config_.env : btree::Env::Default(); }
  // Called by the BatchTx, its lock held (which the analysis cannot state:
  // the BatchTx reaches it through its backend_ pointer):
  // Makes the writes of `buffer` visible to new views (drops them once the
  // BatchTx has failed); empties it.
  void Publish(WriteBuffer* buffer) ABSL_LOCKS_EXCLUDED(view_mu_, log_mu_);
  // Seals the read buffer's unsealed segments (a batch for the committer)
  // and returns them.
  std::vector<std::shared_ptr<const Segment>> SealReadBuffer() ABSL_LOCKS_EXCLUDED(view_mu_);
  // The btree snapshot and published segments a view would take, for the
  // writer's own reads (which need not seal or share the newest segment).
  absl::Status WriterSnapshot(
      std::shared_ptr<SharedReadTx>* snapshot,
      std::shared_ptr<const std::vector<std::shared_ptr<const Segment>>>* segments)
      ABSL_LOCKS_EXCLUDED(view_mu_);
  // Called by the committer:
  // After a batch of `n` sealed segments committed: drops them, and new
  // views read the btree's newest snapshot.
  void DropCommitted(size_t n) ABSL_LOCKS_EXCLUDED(view_mu_);
  // After a failed commit: empties the read buffer, then sets *failed, both
  // under view_mu_; new views read the btree's last good snapshot.
  void FailReadBuffer(std::atomic<bool>* failed) ABSL_LOCKS_EXCLUDED(view_mu_);
  // Hash and EtcdHash: commits pending writes, then walks one btree
  // snapshot, calling on_bucket for each bucket not left out whole and
  // on_entry for each of its entries not ignored, in order.
  absl::Status WalkForHash(
      const HashIgnoreFn& ignores, const std::function<void(std::string_view name)>& on_bucket,
      const std::function<void(std::string_view key, std::string_view value, bool is_bucket)>&
          on_entry) ABSL_LOCKS_EXCLUDED(batch_->mu_);
  // The current file (null once closed).
  std::shared_ptr<btree::DB> CurrentDb() ABSL_LOCKS_EXCLUDED(view_mu_);
  // Begins shared_read_ if no view since the last commit has.
  absl::Status EnsureSharedRead() ABSL_EXCLUSIVE_LOCKS_REQUIRED(view_mu_);

  const BackendConfig config_;
  std::unique_ptr<BatchTx> batch_;

  // Short sections, many threads: spins before it sleeps. db_ changes only
  // with the BatchTx lock held too (Defrag, Close); the committer changes the
  // other two as well (it drops committed segments without the BatchTx lock).
  util::AdaptiveMutex view_mu_ ABSL_ACQUIRED_AFTER(batch_->mu_, batch_->commit_mu_);
  std::string open_note_;  // set by Open only
  std::shared_ptr<btree::DB> db_ ABSL_GUARDED_BY(view_mu_);
  SegmentStack read_buffer_ ABSL_GUARDED_BY(view_mu_);
  // The btree read transaction views share until the next commit (or swap
  // of the file): begun by the first view after one, dropped by the next.
  std::shared_ptr<SharedReadTx> shared_read_ ABSL_GUARDED_BY(view_mu_);

  // The defrag log: segments published while a defrag copies.
  util::Mutex log_mu_ ABSL_ACQUIRED_AFTER(view_mu_);
  // Set while a defrag records (under log_mu_); atomic so that every
  // Publish need not take log_mu_ to read it.
  std::atomic<bool> recording_{false};
  SegmentStack defrag_log_ ABSL_GUARDED_BY(log_mu_);

  util::Mutex close_mu_;
  bool closed_ ABSL_GUARDED_BY(close_mu_) = false;
  // One Defrag at a time; Close waits for it.
  util::Mutex defrag_mu_ ABSL_ACQUIRED_AFTER(close_mu_) ABSL_ACQUIRED_BEFORE(batch_->mu_);

  // Runs BatchTx::CommitterLoop. Started by Open before the Backend is
  // shared, joined by Close under close_mu_.
  std::thread committer_;

  std::shared_ptr<std::atomic<int64_t>> open_reads_;
  std::atomic<uint64_t> commits_{0};
  std::string owned_dir_;  // removed on destruction (NewTmpBackend)
};

// Opens a Backend at `path` with DefaultBackendConfig().
absl::StatusOr<std::unique_ptr<Backend>> NewDefaultBackend(const std::string& path);

// Opens a Backend in a new temporary directory (under $TEST_TMPDIR, else
// $TMPDIR, else /tmp), removed with its contents when the Backend is
// destroyed. config.path is ignored.
absl::StatusOr<std::unique_ptr<Backend>> NewTmpBackend(
    BackendConfig config = DefaultBackendConfig());

}  // namespace revkv::backend

#endif  // REVKV_BACKEND_BACKEND_H_
