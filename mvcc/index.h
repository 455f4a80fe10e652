// Index: the in-memory key index of the store (etcd's treeIndex): every key,
// in order, with its KeyIndex.
//
// Thread-safety: thread-safe. Readers share mu_ and run concurrently; every
// change takes it exclusively while it changes the tree. A store's put is
// two calls (BeginPut under the shared lock, FinishPut under the exclusive
// one) with its record written between them, so readers run meanwhile.
// Compact and Keep work through the keys in bounded slices, so that readers
// and writers interleave with them. The point cache's table has a lock of
// its own (lock order: mu_, then cache_mu_).
#ifndef REVKV_MVCC_INDEX_H_
#define REVKV_MVCC_INDEX_H_

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/types/compare.h"
#include "util/mutex.h"
#include "util/bytes.h"
#include "mvcc/compact_key.h"
#include "mvcc/key_index.h"
#include "mvcc/point_cache.h"

namespace revkv::mvcc {

// Byte-wise key order as a three-way comparison: the B-tree's search then
// stops at an equal key instead of comparing once more, and compares 8 bytes
// at a time inline.
struct KeyLess {
  using is_transparent = void;
  absl::weak_ordering operator()(std::string_view a, std::string_view b) const {
    const int c = util::CompareBytes(a, b);
    return c < 0 ? absl::weak_ordering::less
                 : (c == 0 ? absl::weak_ordering::equivalent : absl::weak_ordering::greater);
  }
};

// absl::btree_map with 1 KiB nodes instead of 256 bytes: with 40-byte entries
// a node then holds 25 instead of 6, so a lookup in a million keys visits 5
// nodes instead of 8, each a few adjacent cache lines. (Same container,
// another node size: absl keeps the size a template parameter of its
// internal params.)
template <typename K, typename V, typename Compare, int kNodeBytes>
class WideBtreeMap
    : public absl::container_internal::btree_map_container<absl::container_internal::btree<
          absl::container_internal::map_params<K, V, Compare, std::allocator<std::pair<const K, V>>,
                                               kNodeBytes, /*IsMulti=*/false>>> {
  using Base = typename WideBtreeMap::btree_map_container;

 public:
  using Base::Base;
  // Bytes of every node of the tree (walks the tree).
  size_t bytes_used() const { return this->tree_.bytes_used(); }
};

class Index {
  using Tree = WideBtreeMap<CompactKey, KeyIndex, KeyLess, 1024>;

 public:
  // The key as of at_rev; NotFound if it did not exist then.
  absl::Status Get(std::string_view key, int64_t at_rev, KeyAt* out) const;
  // A candidate for Get(key, at_rev)'s modified revision from the point
  // cache (point_cache.h), found without walking the tree: true, with *rev,
  // when a revision <= at_rev is cached under key's hash. It is the answer
  // only if the record at *rev holds `key`; if not, ask Get.
  bool CachedGet(std::string_view key, int64_t at_rev, Revision* rev) const;
  // Calls fn(key, at) in key order for keys in [key, end) that existed at
  // at_rev (end empty: no upper bound) until fn returns false.
  void Range(std::string_view key, std::string_view end, int64_t at_rev,
             const std::function<bool(std::string_view, const KeyAt&)>& fn) const;
  // A put in two steps, for a store that writes the put's record between
  // them: BeginPut says what the key was before the put (its create
  // revision and version come from that), FinishPut adds rev. No lock is
  // held between them, so readers and Compact go on; the caller runs one
  // put at a time (the store's write lock), so no other put or tombstone
  // comes between the two steps, and a compaction between them changes
  // nothing the put depends on.
  struct PendingPut {
    bool live = false;  // the key existed at rev (prev is set)
    KeyAt prev;

   private:
    friend class Index;
    bool known = false;   // the tree held the key (perhaps deleted)
    uint64_t epoch = 0;   // epoch_ when `it` was found
    uint64_t hash = 0;
    Tree::iterator it;    // key's position or lower bound while epoch_ is unchanged
  };
  PendingPut BeginPut(std::string_view key, Revision rev) const;
  void FinishPut(std::string_view key, Revision rev, const PendingPut& pending);

  absl::Status Tombstone(std::string_view key, Revision rev);

