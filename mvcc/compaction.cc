// Compaction: the index at once, the key bucket in the background in bounded
// batches (etcd's kvstore_compaction.go), with scheduledCompactRev written
// before and finishedCompactRev after, so a crash resumes on open.
#include "mvcc/store.h"

namespace revkv::mvcc {

absl::Status Store::Compact(int64_t rev) {
  // One compaction at a time, so that they are scheduled, applied to the
  // index and queued for deletion in one order, and finishedCompactRev only
  // grows.
  util::MutexLock order(compact_order_mu_);
  if (absl::Status s = ScheduleCompaction(rev); !s.ok()) return s;
  // The index compacts in slices, so reads and writes go on meanwhile.
  RevisionSet keep = index_.Compact(rev);
  {
    util::MutexLock l(compact_mu_);
    compact_queue_.push_back(CompactionJob{rev, std::move(keep)});
  }
  compact_cv_.NotifyAll();
  return absl::OkStatus();
}

absl::Status Store::ScheduleCompaction(int64_t rev) {
  // Writers are excluded while the compaction is scheduled (etcd takes
  // s.mu), so no write lands between the checks and the durable record.
  util::MutexLock w(write_mu_);
  {
    util::AdaptiveMutexLock l(rev_mu_);
    if (closed_) return ErrClosed();
    if (!failed_.ok()) return failed_;
    if (rev <= compact_main_rev_) return ErrCompacted();
    if (rev > current_rev_) return ErrFutureRev();
  }
  if (backend_->config().read_only) return backend::ErrReadOnly(backend_->config().path);
  backend::BatchTx* tx = &backend_->batch_tx();
  tx->Lock();
  absl::Status s = tx->UnsafePut(kMetaBucket, kScheduledCompactKey, RevisionKey({rev, 0}));
  tx->Unlock();
  if (s.ok()) s = backend_->ForceCommit();
  if (!s.ok()) {
    Fail(s);
    return s;
  }
  // Only once the schedule is durable: reads below rev are refused from
  // now on, and a crash from now on resumes the compaction at open.
  util::AdaptiveMutexLock l(rev_mu_);
  compact_main_rev_.store(rev, std::memory_order_release);
  return absl::OkStatus();
}

absl::Status Store::WaitCompaction() {
  util::MutexLock l(compact_mu_);
  while (!stop_ && (!compact_queue_.empty() || compacting_)) compact_cv_.Wait(compact_mu_);
  return compact_error_;
}

void Store::CompactionLoop() {
  compact_mu_.Lock();
  while (true) {
    while (!stop_ && compact_queue_.empty()) compact_cv_.Wait(compact_mu_);
    if (stop_) break;
    CompactionJob job = std::move(compact_queue_.front());
    compact_queue_.pop_front();
    compacting_ = true;
    compact_mu_.Unlock();
    absl::Status s = DeleteCompacted(job.rev, job.keep);
    compact_mu_.Lock();
    compacting_ = false;
    if (!s.ok() && compact_error_.ok()) compact_error_ = s;
    compact_cv_.NotifyAll();
  }
  compact_mu_.Unlock();
}

// Deletes the records at or below rev that the index no longer needs, a batch
// per commit, then records rev as finished.
absl::Status Store::DeleteCompacted(int64_t rev, const RevisionSet& keep) {
  // The 8-byte main revision rev+1, computed unsigned: rev may be INT64_MAX.
  std::string end(8, '\0');
  for (int i = 0; i < 8; ++i) end[size_t(i)] = char((uint64_t(rev) + 1) >> (56 - 8 * i));
  std::string last = RevisionKey({0, 0});
  const size_t batch = size_t(options_.compaction_batch);
  while (true) {
    {
      util::MutexLock l(compact_mu_);
      if (stop_) return absl::OkStatus();  // resumed at the next open
    }
    backend::BatchTx* tx = &backend_->batch_tx();
    tx->Lock();
    absl::StatusOr<backend::KeyValues> kvs = tx->UnsafeRange(kKeyBucket, last, end, batch);
    if (!kvs.ok()) {
      tx->Unlock();
      return kvs.status();
    }
    Revision r;
    for (const std::string& key : kvs->keys) {
      bool tombstone;
      if (!ParseRevisionKey(key, &r, &tombstone)) continue;
      if (keep.contains(r)) continue;
      if (absl::Status s = tx->UnsafeDelete(kKeyBucket, key); !s.ok()) {
        tx->Unlock();
        return s;
      }
    }
    if (kvs->size() < batch) {
      absl::Status s = tx->UnsafePut(kMetaBucket, kFinishedCompactKey, RevisionKey({rev, 0}));
      tx->Unlock();
      return s;
    }
    last = RevisionKey({r.main, r.sub + 1});
    tx->Unlock();
    // Commit each batch now rather than letting deletes pile up in the buffer.
    if (absl::Status s = backend_->ForceCommit(); !s.ok()) return s;
  }
}

}  // namespace revkv::mvcc
