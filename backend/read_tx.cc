#include "backend/read_tx.h"

#include <utility>

#include "backend/backend.h"

namespace revkv::backend {

ConcurrentReadTx::ConcurrentReadTx(
    std::shared_ptr<SharedReadTx> tx,
    std::shared_ptr<const std::vector<std::shared_ptr<const Segment>>> segments,
    std::shared_ptr<std::atomic<int64_t>> open_count)
    : tx_(std::move(tx)),
      segments_(std::move(segments)),
      open_count_(std::move(open_count)) {
  open_count_->fetch_add(1, std::memory_order_relaxed);
}

ConcurrentReadTx::~ConcurrentReadTx() {
  open_count_->fetch_sub(1, std::memory_order_relaxed);
}

absl::StatusOr<KeyValues> ConcurrentReadTx::UnsafeRange(std::string_view bucket,
                                                        std::string_view key,
                                                        std::string_view end, size_t limit) {
  absl::StatusOr<btree::Bucket*> tree = Tree(bucket);
  if (!tree.ok()) return tree.status();
  return MergedRange(*segments_, *tree, bucket, key, end, limit);
}

absl::StatusOr<std::string_view> ConcurrentReadTx::UnsafeGet(std::string_view bucket,
                                                             std::string_view key) {
  absl::StatusOr<btree::Bucket*> tree = Tree(bucket);
  if (!tree.ok()) return tree.status();
  return MergedGetView(*segments_, *tree, bucket, key);
}

absl::Status ConcurrentReadTx::UnsafeGetSorted(std::string_view bucket,
                                               absl::Span<const std::string_view> keys,
                                               std::vector<btree::Bucket::Found>* out) {
  absl::StatusOr<btree::Bucket*> tree = Tree(bucket);
  if (!tree.ok()) return tree.status();
  return MergedGetSorted(*segments_, *tree, bucket, keys, out);
}

absl::Status ConcurrentReadTx::UnsafeForEach(std::string_view bucket, const ForEachFn& fn) {
  absl::StatusOr<btree::Bucket*> tree = Tree(bucket);
  if (!tree.ok()) return tree.status();
  return MergedForEach(*segments_, *tree, bucket, fn);
}

absl::Status ReadTx::RLock() {
  absl::StatusOr<std::unique_ptr<ConcurrentReadTx>> tx = backend_->NewConcurrentReadTx();
  if (!tx.ok()) return tx.status();
  view_ = *std::move(tx);
  return absl::OkStatus();
}

absl::StatusOr<ConcurrentReadTx*> ReadTx::View() {
  if (view_ != nullptr) return view_.get();
  absl::StatusOr<std::unique_ptr<ConcurrentReadTx>> tx = backend_->NewConcurrentReadTx();
  if (!tx.ok()) return tx.status();
  oneshot_ = *std::move(tx);
  return oneshot_.get();
}

absl::StatusOr<KeyValues> ReadTx::UnsafeRange(std::string_view bucket, std::string_view key,
                                              std::string_view end, size_t limit) {
  absl::StatusOr<ConcurrentReadTx*> v = View();
  if (!v.ok()) return v.status();
  absl::StatusOr<KeyValues> out = (*v)->UnsafeRange(bucket, key, end, limit);
  oneshot_.reset();
  return out;
}

absl::Status ReadTx::UnsafeForEach(std::string_view bucket, const ForEachFn& fn) {
  absl::StatusOr<ConcurrentReadTx*> v = View();
  if (!v.ok()) return v.status();
  absl::Status s = (*v)->UnsafeForEach(bucket, fn);
  oneshot_.reset();
  return s;
}

}  // namespace revkv::backend
