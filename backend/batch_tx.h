// BatchTx: the backend's single writer, after etcd's batchTxBuffered.
//
// Writes go into a write buffer; Unlock publishes it to the read buffer, so
// every read transaction taken afterwards sees the writes although they
// reach the btree later. Once batch_limit writes are pending, Unlock hands
// them to the committer as one batch, which applies them to a btree write
// transaction and commits it (fsync) on its own thread while the writer goes
// on: the btree work of a batch overlaps the writes of the next. A batch
// waits only when the one before it is still queued. Besides, the committer
// hands off the pending writes once the oldest is batch_interval old (so no
// write waits longer, as with etcd's ticker, but a batch the limit just
// handed off is not followed by a near-empty one), and Commit/ForceCommit
// hand off and wait. Without a committer (batch_interval <= 0) the thread
// that hands a batch off commits it itself. A commit with nothing pending
// does nothing (the btree txid does not move).
//
// Group commit (as LevelDB's writer queue, bbolt's Batch): Commit callers
// share commits. A caller's writes are in the batches handed off so far or
// pending, and the next hand-off takes every pending write, whoever makes
// it: so the caller only needs the batch numbered handed_ + 1 (handed_ if
// nothing is pending) to commit. While the committer is busy (a batch in
// flight or queued) it waits without the lock -- other callers meanwhile
// add their writes to the pending ones -- and once the committer is free
// the first waiter to retake the lock hands off the pending writes for all;
// the others find their batch handed off already. Then each waits, without
// the lock, until its batch has committed. N concurrent callers thus cost
// about one commit (one pair of fsyncs) per commit time, not N. Handing off
// only to a free committer, rather than queuing behind the batch in flight,
// lets each commit take every caller that arrived during the one before.
//
// The writer never touches the btree: each write is checked up front (the
// btree's key and value limits, the bucket's existence), so a batch fails
// only through I/O.
//
// Durability: a write is durable once a commit that follows it returned OK
// (Commit, or Backend::ForceCommit/Close). If a commit fails (e.g. fsync),
// the btree keeps its previous commit and the BatchTx is failed: the writes
// since that commit are dropped (readers no longer see them) and every later
// write and commit returns the error, as does every Commit waiting for the
// failed batch or a later one (one waiting for an earlier batch that
// committed returns OK). Nothing acknowledged is lost.
//
// Usage: Lock(); Unsafe*...; Unlock(). Unsafe* calls require the lock; the
// views they take are not kept. Commit, CommitAndStop take the lock
// themselves: do not call them while holding it.
//
// Thread-safety analysis (--config=tsa): inside the class, mu_ is the lock
// Lock/Unlock take and the members say what it and commit_mu_ guard. The
// public Lock/Unlock/Unsafe* API is not annotated (callers in mvcc/ hold the
// lock across functions, e.g. a TxnWrite from its construction to End, which
// the analysis cannot follow): Lock is exempt from it, and Unlock and each
// Unsafe* call tell it the caller holds mu_ (Mutex::AssumeHeld).
//
// Thread-safety: thread-safe through Lock/Unlock (one holder at a time).
#ifndef REVKV_BACKEND_BATCH_TX_H_
#define REVKV_BACKEND_BATCH_TX_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backend/merged_range.h"
#include "backend/segment.h"
#include "util/mutex.h"
#include "btree/tx.h"

namespace revkv::backend {

class Backend;

class BatchTx {
 public:
  BatchTx(const BatchTx&) = delete;
  BatchTx& operator=(const BatchTx&) = delete;

  // Takes mu_ for the caller, who releases it with Unlock (in another
  // function, maybe): exempt from the analysis.
  void Lock() ABSL_NO_THREAD_SAFETY_ANALYSIS;
  // Publishes this cycle's writes to readers; hands them to the committer if
  // batch_limit writes are pending (a commit's error is kept: see above).
  void Unlock();
  // Publishes this cycle's writes now, before Unlock (requires the lock), so
  // that a caller can make them visible together with state of its own
  // under its own lock, and leave the hand-off Unlock may make outside it.
  void UnsafePublish() {
    mu_.AssumeHeld();
    Publish();
  }

