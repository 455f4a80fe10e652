// ConcurrentReadTx: a read transaction of a Backend.
//
// A ConcurrentReadTx is a consistent view of the backend as of the moment it
// was taken: every write whose BatchTx was unlocked before that moment,
// committed to the btree or not, and none after. It never waits for the
// writer or for a commit, and keeps its view however many writes, commits or
// defrags land after it; it pins the btree snapshot it reads (the pages that
// snapshot uses are not reused until it ends, so end it promptly).
//
// Cost of taking one (Backend::NewConcurrentReadTx): under a mutex, two
// shared pointers -- to the read buffer's list of segments (immutable: a
// push builds a new list; never the buffered writes themselves, which etcd
// copies whole) and to the btree read transaction that every view taken
// since the last commit shares (SharedReadTx; the first view after a commit
// begins it) -- and the newest segment marked shared. Each range then costs O(s) per key returned for s buffered
// segments (MergedScan).
//
// It may outlive the Backend (and a Close or Defrag): they keep the btree
// file they read open until they end.
//
// Thread-safety: ConcurrentReadTx is thread-safe without a lock of its own:
// its members never change, its segments are immutable, and the btree read
// transaction it shares with the other views of its commit is read by all of
// them at once (SharedReadTx locks its bucket lookups). Tested by
// tests/backend/concurrency_test under TSan.
#ifndef REVKV_BACKEND_READ_TX_H_
#define REVKV_BACKEND_READ_TX_H_

#include <atomic>
#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backend/merged_range.h"
#include "backend/segment.h"
#include "backend/shared_read_tx.h"

namespace revkv::backend {

class Backend;

class ConcurrentReadTx {
 public:
  ~ConcurrentReadTx();
  ConcurrentReadTx(const ConcurrentReadTx&) = delete;
  ConcurrentReadTx& operator=(const ConcurrentReadTx&) = delete;

  // etcd's UnsafeRange: `end` empty reads the single key `key`; else the keys
  // in [key, end), at most `limit` (0: no limit), merged buffer over btree.
  // A missing bucket reads as empty.
  absl::StatusOr<KeyValues> UnsafeRange(std::string_view bucket, std::string_view key,
                                        std::string_view end, size_t limit);
  // Calls fn for every key of `bucket` in order; stops at fn's first error.
  absl::Status UnsafeForEach(std::string_view bucket, const ForEachFn& fn);
  // The value of one key without copying it: a view valid until this
  // transaction ends. NotFound when absent.
  absl::StatusOr<std::string_view> UnsafeGet(std::string_view bucket, std::string_view key);

  // UnsafeGet for many keys: (*out)[i] for keys[i], each a view valid until
  // this transaction ends. Fastest when keys ascend (MergedGetSorted).
  absl::Status UnsafeGetSorted(std::string_view bucket, absl::Span<const std::string_view> keys,
                               std::vector<btree::Bucket::Found>* out);

  // Calls fn(key, value) for the keys of `bucket` in [start, end) (end
  // empty: no upper bound) in order until it returns false; the views are
  // valid during the call. A missing bucket reads as empty.
  absl::Status UnsafeScan(std::string_view bucket, std::string_view start, std::string_view end,
                          const std::function<bool(std::string_view, std::string_view)>& fn);

  // The txid of the btree snapshot under the buffered writes.
  btree::txid_t btree_txid() const { return tx_->txid(); }
  // Buffered segments in the view.
  size_t segment_count() const { return segments_->size(); }

 private:
  friend class Backend;
  ConcurrentReadTx(std::shared_ptr<SharedReadTx> tx,
                   std::shared_ptr<const std::vector<std::shared_ptr<const Segment>>> segments,
                   std::shared_ptr<std::atomic<int64_t>> open_count);
  // The btree side of `bucket` (null: none), for the Merged* calls.
  absl::StatusOr<btree::Bucket*> Tree(std::string_view bucket) { return tx_->Bucket(bucket); }

  const std::shared_ptr<SharedReadTx> tx_;  // keeps the file open
  const std::shared_ptr<const std::vector<std::shared_ptr<const Segment>>> segments_;
  std::shared_ptr<std::atomic<int64_t>> open_count_;
};

}  // namespace revkv::backend

#endif  // REVKV_BACKEND_READ_TX_H_
