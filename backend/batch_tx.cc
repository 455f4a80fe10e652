#include "backend/batch_tx.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "backend/apply.h"
#include "backend/backend.h"
#include "backend/errors.h"
#include "backend/shared_read_tx.h"
#include "btree/options.h"

namespace revkv::backend {

struct BatchTx::WriterView {
  std::shared_ptr<SharedReadTx> snapshot;
  std::vector<std::shared_ptr<const Segment>> segments;  // oldest first
};

BatchTx::BatchTx(Backend* backend) : backend_(backend) {}

void BatchTx::Lock() { mu_.Lock(); }

void BatchTx::Unlock() {
  mu_.AssumeHeld();
  Publish();
  const int64_t limit = backend_->config_.batch_limit;
  bool hand_off = limit > 0 && pending_ >= limit;
  if (!hand_off && pending_ > 0 && due_check_.exchange(false, std::memory_order_relaxed)) {
    hand_off = std::chrono::steady_clock::now() - first_pending_ >= backend_->config_.batch_interval;
  }
  if (hand_off) HandOff().IgnoreError();  // a failure is kept in error_
  mu_.Unlock();
}

absl::Status BatchTx::CheckCanWrite() {
  if (backend_->config_.read_only) return ErrReadOnly(backend_->config_.path);
  return CheckWritable();
}

absl::Status BatchTx::CheckWritable() {
  if (stopped_) return absl::FailedPreconditionError("backend: closed");
  if (!failed_.load(std::memory_order_acquire)) return absl::OkStatus();
  // The writes since the last good commit are gone, this holder's too.
  buffer_.Clear();
  pending_ = 0;
  buckets_.clear();
  util::MutexLock l(commit_mu_);
  return error_;
}

absl::Status BatchTx::CommitError() {
  if (!Failed()) return absl::OkStatus();
  util::MutexLock l(commit_mu_);
  return error_;
}

absl::Status BatchTx::TakeWriterView(WriterView* v) {
  std::shared_ptr<const std::vector<std::shared_ptr<const Segment>>> published;
  if (absl::Status s = backend_->WriterSnapshot(&v->snapshot, &published); !s.ok()) return s;
  v->segments = *published;
  if (!buffer_.empty()) v->segments.push_back(buffer_.Peek());
  return absl::OkStatus();
}

absl::StatusOr<bool> BatchTx::BucketExists(std::string_view bucket) {
  for (const auto& [name, exists] : buckets_) {
    if (name == bucket) return exists;
  }
  // First use since open (or a failure): the newest write to the bucket
  // decides, else the last commit. Every later change updates buckets_.
  WriterView v;
  if (absl::Status s = TakeWriterView(&v); !s.ok()) return s;
  std::optional<bool> exists;
  for (auto it = v.segments.rbegin(); it != v.segments.rend() && !exists; ++it) {
    if (const BucketRun* run = (*it)->Find(bucket); run != nullptr) exists = run->exists;
  }
  if (!exists) {
    absl::StatusOr<btree::Bucket*> tree = v.snapshot->Bucket(bucket);
    if (!tree.ok()) return tree.status();
    exists = *tree != nullptr;
  }
  buckets_.emplace_back(std::string(bucket), *exists);
  return *exists;
}

absl::Status BatchTx::UnsafeCreateBucket(std::string_view bucket) {
  mu_.AssumeHeld();
  if (absl::Status s = CheckCanWrite(); !s.ok()) return s;
  if (bucket.empty()) return absl::InvalidArgumentError("btree: bucket name is empty");
  if (bucket.size() > btree::kMaxKeySize) {
    return absl::InvalidArgumentError("btree: bucket name exceeds the key size limit");
  }
  absl::StatusOr<bool> exists = BucketExists(bucket);
  if (!exists.ok()) return exists.status();
  if (*exists) return absl::OkStatus();
  buffer_.CreateBucket(bucket);
  for (auto& [name, e] : buckets_) {
    if (name == bucket) e = true;
  }
  AddPending();
  return absl::OkStatus();
}

absl::Status BatchTx::UnsafeDeleteBucket(std::string_view bucket) {
  mu_.AssumeHeld();
  if (absl::Status s = CheckCanWrite(); !s.ok()) return s;
  absl::StatusOr<bool> exists = BucketExists(bucket);
  if (!exists.ok()) return exists.status();
  if (!*exists) {
    return absl::NotFoundError(absl::StrFormat("btree: bucket %s not found", bucket));
  }
  buffer_.DeleteBucket(bucket);
  for (auto& [name, e] : buckets_) {
    if (name == bucket) e = false;
  }
  AddPending();
  return absl::OkStatus();
}

absl::Status BatchTx::Write(std::string_view bucket, std::string_view key,
                            std::string_view value, bool tombstone) {
  if (absl::Status s = CheckCanWrite(); !s.ok()) return s;
  if (!tombstone) {
    // The btree's limits, checked now: the commit must not refuse a write
    // that was acknowledged.
    if (key.empty()) return absl::InvalidArgumentError("btree: key is empty");
    if (key.size() > btree::kMaxKeySize) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "btree: key of %d bytes exceeds the limit of %d", key.size(), btree::kMaxKeySize));
    }
    if (value.size() > btree::kMaxValueSize) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "btree: value of %d bytes exceeds the limit of %d", value.size(), btree::kMaxValueSize));
    }
  }
  absl::StatusOr<bool> exists = BucketExists(bucket);
  if (!exists.ok()) return exists.status();
  if (!*exists) {
    return absl::NotFoundError("backend: bucket \"" + std::string(bucket) + "\" does not exist");
  }
  if (tombstone) {
    buffer_.Delete(bucket, key);
  } else {
    buffer_.Put(bucket, key, value);
  }
  AddPending();
  return absl::OkStatus();
}