  // The writes. Each fails without effect when the backend is closed
  // (FailedPrecondition) or failed (the commit error), or the key, value or
  // bucket name is one the btree refuses (InvalidArgument); Put/Delete
  // fail with NotFound when the bucket does not exist.
  absl::Status UnsafeCreateBucket(std::string_view bucket);  // OK if it exists
  absl::Status UnsafeDeleteBucket(std::string_view bucket);  // NotFound if absent
  absl::Status UnsafePut(std::string_view bucket, std::string_view key,
                         std::string_view value);
  // OK if the key is absent.
  absl::Status UnsafeDelete(std::string_view bucket, std::string_view key);

  // Reads what the writer wrote: the last commit, the batches since it and
  // this holder's writes.
  absl::StatusOr<KeyValues> UnsafeRange(std::string_view bucket, std::string_view key,
                                        std::string_view end, size_t limit);
  absl::Status UnsafeForEach(std::string_view bucket, const ForEachFn& fn);

  // Commits pending writes now and waits until they are durable, sharing
  // the commit with concurrent callers (group commit, above); returns the
  // error of a failed commit that held them (or of an earlier one).
  absl::Status Commit() ABSL_LOCKS_EXCLUDED(mu_, commit_mu_);
  // Commits and stops: every later write fails (Backend::Close uses it).
  absl::Status CommitAndStop() ABSL_LOCKS_EXCLUDED(mu_, commit_mu_);
  // The committer's timer step: hands the pending writes off if the oldest
  // is at least `interval` old; returns how long until one will be
  // (`interval` when nothing is pending or it just handed off; zero when a
  // batch already waits for the committer). Takes the lock only if it is
  // free; else the holder makes the check at its Unlock.
  std::chrono::steady_clock::duration CommitIfDue(std::chrono::steady_clock::duration interval)
      ABSL_LOCKS_EXCLUDED(mu_, commit_mu_);

  // Whether a commit failed (see Durability above): lock-free, for readers
  // to check on every read.
  bool Failed() const { return failed_.load(std::memory_order_acquire); }
  // The failed commit's error, sticky; OK while none failed.
  absl::Status CommitError();

  // Writes since the last hand-off to the committer (requires the lock).
  int64_t UnsafePending() const {
    mu_.AssumeHeld();
    return pending_;
  }

  // Runs, the lock held, before each batch with writes is handed off; what
  // it writes joins that batch, and an error fails it (as a btree commit
  // error would). etcd's OnPreCommitUnsafe: it lets a layer above keep one
  // meta record per commit instead of writing it per transaction. Null
  // removes the hook. Requires the lock.
  using PreCommitHook = std::function<absl::Status(BatchTx& tx)>;
  void UnsafeSetPreCommitHook(PreCommitHook hook) {
    mu_.AssumeHeld();
    pre_commit_ = std::move(hook);
  }

 private:
  friend class Backend;
  explicit BatchTx(Backend* backend);

  // The writes one commit makes: sealed read-buffer segments, oldest first.
  struct Batch {
    std::vector<std::shared_ptr<const Segment>> segments;
    uint64_t seq = 0;
  };

