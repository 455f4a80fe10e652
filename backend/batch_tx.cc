#include "backend/batch_tx.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "backend/backend.h"
#include "backend/shared_read_tx.h"
#include "btree/bucket.h"

namespace revkv::backend {

namespace {
// etcd's fill for sequential puts.
constexpr double kSeqFillPercent = 0.9;
}  // namespace

BatchTx::BatchTx(Backend* backend) : backend_(backend) {}

void BatchTx::Lock() { mu_.lock(); }

void BatchTx::Unlock() {
  Publish();
  const int64_t limit = backend_->config_.batch_limit;
  if (limit > 0 && pending_ >= limit) CommitLocked().IgnoreError();  // kept in error_
  mu_.unlock();
}

absl::Status BatchTx::CheckWritable() const {
  if (stopped_) return absl::FailedPreconditionError("backend: closed");
  return error_;
}

void BatchTx::Fail(const absl::Status& s) {
  if (error_.ok()) {
    error_ = absl::Status(s.code(), absl::StrCat("backend: commit failed, writes refused: ",
                                                 s.message()));
  }
  if (wtx_ != nullptr) wtx_->Rollback();
  wtx_.reset();
  pending_ = 0;
  buffer_ = WriteBuffer();
  // The writes since the last good commit are gone: stop showing them.
  backend_->ResetReadBuffer();
}

absl::Status BatchTx::EnsureTx() {
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  if (wtx_ != nullptr) return absl::OkStatus();
  absl::StatusOr<std::unique_ptr<btree::Tx>> tx = backend_->db_->Begin(true);
  if (!tx.ok()) {
    Fail(tx.status());
    return error_;
  }
  wtx_ = *std::move(tx);
  return absl::OkStatus();
}

absl::StatusOr<btree::Bucket*> BatchTx::WriteBucket(std::string_view bucket) {
  if (absl::Status s = EnsureTx(); !s.ok()) return s;
  absl::StatusOr<btree::Bucket*> b = wtx_->GetBucket(bucket);
  if (absl::IsNotFound(b.status())) {
    return absl::NotFoundError("backend: bucket \"" + std::string(bucket) + "\" does not exist");
  }
  return b;
}

absl::Status BatchTx::UnsafeCreateBucket(std::string_view bucket) {
  if (absl::Status s = EnsureTx(); !s.ok()) return s;
  absl::StatusOr<btree::Bucket*> existing = wtx_->GetBucket(bucket);
  if (existing.ok()) return absl::OkStatus();
  if (!absl::IsNotFound(existing.status())) return existing.status();
  absl::StatusOr<btree::Bucket*> b = wtx_->CreateBucket(bucket);
  if (!b.ok()) return b.status();
  buffer_.CreateBucket(bucket);
  AddPending();
  return absl::OkStatus();
}

absl::Status BatchTx::UnsafeDeleteBucket(std::string_view bucket) {
  if (absl::Status s = EnsureTx(); !s.ok()) return s;
  if (absl::Status s = wtx_->DeleteBucket(bucket); !s.ok()) return s;
  buffer_.DeleteBucket(bucket);
  AddPending();
  return absl::OkStatus();
}

absl::Status BatchTx::Put(std::string_view bucket, std::string_view key,
                          std::string_view value, bool seq) {
  absl::StatusOr<btree::Bucket*> b = WriteBucket(bucket);
  if (!b.ok()) return b.status();
  if (seq) (*b)->SetFillPercent(kSeqFillPercent);
  if (absl::Status s = (*b)->Put(key, value); !s.ok()) return s;
  buffer_.Put(bucket, key, value);
  AddPending();
  return absl::OkStatus();
}

absl::Status BatchTx::UnsafePut(std::string_view bucket, std::string_view key,
                                std::string_view value) {
  return Put(bucket, key, value, /*seq=*/false);
}

absl::Status BatchTx::UnsafeSeqPut(std::string_view bucket, std::string_view key,
                                   std::string_view value) {
  return Put(bucket, key, value, /*seq=*/true);
}

absl::Status BatchTx::UnsafeDelete(std::string_view bucket, std::string_view key) {
  absl::StatusOr<btree::Bucket*> b = WriteBucket(bucket);
  if (!b.ok()) return b.status();
  if (absl::Status s = (*b)->Delete(key); !s.ok()) return s;
  buffer_.Delete(bucket, key);
  AddPending();
  return absl::OkStatus();
}

absl::StatusOr<KeyValues> BatchTx::UnsafeRange(std::string_view bucket, std::string_view key,
                                               std::string_view end, size_t limit) {
  if (absl::Status s = EnsureTx(); !s.ok()) return s;
  absl::StatusOr<btree::Bucket*> tree = FindBucket(wtx_.get(), bucket);
  if (!tree.ok()) return tree.status();
  return MergedRange({}, *tree, bucket, key, end, limit);
}

absl::Status BatchTx::UnsafeForEach(std::string_view bucket, const ForEachFn& fn) {
  if (absl::Status s = EnsureTx(); !s.ok()) return s;
  absl::StatusOr<btree::Bucket*> tree = FindBucket(wtx_.get(), bucket);
  if (!tree.ok()) return tree.status();
  return MergedForEach({}, *tree, bucket, fn);
}

void BatchTx::Publish() {
  if (buffer_.empty()) return;
  backend_->Publish(&buffer_);
}

absl::Status BatchTx::CommitLocked() {
  if (pre_commit_ != nullptr && error_.ok() && pending_ > 0) {
    if (absl::Status s = pre_commit_(*this); !s.ok()) {
      Fail(s);
      return error_;
    }
  }
  Publish();
  if (!error_.ok()) return error_;
  if (wtx_ == nullptr) return absl::OkStatus();
  if (pending_ == 0) {  // only reads: nothing to commit
    wtx_->Rollback();
    wtx_.reset();
    return absl::OkStatus();
  }
  absl::Status s = wtx_->Commit();
  wtx_.reset();
  pending_ = 0;
  if (!s.ok()) {
    Fail(s);
    return error_;
  }
  backend_->commits_.fetch_add(1, std::memory_order_relaxed);
  // The btree snapshot now holds the buffered writes.
  backend_->ResetReadBuffer();
  return absl::OkStatus();
}

absl::Status BatchTx::Commit() {
  std::lock_guard<std::mutex> l(mu_);
  return CommitLocked();
}

std::chrono::steady_clock::duration BatchTx::CommitIfDue(
    std::chrono::steady_clock::duration interval) {
  std::lock_guard<std::mutex> l(mu_);
  if (pending_ == 0) return interval;
  const auto age = std::chrono::steady_clock::now() - first_pending_;
  if (age < interval) return interval - age;
  CommitLocked().IgnoreError();  // a failure is kept in error_
  return interval;
}

absl::Status BatchTx::CommitAndStop() {
  std::lock_guard<std::mutex> l(mu_);
  absl::Status s = CommitLocked();
  if (wtx_ != nullptr) {
    wtx_->Rollback();
    wtx_.reset();
  }
  stopped_ = true;
  return s;
}

}  // namespace revkv::backend