absl::Status BatchTx::UnsafePut(std::string_view bucket, std::string_view key,
                                std::string_view value) {
  mu_.AssumeHeld();
  return Write(bucket, key, value, /*tombstone=*/false);
}

absl::Status BatchTx::UnsafeDelete(std::string_view bucket, std::string_view key) {
  mu_.AssumeHeld();
  return Write(bucket, key, "", /*tombstone=*/true);
}

absl::StatusOr<KeyValues> BatchTx::UnsafeRange(std::string_view bucket, std::string_view key,
                                               std::string_view end, size_t limit) {
  mu_.AssumeHeld();
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  WriterView v;
  if (absl::Status s = TakeWriterView(&v); !s.ok()) return s;
  absl::StatusOr<btree::Bucket*> tree = v.snapshot->Bucket(bucket);
  if (!tree.ok()) return tree.status();
  return MergedRange(v.segments, *tree, bucket, key, end, limit);
}

absl::Status BatchTx::UnsafeForEach(std::string_view bucket, const ForEachFn& fn) {
  mu_.AssumeHeld();
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  WriterView v;
  if (absl::Status s = TakeWriterView(&v); !s.ok()) return s;
  absl::StatusOr<btree::Bucket*> tree = v.snapshot->Bucket(bucket);
  if (!tree.ok()) return tree.status();
  return MergedForEach(v.segments, *tree, bucket, fn);
}

void BatchTx::Publish() {
  if (buffer_.empty()) return;
  backend_->Publish(&buffer_);
}

absl::StatusOr<uint64_t> BatchTx::HandOff() {
  if (failed_.load(std::memory_order_acquire)) return CheckWritable();
  if (pending_ == 0) return uint64_t{0};
  if (pre_commit_ != nullptr) {
    if (absl::Status s = pre_commit_(*this); !s.ok()) {
      buffer_.Clear();
      Fail(s, handed_ + 1);  // the batch it would have handed off
      return CheckWritable();
    }
  }
  Publish();
  Batch batch;
  batch.segments = backend_->SealReadBuffer();
  batch.seq = ++handed_;
  pending_ = 0;
  commit_mu_.Lock();
  last_handed_ = handed_;
  // One batch queued at a time: the writer waits only when the committer is
  // a whole batch behind.
  while (queued_ && committer_running_) commit_cv_.Wait(commit_mu_);
  if (!committer_running_) {
    commit_mu_.Unlock();
    CommitBatch(batch);
  } else {
    queued_ = std::move(batch);
    commit_cv_.NotifyAll();
    commit_mu_.Unlock();
  }
  return handed_;
}