  // One record of the key bucket, for RestoreRecords.
  struct Record {
    std::string_view key;
    Revision rev;
    bool tombstone = false;
    int64_t create_revision = 0;
    int64_t version = 0;
    // Set by RestoreRecords: the key's first 16 bytes, big-endian.
    uint64_t prefix_hi = 0, prefix_lo = 0;
  };
  // Replays the records of the key bucket at open, as etcd's restore does:
  // a known key gets a put or tombstone; an unknown key starts from the
  // record's created revision and version; a tombstone of an unknown key
  // (its puts were compacted away) is skipped. The same as replaying each
  // of `records` in order (tests/mvcc/index_peer.h does that), given that
  // they come in increasing revision order (as the key bucket holds them),
  // but faster: the records are sorted by key (reordering
  // `records`) and the tree is walked once, in key order.
  void RestoreRecords(std::vector<Record>* records);
  // The whole index as a checkpoint (what Store writes at a clean close):
  // chunks of about `chunk_bytes`, each holding whole entries in key order.
  std::vector<std::string> EncodeCheckpoint(size_t chunk_bytes) const;
  // Loads a checkpoint into this empty index, in order, one O(1) insert per
  // key, and sets *summary to the revisions it holds. It checks while it
  // decodes that keys strictly ascend and that every history is well formed
  // with revisions up to max_main (KeyIndex::CheckWellFormed). DataLoss,
  // with the index left empty, if the data is malformed or fails a check.
  // Checkpoints of at least kParallelLoadBytes decode on a second thread.
  absl::Status LoadCheckpoint(const std::vector<std::string_view>& chunks, int64_t max_main,
                              RevisionSummary* summary);
  static constexpr size_t kParallelLoadBytes = 1 << 20;

  // Compacts every key at rev; returns the revisions <= rev still needed.
  RevisionSet Compact(int64_t rev);
  // The revisions <= rev that Compact(rev) would keep.
  RevisionSet Keep(int64_t rev) const;
  size_t size() const;
  // Removes every key.
  void Clear();
  // Approximate bytes the index uses (keys, entries, tree nodes, the point
  // cache).
  size_t MemoryBytes() const;

 private:
  // Tests reach the one-step entry points below through it.
  friend class IndexPeer;
  // BeginPut then FinishPut.
  void Put(std::string_view key, Revision rev);
  // RestoreRecords of one record, one tree search each: the plain replay
  // RestoreRecords must equal.
  void RestoreRecord(std::string_view key, Revision rev, bool tombstone,
                     int64_t create_revision, int64_t version);

  // RestoreRecord at `it`, the lower bound of key; returns key's position
  // (or `it` if the record was skipped). Requires mu_ held exclusively.
  // Bumps epoch_.
  Tree::iterator Replay(Tree::iterator it, std::string_view key, Revision rev, bool tombstone,
                        int64_t create_revision, int64_t version)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // The point cache's Reserve, Shrink and Clear: they replace its table.
  // Require mu_ held exclusively; take cache_mu_.
  void ReserveCache(size_t keys) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ShrinkCache(size_t keys) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ClearCache() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Prefers writers: long ranges cannot starve Put.
  // Keys per slice of Compact and Keep.
  static constexpr int kSlice = 10000;

  // Spins before it parks: a put holds it exclusively for well under a
  // microsecond, and a point read that misses the cache shares it as
  // briefly, so a futex hand-off (two context switches) cost more than the
  // wait; on two cores under a writer and two readers it parked every
  // thread in turn (bench/README.md, mixed).
  mutable util::SpinningRwLock mu_ ABSL_ACQUIRED_BEFORE(cache_mu_);
  Tree tree_ ABSL_GUARDED_BY(mu_);
  // Bumped (under mu_ held exclusively) by every insert or erase of a key,
  // which may move the tree's entries: a PendingPut's position is valid
  // only while it is unchanged.
  uint64_t epoch_ ABSL_GUARDED_BY(mu_) = 0;
  // The point cache keeps the rules of point_cache.h: Fill runs under mu_
  // shared, Store and Erase under mu_ exclusive. Lookups take only
  // cache_mu_ shared (so point reads do not queue behind the writer's
  // exclusive mu_); the table is replaced under mu_ and cache_mu_, both
  // exclusive.
  // (cache_ is not ABSL_GUARDED_BY either lock: its table pointer is read
  // under cache_mu_ or mu_, which the analysis cannot say; its slots are
  // atomic words.)
  mutable util::RwLock cache_mu_;
  PointCache cache_;
};

}  // namespace revkv::mvcc

#endif  // REVKV_MVCC_INDEX_H_
