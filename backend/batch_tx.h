// BatchTx: the backend's single writer, after etcd's batchTxBuffered.
//
// Writes go into one open btree write transaction, held across Lock/Unlock
// cycles, and into a write buffer. Unlock publishes the write buffer to the
// read buffer, so every read transaction taken afterwards sees the writes
// although the btree commit may come later; if at least batch_limit writes
// are then pending, Unlock commits. Besides, the backend's committer thread
// commits once the oldest pending write is batch_interval old (so no write
// waits longer, as with etcd's ticker, but a batch the limit just committed
// is not followed by a near-empty one), and Commit/ForceCommit commit at
// once. A commit with nothing pending does nothing (the btree txid does not
// move).
//
// Durability: a write is durable once a commit that follows it returned OK
// (Commit, or Backend::ForceCommit/Close). If a commit fails (e.g. fsync),
// the btree keeps its previous commit and the BatchTx is failed: the writes
// since that commit are dropped (readers no longer see them) and every later
// write and commit returns the error. Nothing acknowledged is lost.
//
// Usage: Lock(); Unsafe*...; Unlock(). Unsafe* calls require the lock; the
// views they take are not kept. Commit, CommitAndStop take the lock
// themselves: do not call them while holding it.
//
// Thread-safety: thread-safe through Lock/Unlock (one holder at a time).
#ifndef REVKV_BACKEND_BATCH_TX_H_
#define REVKV_BACKEND_BATCH_TX_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backend/merged_range.h"
#include "backend/segment.h"
#include "btree/tx.h"

namespace revkv::backend {

class Backend;

class BatchTx {
 public:
  BatchTx(const BatchTx&) = delete;
  BatchTx& operator=(const BatchTx&) = delete;

  void Lock();
  // Publishes this cycle's writes to readers; commits if batch_limit writes
  // are pending (its error is kept: see above).
  void Unlock();
  // Publishes this cycle's writes now, before Unlock (requires the lock), so
  // that a caller can make them visible together with state of its own
  // under its own lock, and leave the commit Unlock may make outside it.
  void UnsafePublish() { Publish(); }

  // The writes. Each fails without effect when the backend is closed
  // (FailedPrecondition) or failed (the commit error), or the btree refuses
  // it (invalid key or value); Put/SeqPut/Delete fail with NotFound when the
  // bucket does not exist.
  absl::Status UnsafeCreateBucket(std::string_view bucket);  // OK if it exists
  absl::Status UnsafeDeleteBucket(std::string_view bucket);  // NotFound if absent
  absl::Status UnsafePut(std::string_view bucket, std::string_view key,
                         std::string_view value);
  // UnsafePut for keys written in increasing order: pages are packed full.
  absl::Status UnsafeSeqPut(std::string_view bucket, std::string_view key,
                            std::string_view value);
  // OK if the key is absent.
  absl::Status UnsafeDelete(std::string_view bucket, std::string_view key);

  // Reads through the open write transaction: sees this holder's writes.
  absl::StatusOr<KeyValues> UnsafeRange(std::string_view bucket, std::string_view key,
                                        std::string_view end, size_t limit);
  absl::Status UnsafeForEach(std::string_view bucket, const ForEachFn& fn);

  // Commits pending writes now.
  absl::Status Commit();
  // Commits and stops: every later write fails (Backend::Close uses it).
  absl::Status CommitAndStop();
  // The committer's step: commits if the oldest pending write is at least
  // `interval` old; returns how long until one will be (`interval` when
  // nothing is pending or it just committed). Takes the lock; a commit's
  // error is kept (see above).
  std::chrono::steady_clock::duration CommitIfDue(std::chrono::steady_clock::duration interval);

  // Writes since the last commit (requires the lock).
  int64_t UnsafePending() const { return pending_; }

  // Runs, the lock held, before every commit that has writes pending; what
  // it writes joins that commit, and an error fails the commit (as a btree
  // commit error would). etcd's OnPreCommitUnsafe: it lets a layer above
  // keep one meta record per commit instead of writing it per transaction.
  // Null removes the hook. Requires the lock.
  using PreCommitHook = std::function<absl::Status(BatchTx& tx)>;
  void UnsafeSetPreCommitHook(PreCommitHook hook) { pre_commit_ = std::move(hook); }

 private:
  friend class Backend;
  explicit BatchTx(Backend* backend);

  // Begins the btree write transaction if none is open.
  absl::Status EnsureTx();
  absl::Status CheckWritable() const;
  absl::StatusOr<btree::Bucket*> WriteBucket(std::string_view bucket);
  absl::Status Put(std::string_view bucket, std::string_view key, std::string_view value,
                   bool seq);
  // Publishes the write buffer (lock held).
  void Publish();
  // Counts one more pending write, noting when the first came (lock held).
  void AddPending() {
    if (pending_++ == 0) first_pending_ = std::chrono::steady_clock::now();
  }

  // Publishes, then commits pending writes (lock held). On failure the
  // BatchTx becomes failed.
  absl::Status CommitLocked();
  void Fail(const absl::Status& s);

  Backend* const backend_;
  std::mutex mu_;
  // Guarded by mu_:
  std::unique_ptr<btree::Tx> wtx_;
  int64_t pending_ = 0;
  std::chrono::steady_clock::time_point first_pending_;  // valid when pending_ > 0
  WriteBuffer buffer_;
  absl::Status error_;   // sticky: a failed commit
  PreCommitHook pre_commit_;
  bool stopped_ = false;
};

}  // namespace revkv::backend

#endif  // REVKV_BACKEND_BATCH_TX_H_
