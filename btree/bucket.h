// Bucket: a named, ordered key space inside a transaction. Buckets nest: a
// key of a bucket may name a child bucket instead of holding a value.
//
// Keys are 1 to 32 KiB bytes, values 0 bytes to 4 GiB - 1; values larger than
// a quarter page live in their own overflow span, so changing neighbouring
// keys never copies them.
//
// A Bucket* is owned by its transaction and valid until the transaction ends
// (or the bucket is deleted). Thread-safety: as its Tx (tx.h: a read
// transaction's reads may run in several threads at once).
#ifndef REVKV_BTREE_BUCKET_H_
#define REVKV_BTREE_BUCKET_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "btree/cursor.h"
#include "btree/page.h"
#include "btree/stats.h"

namespace revkv::btree {

class Tx;
class Node;

class Bucket {
 public:
  ~Bucket();
  Bucket(const Bucket&) = delete;
  Bucket& operator=(const Bucket&) = delete;

  // Sets *value to the value of `key`. NotFound when absent;
  // FailedPrecondition when `key` names a nested bucket.
  absl::Status Get(std::string_view key, std::string_view* value);
  // What GetSorted found for one key.
  struct Found {
    bool found = false;
    std::string_view value;  // as Get's
  };
  // Get for many keys: (*out)[i] for keys[i]; an absent key, or one naming a
  // nested bucket, is not found. Correct in any order, and faster than a Get
  // per key when keys ascend: in a read transaction, lookups share the path
  // above the leaves, and each group of leaves is prefetched before it is
  // searched, so that their cache misses overlap.
  absl::Status GetSorted(absl::Span<const std::string_view> keys, std::vector<Found>* out);
  // Sets `key` to `value`. Fails in a read transaction, for an empty or
  // oversized key, an oversized value, or a key that names a bucket.
  absl::Status Put(std::string_view key, std::string_view value);
  // Removes `key`; OK if it is absent. Fails for a key that names a bucket.
  absl::Status Delete(std::string_view key);

  // A cursor over this bucket's keys (nested bucket names included).
  Cursor NewCursor() { return Cursor(this); }
  // Calls fn(key, value) for keys in [start, end) in order (end empty: no
  // upper bound) until fn returns false or `limit` keys (0: no limit) were
  // visited. Nested buckets are skipped.
  absl::Status Range(std::string_view start, std::string_view end, size_t limit,
                     const std::function<bool(std::string_view, std::string_view)>& fn);

  // Nested buckets. GetBucket: NotFound when absent, FailedPrecondition when
  // the key holds a value. CreateBucket: AlreadyExists when present.
  absl::StatusOr<Bucket*> GetBucket(std::string_view name);
  absl::StatusOr<Bucket*> CreateBucket(std::string_view name);
  absl::StatusOr<Bucket*> CreateBucketIfNotExists(std::string_view name);
  // Deletes a nested bucket and everything in it.
  absl::Status DeleteBucket(std::string_view name);

  // A per-bucket counter, persisted with the bucket (bbolt's Sequence).
  uint64_t Sequence() const { return header_.sequence; }
  absl::Status SetSequence(uint64_t v);
  absl::StatusOr<uint64_t> NextSequence();

  // How full to pack pages when they split, in [0.1, 1.0] (default 0.5).
  // Nodes that only ever grew at their end split full whatever this says, so
  // sequential appends pack pages. Not persisted: set it in each transaction.
  void SetFillPercent(double f);

  // Page and key counts of this bucket's tree (of its last committed or
  // current state; nested buckets' trees are not included).
  absl::StatusOr<BucketStats> Stats();

  bool writable() const;
  Tx* tx() const { return tx_; }

 private:
  friend class Tx;
  friend class DB;
  friend class Cursor;
  friend class Node;

  Bucket(Tx* tx, BucketHeader header);
  // The node of page `id` in this write transaction, read from the page the
  // first time.
  absl::StatusOr<Node*> NodeFor(pgid_t id, Node* parent);
  Node* NewNode(bool is_leaf, Node* parent);
  absl::Status CheckWritable() const;
  absl::StatusOr<Bucket*> OpenChild(std::string_view name, std::string_view value);
  absl::Status FreeTree(pgid_t id, int depth);
  absl::Status Rebalance();
  absl::Status Spill();
  // The rightmost leaf if `key` sorts after every key in the bucket (an
  // append), else null.
  Node* AppendLeafFor(std::string_view key) const;
  // The leaf `key` goes in, found by a search; frees the overflow span of a
  // big value `key` replaces.
  absl::StatusOr<Node*> LeafForPut(std::string_view key);

  Tx* tx_;
  BucketHeader header_;
  bool header_dirty_ = false;
  double fill_percent_ = 0.5;
  Node* root_node_ = nullptr;
  // The rightmost leaf node, once a put found it: appends go straight there.
  // Valid for the transaction (nodes split only at commit); a leaf emptied
  // by deletes is searched again.
  Node* append_leaf_ = nullptr;
  absl::flat_hash_map<pgid_t, Node*> nodes_;
  std::vector<std::unique_ptr<Node>> owned_nodes_;
  std::map<std::string, std::unique_ptr<Bucket>, std::less<>> children_;
};

}  // namespace revkv::btree

#endif  // REVKV_BTREE_BUCKET_H_