absl::Status BatchTx::WaitCommitted(uint64_t seq) {
  util::MutexLock l(commit_mu_);
  while (committed_ < seq) done_cv_.Wait(commit_mu_);
  // A batch before the failed one committed: its writes are durable, though
  // a later batch may have failed while this caller woke.
  return seq < failed_seq_ ? absl::OkStatus() : error_;
}

absl::Status BatchTx::SyncLocked() {
  absl::StatusOr<uint64_t> seq = HandOff();
  if (!seq.ok()) return seq.status();
  return WaitCommitted(handed_);
}

void BatchTx::CommitBatch(const Batch& batch) {
  absl::Status s;
  if (failed_.load(std::memory_order_acquire)) {
    util::MutexLock l(commit_mu_);
    committed_ = std::max(committed_, batch.seq);
    committing_ = false;
    done_cv_.NotifyAll();
    return;
  }
  std::shared_ptr<btree::DB> db = backend_->CurrentDb();
  absl::StatusOr<std::unique_ptr<btree::Tx>> tx =
      db != nullptr ? db->Begin(true) : absl::FailedPreconditionError("backend: closed");
  s = tx.status();
  for (size_t i = 0; s.ok() && i < batch.segments.size(); ++i) {
    s = ApplySegment(**tx, *batch.segments[i]);
  }
  if (s.ok()) {
    s = (*tx)->Commit();
  } else if (tx.ok()) {
    (*tx)->Rollback();
  }
  if (!s.ok()) {
    Fail(s, batch.seq);
  } else {
    backend_->commits_.fetch_add(1, std::memory_order_relaxed);
    // The btree snapshot now holds the batch: stop overlaying it.
    backend_->DropCommitted(batch.segments.size());
  }
  util::MutexLock l(commit_mu_);
  committed_ = std::max(committed_, batch.seq);
  // In the same step as committed_: a caller waiting for the committer to
  // be free (Commit) sees both.
  committing_ = false;
  done_cv_.NotifyAll();
}

void BatchTx::Fail(const absl::Status& s, uint64_t seq) {
  {
    util::MutexLock l(commit_mu_);
    if (error_.ok()) {
      error_ = absl::Status(s.code(), absl::StrCat("backend: commit failed, writes refused: ",
                                                   s.message()));
    }
    // Even after an earlier failure (a pre-commit hook's, while this batch
    // was in flight): this batch did not commit. The batch queued now is
    // dropped below.
    failed_seq_ = std::min(failed_seq_, queued_ ? std::min(seq, queued_->seq) : seq);
  }
  // Empties the read buffer and sets failed_ in one step under the view
  // lock: whoever sees failed_ (a writer refused, a caller whose Sync
  // returned the error) also sees the reset, and a publish either precedes
  // the reset or sees failed_ and drops its writes.
  backend_->FailReadBuffer(&failed_);
  util::MutexLock l(commit_mu_);
  if (queued_) {
    failed_seq_ = std::min(failed_seq_, queued_->seq);
    committed_ = std::max(committed_, queued_->seq);
    queued_.reset();
  }
  commit_cv_.NotifyAll();
  done_cv_.NotifyAll();
}

bool BatchTx::CommitterBusy() {
  return committer_running_ && (queued_ || committing_);
}