  // OK, or why no write may proceed; drops this holder's writes once the
  // BatchTx has failed.
  absl::Status CheckWritable() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) ABSL_LOCKS_EXCLUDED(commit_mu_);
  // CheckWritable for a change: also ErrReadOnly on a read-only backend.
  absl::Status CheckCanWrite() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) ABSL_LOCKS_EXCLUDED(commit_mu_);
  // Whether `bucket` exists after every write so far.
  absl::StatusOr<bool> BucketExists(std::string_view bucket) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Write(std::string_view bucket, std::string_view key, std::string_view value,
                     bool tombstone) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The writer's view: the btree's last commit with the published segments
  // and this cycle's writes on top.
  struct WriterView;
  absl::Status TakeWriterView(WriterView* v) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Publishes the write buffer.
  void Publish() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void AddPending() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (pending_++ == 0) first_pending_ = std::chrono::steady_clock::now();
  }
  // Hands the pending writes (after the pre-commit hook's) to the committer
  // as one batch, or commits them here without one; returns the batch's
  // sequence number, 0 if nothing was pending.
  absl::StatusOr<uint64_t> HandOff() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_)
      ABSL_LOCKS_EXCLUDED(commit_mu_);
  // CommitIfDue once it holds mu_.
  std::chrono::steady_clock::duration CommitIfDueLocked(
      std::chrono::steady_clock::duration interval) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_)
      ABSL_LOCKS_EXCLUDED(commit_mu_);
  // Waits until batch `seq` and those before it are committed or failed;
  // returns the sticky error if batch `seq` is the failed one or after it
  // (was dropped), OK if it committed.
  absl::Status WaitCommitted(uint64_t seq) ABSL_LOCKS_EXCLUDED(commit_mu_);
  // Whether the committer thread has a batch in flight or queued: Commit
  // then waits for it to be free before it hands off.
  bool CommitterBusy() ABSL_EXCLUSIVE_LOCKS_REQUIRED(commit_mu_);
  // HandOff then WaitCommitted: every write so far is durable after an OK
  // (NewSnapshot, Hash and Defrag use it). Holds mu_ throughout, unlike
  // Commit.
  absl::Status SyncLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) ABSL_LOCKS_EXCLUDED(commit_mu_);
  // Applies and commits one batch (the committer thread, or the hand-off).
  void CommitBatch(const Batch& batch) ABSL_LOCKS_EXCLUDED(commit_mu_);
  // Marks the BatchTx failed with `s` (batch `seq` failed), drops the
  // batches not committed and stops showing their writes.
  void Fail(const absl::Status& s, uint64_t seq) ABSL_LOCKS_EXCLUDED(commit_mu_);

  // The committer thread's loop (Backend::Open starts it): commits handed-off
  // batches and runs the timer; returns once stopped with nothing queued.
  void CommitterLoop(std::chrono::steady_clock::duration interval)
      ABSL_LOCKS_EXCLUDED(mu_, commit_mu_);
  void StartCommitter() ABSL_LOCKS_EXCLUDED(commit_mu_);
  void StopCommitter() ABSL_LOCKS_EXCLUDED(commit_mu_);

  Backend* const backend_;
  util::Mutex mu_;
  // The writer's state:
  WriteBuffer buffer_ ABSL_GUARDED_BY(mu_);
  int64_t pending_ ABSL_GUARDED_BY(mu_) = 0;
  // Valid when pending_ > 0.
  std::chrono::steady_clock::time_point first_pending_ ABSL_GUARDED_BY(mu_);
  PreCommitHook pre_commit_ ABSL_GUARDED_BY(mu_);
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t handed_ ABSL_GUARDED_BY(mu_) = 0;  // the last batch handed off
  // Set by CommitIfDue when the lock was busy: Unlock then hands off if the
  // oldest pending write is batch_interval old.
  std::atomic<bool> due_check_{false};
  // Buckets known to exist (true) or not (false) after every write so far.
  std::vector<std::pair<std::string, bool>> buckets_ ABSL_GUARDED_BY(mu_);

  util::Mutex commit_mu_ ABSL_ACQUIRED_AFTER(mu_);
  // Waited on with commit_mu_ by the committer (for a batch or the stop) and
  // by a hand-off waiting for room: queued_, stop_committer_ or
  // committer_running_ changed.
  util::CondVar commit_cv_;
  // Waited on with commit_mu_ by callers waiting for a commit or for the
  // committer to be free: committed_, committing_ or committer_running_
  // changed, or a commit failed.
  util::CondVar done_cv_;
  // Handed off, not yet taken by the committer.
  std::optional<Batch> queued_ ABSL_GUARDED_BY(commit_mu_);
  // The committer took a batch and has not finished it.
  bool committing_ ABSL_GUARDED_BY(commit_mu_) = false;
  // handed_ as seen under commit_mu_ (set by HandOff, which holds both):
  // lets a Commit waiting without mu_ see that its batch was handed off.
  uint64_t last_handed_ ABSL_GUARDED_BY(commit_mu_) = 0;
  uint64_t committed_ ABSL_GUARDED_BY(commit_mu_) = 0;  // the last batch committed or failed
  bool committer_running_ ABSL_GUARDED_BY(commit_mu_) = false;
  bool stop_committer_ ABSL_GUARDED_BY(commit_mu_) = false;
  absl::Status error_ ABSL_GUARDED_BY(commit_mu_);  // sticky: a failed commit
  // The first batch the failure dropped (the failed one, or one queued
  // before it); the batches before it committed.
  uint64_t failed_seq_ ABSL_GUARDED_BY(commit_mu_) = UINT64_MAX;
  // error_ is set: read without commit_mu_ on every write.
  std::atomic<bool> failed_{false};
};

}  // namespace revkv::backend

#endif  // REVKV_BACKEND_BATCH_TX_H_
