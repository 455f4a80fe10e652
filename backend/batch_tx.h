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
// The writer never touches the btree: each write is checked up front (the
// btree's key and value limits, the bucket's existence), so a batch fails
// only through I/O.
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

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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
  // Publishes this cycle's writes to readers; hands them to the committer if
  // batch_limit writes are pending (a commit's error is kept: see above).
  void Unlock();
  // Publishes this cycle's writes now, before Unlock (requires the lock), so
  // that a caller can make them visible together with state of its own
  // under its own lock, and leave the hand-off Unlock may make outside it.
  void UnsafePublish() { Publish(); }

  // The writes. Each fails without effect when the backend is closed
  // (FailedPrecondition) or failed (the commit error), or the key, value or
  // bucket name is one the btree refuses (InvalidArgument); Put/SeqPut/Delete
  // fail with NotFound when the bucket does not exist.
  absl::Status UnsafeCreateBucket(std::string_view bucket);  // OK if it exists
  absl::Status UnsafeDeleteBucket(std::string_view bucket);  // NotFound if absent
  absl::Status UnsafePut(std::string_view bucket, std::string_view key,
                         std::string_view value);
  // UnsafePut for keys written in increasing order (the commit packs the
  // pages of such appends full).
  absl::Status UnsafeSeqPut(std::string_view bucket, std::string_view key,
                            std::string_view value);
  // OK if the key is absent.
  absl::Status UnsafeDelete(std::string_view bucket, std::string_view key);

  // Reads what the writer wrote: the last commit, the batches since it and
  // this holder's writes.
  absl::StatusOr<KeyValues> UnsafeRange(std::string_view bucket, std::string_view key,
                                        std::string_view end, size_t limit);
  absl::Status UnsafeForEach(std::string_view bucket, const ForEachFn& fn);

  // Commits pending writes now and waits until they are durable.
  absl::Status Commit();
  // Commits and stops: every later write fails (Backend::Close uses it).
  absl::Status CommitAndStop();
  // The committer's timer step: hands the pending writes off if the oldest
  // is at least `interval` old; returns how long until one will be
  // (`interval` when nothing is pending or it just handed off; zero when a
  // batch already waits for the committer). Takes the lock only if it is
  // free; else the holder makes the check at its Unlock.
  std::chrono::steady_clock::duration CommitIfDue(std::chrono::steady_clock::duration interval);

  // Whether a commit failed (see Durability above): lock-free, for readers
  // to check on every read.
  bool Failed() const { return failed_.load(std::memory_order_acquire); }
  // The failed commit's error, sticky; OK while none failed.
  absl::Status CommitError();

  // Writes since the last hand-off to the committer (requires the lock).
  int64_t UnsafePending() const { return pending_; }

  // Runs, the lock held, before each batch with writes is handed off; what
  // it writes joins that batch, and an error fails it (as a btree commit
  // error would). etcd's OnPreCommitUnsafe: it lets a layer above keep one
  // meta record per commit instead of writing it per transaction. Null
  // removes the hook. Requires the lock.
  using PreCommitHook = std::function<absl::Status(BatchTx& tx)>;
  void UnsafeSetPreCommitHook(PreCommitHook hook) { pre_commit_ = std::move(hook); }

 private:
  friend class Backend;
  explicit BatchTx(Backend* backend);

  // The writes one commit makes: sealed read-buffer segments, oldest first.
  struct Batch {
    std::vector<std::shared_ptr<const Segment>> segments;
    uint64_t seq = 0;
  };

  // OK, or why no write may proceed; drops this holder's writes once the
  // BatchTx has failed (lock held).
  absl::Status CheckWritable();
  // Whether `bucket` exists after every write so far (lock held).
  absl::StatusOr<bool> BucketExists(std::string_view bucket);
  absl::Status Write(std::string_view bucket, std::string_view key, std::string_view value,
                     bool tombstone);
  // The writer's view: the btree's last commit with the published segments
  // and this cycle's writes on top (lock held).
  struct WriterView;
  absl::Status TakeWriterView(WriterView* v);
  // Publishes the write buffer (lock held).
  void Publish();
  void AddPending() {
    if (pending_++ == 0) first_pending_ = std::chrono::steady_clock::now();
  }
  // Hands the pending writes (after the pre-commit hook's) to the committer
  // as one batch, or commits them here without one; returns the batch's
  // sequence number, 0 if nothing was pending (lock held).
  absl::StatusOr<uint64_t> HandOff();
  // Waits until batch `seq` and those before it are committed or failed;
  // returns the sticky error.
  absl::Status WaitCommitted(uint64_t seq);
  // HandOff then WaitCommitted: every write so far is durable after an OK
  // (lock held; NewSnapshot, Hash and Defrag use it).
  absl::Status SyncLocked();
  // Applies and commits one batch (the committer thread, or the hand-off).
  void CommitBatch(const Batch& batch);
  // Marks the BatchTx failed with `s`, drops the batches not committed and
  // stops showing their writes.
  void Fail(const absl::Status& s);

  // The committer thread's loop (Backend::Open starts it): commits handed-off
  // batches and runs the timer; returns once stopped with nothing queued.
  void CommitterLoop(std::chrono::steady_clock::duration interval);
  void StartCommitter();
  void StopCommitter();

  Backend* const backend_;
  std::mutex mu_;
  // Guarded by mu_ (the writer's state):
  WriteBuffer buffer_;
  int64_t pending_ = 0;
  std::chrono::steady_clock::time_point first_pending_;  // valid when pending_ > 0
  PreCommitHook pre_commit_;
  bool stopped_ = false;
  uint64_t handed_ = 0;  // the last batch handed off
  // Set by CommitIfDue when the lock was busy: Unlock then hands off if the
  // oldest pending write is batch_interval old.
  std::atomic<bool> due_check_{false};
  // Buckets known to exist (true) or not (false) after every write so far.
  std::vector<std::pair<std::string, bool>> buckets_;

  // Lock order: mu_ before commit_mu_.
  std::mutex commit_mu_;
  std::condition_variable commit_cv_;
  // Guarded by commit_mu_:
  std::optional<Batch> queued_;   // handed off, not yet taken by the committer
  uint64_t committed_ = 0;        // the last batch committed or failed
  bool committer_running_ = false;
  bool stop_committer_ = false;
  absl::Status error_;            // sticky: a failed commit
  // error_ is set: read without commit_mu_ on every write.
  std::atomic<bool> failed_{false};
};

}  // namespace revkv::backend

#endif  // REVKV_BACKEND_BATCH_TX_H_