absl::Status BatchTx::Commit() {
  mu_.Lock();
  if (failed_.load(std::memory_order_acquire)) {
    absl::Status s = CheckWritable();
    mu_.Unlock();
    return s;
  }
  // This caller's writes are in the batches handed off so far or pending;
  // pending ones go whole into the next batch handed off, whoever hands it.
  const uint64_t target = handed_ + (pending_ > 0 ? 1 : 0);
  while (handed_ < target) {
    bool busy;
    {
      util::MutexLock cl(commit_mu_);
      busy = CommitterBusy();
    }
    if (!busy) {
      // Nothing queued and none in flight, and only a holder of mu_ hands
      // off: HandOff does not wait.
      absl::StatusOr<uint64_t> seq = HandOff();
      if (!seq.ok()) {
        mu_.Unlock();
        return seq.status();
      }
      break;
    }
    // The committer is busy: wait without the lock, so that other callers
    // add their writes to the pending batch meanwhile; the first of them to
    // find the committer free hands it off for all. A hand-off by anyone
    // else meanwhile (another caller, the limit, the timer) takes them too.
    mu_.Unlock();
    bool covered;
    {
      util::MutexLock cl(commit_mu_);
      while (last_handed_ < target && CommitterBusy()) done_cv_.Wait(commit_mu_);
      covered = last_handed_ >= target;
    }
    if (covered) return WaitCommitted(target);
    mu_.Lock();
  }
  mu_.Unlock();
  return WaitCommitted(target);
}

std::chrono::steady_clock::duration BatchTx::CommitIfDue(
    std::chrono::steady_clock::duration interval) {
  if (!mu_.TryLock()) {
    // A holder may be waiting in HandOff for this thread to take the queued
    // batch: never wait for the lock here. The holder checks at Unlock.
    due_check_.store(true, std::memory_order_relaxed);
    return interval;
  }
  util::MutexLock l(mu_, std::adopt_lock);
  return CommitIfDueLocked(interval);
}

std::chrono::steady_clock::duration BatchTx::CommitIfDueLocked(
    std::chrono::steady_clock::duration interval) {
  if (pending_ == 0) return interval;
  const auto age = std::chrono::steady_clock::now() - first_pending_;
  if (age < interval) return interval - age;
  {
    util::MutexLock cl(commit_mu_);
    // The committer calls this: it must not wait for itself.
    if (queued_) return std::chrono::steady_clock::duration::zero();
  }
  HandOff().IgnoreError();  // a failure is kept in error_
  return interval;
}

absl::Status BatchTx::CommitAndStop() {
  util::MutexLock l(mu_);
  absl::Status s = SyncLocked();
  stopped_ = true;
  return s;
}

void BatchTx::StartCommitter() {
  util::MutexLock l(commit_mu_);
  committer_running_ = true;
}

void BatchTx::StopCommitter() {
  util::MutexLock l(commit_mu_);
  stop_committer_ = true;
  commit_cv_.NotifyAll();
}

void BatchTx::CommitterLoop(std::chrono::steady_clock::duration interval) {
  commit_mu_.Lock();
  auto deadline = std::chrono::steady_clock::now() + interval;
  while (true) {
    if (queued_) {
      Batch batch = std::move(*queued_);
      queued_.reset();
      committing_ = true;  // CommitBatch clears it
      commit_cv_.NotifyAll();  // room for the next batch
      commit_mu_.Unlock();
      CommitBatch(batch);
      commit_mu_.Lock();
      continue;
    }
    if (stop_committer_) break;
    // A timer, not synchronisation: wakes for a batch, at stop, or when the
    // oldest pending write may be due.
    bool timed_out = false;
    while (!queued_ && !stop_committer_ && !timed_out) {
      timed_out = commit_cv_.WaitUntil(commit_mu_, deadline) == std::cv_status::timeout;
    }
    if (queued_ || stop_committer_) continue;
    commit_mu_.Unlock();
    const auto wait = CommitIfDue(interval);
    commit_mu_.Lock();
    deadline = std::chrono::steady_clock::now() + wait;
  }
  committer_running_ = false;
  commit_cv_.NotifyAll();  // a writer waiting for room commits itself now
  done_cv_.NotifyAll();    // so does a Commit waiting for the committer
  commit_mu_.Unlock();
}

}  // namespace revkv::backend
