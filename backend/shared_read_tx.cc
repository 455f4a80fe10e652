#include "backend/shared_read_tx.h"

namespace revkv::backend {

absl::StatusOr<btree::Bucket*> SharedReadTx::Bucket(std::string_view name) {
  const int n = count_.load(std::memory_order_acquire);
  for (int i = 0; i < n; ++i) {
    if (fast_[size_t(i)].name == name) return fast_[size_t(i)].bucket;
  }
  util::MutexLock l(mu_);
  const int published = count_.load(std::memory_order_relaxed);
  for (int i = n; i < published; ++i) {
    if (fast_[size_t(i)].name == name) return fast_[size_t(i)].bucket;
  }
  for (const Found& f : more_) {
    if (f.name == name) return f.bucket;
  }
  absl::StatusOr<btree::Bucket*> b = FindBucket(tx_.get(), name);
  if (!b.ok()) return b.status();  // not cached: a read error may be transient
  if (published < kFast) {
    fast_[size_t(published)] = Found{std::string(name), *b};
    count_.store(published + 1, std::memory_order_release);
  } else {
    more_.push_back(Found{std::string(name), *b});
  }
  return *b;
}

absl::StatusOr<btree::Bucket*> FindBucket(btree::Tx* tx, std::string_view name) {
  if (tx == nullptr) return nullptr;
  absl::StatusOr<btree::Bucket*> b = tx->GetBucket(name);
  if (absl::IsNotFound(b.status())) return nullptr;
  return b;
}

}  // namespace revkv::backend
