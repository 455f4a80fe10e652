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

absl::Status ConcurrentReadTx::UnsafeScan(
    std::string_view bucket, std::string_view start, std::string_view end,
    const std::function<bool(std::string_view, std::string_view)>& fn) {
  absl::StatusOr<btree::Bucket*> tree = Tree(bucket);
  if (!tree.ok()) return tree.status();
  return MergedScan(*segments_, *tree, bucket, start, end, 0, fn);
}

}  // namespace revkv::backend
