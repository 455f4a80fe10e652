// Segment and WriteBuffer: the buffered writes of the backend, as etcd's
// txWriteBuffer / txReadBuffer, but immutable once built so that readers can
// share them without copying.
//
// A WriteBuffer collects the writes of one BatchTx Lock/Unlock cycle: puts,
// deletes (kept as tombstones so that they hide older values) and bucket
// creations/deletions. At Unlock it is frozen into a Segment: per bucket, a
// sorted vector of unique keys, the newest write of each key.
//
// A Segment describes a delta to apply on top of an older state. For each
// bucket it names:
//   reset   the bucket's older contents (older segments, the btree) are gone:
//           it was deleted in this delta (and maybe created again);
//   exists  whether the bucket exists after the delta;
//   entries the keys written, each a value or a tombstone.
// Applying a delta is idempotent when it follows any prefix of the writes
// it summarises (every write sets a key or a bucket to a final state), which
// Defrag relies on.
//
// Thread-safety: a Segment is immutable and safe to share between threads.
// A WriteBuffer is not thread-safe (the BatchTx lock guards it).
#ifndef REVKV_BACKEND_SEGMENT_H_
#define REVKV_BACKEND_SEGMENT_H_

#include <cstddef>
#include <memory>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace revkv::backend {

// A write: views into the owning Segment's storage.
struct Entry {
  std::string_view key;
  std::string_view value;
  bool tombstone = false;
};

struct BucketRun {
  bool reset = false;
  bool exists = true;
  std::vector<Entry> entries;  // sorted by key, keys unique

  // First entry with key >= `key`.
  std::vector<Entry>::const_iterator LowerBound(std::string_view key) const;
  // The entry of `key`, or null. A key outside [first, last] costs two
  // comparisons instead of a search: a point read walks every segment, and
  // most do not span its key (revision keys: only one does).
  const Entry* Find(std::string_view key) const;
};

// The owner of bytes of keys and values (a pooled block, or a write
// buffer's string), shared by every Segment with views into them.
using Storage = std::shared_ptr<const void>;

class Segment {
 public:
  // Sorted by name; a delta touches a few buckets, so a vector beats a map.
  using Buckets = std::vector<std::pair<std::string, BucketRun>>;

  // `storage` holds every byte the entries of `buckets` view.
  Segment(Buckets buckets, std::vector<Storage> storage);

  // The run of `bucket`, or nullptr when this delta does not touch it.
  const BucketRun* Find(std::string_view bucket) const;
  const Buckets& buckets() const { return buckets_; }
  // Entries over all buckets.
  size_t entry_count() const { return entry_count_; }
  // entry_count + buckets touched: the merge policy's measure of size.
  size_t weight() const { return entry_count_ + buckets_.size(); }

  // One segment equal to applying `older` then `newer`. O(entries of both),
  // copying views, not bytes: the result shares both inputs' storage (bytes
  // of overwritten entries stay until the stack is cleared at commit).
  static std::shared_ptr<const Segment> Merge(const Segment& older,
                                              const Segment& newer);

  // Appends the writes of `delta` (a delta in this class's form: sorted,
  // unique keys) to this segment in place, when that is cheap: the delta
  // resets no bucket and each of its keys either sorts after this segment's
  // last key of the bucket or overwrites a key already here (the pattern of
  // revision-keyed puts plus a meta counter). The bytes are copied into this
  // segment's own storage, so `delta` may view a buffer that is reused.
  // Returns false and changes nothing otherwise. Only for a segment no
  // reader can see (SegmentStack::MutableTop); the result equals a Merge.
  bool TryAbsorb(const Buckets& delta);
  // TryAbsorb of a delta touching one bucket, not resetting it, whose keys
  // (`entries`, strictly ascending) all sort after the bucket's last key
  // here: the common case of revision-keyed puts, without building a delta.
  bool TryAppend(std::string_view bucket, bool exists, const std::vector<Entry>& entries);

  // Set once a reader or the defrag log may hold this segment; from then on
  // it never changes. Guarded by the owner's lock (Backend::view_mu_).
  mutable bool shared = false;

 private:
  // Copies bytes into the block being filled (a new one when full).
  std::string_view Keep(std::string_view bytes);

  Buckets buckets_;
  std::vector<Storage> storage_;
  size_t entry_count_ = 0;
  char* tail_ = nullptr;  // the last block of storage_, which TryAbsorb fills
  size_t tail_capacity_ = 0;
  size_t tail_used_ = 0;
};

class WriteBuffer {
 public:
  // Records a write the BatchTx accepted (its limits were checked); it
  // reaches the btree only when the committer applies the batch.
  void Put(std::string_view bucket, std::string_view key, std::string_view value);
  void Delete(std::string_view bucket, std::string_view key);
  void CreateBucket(std::string_view bucket);
  void DeleteBucket(std::string_view bucket);

  bool empty() const { return buckets_.empty(); }
  // Moves the buffered writes into a new Segment (the buffered bytes become
  // its storage); the buffer is empty after.
  std::shared_ptr<const Segment> Freeze();
  // The buffered writes as a Segment viewing this buffer's bytes, which
  // stays valid until the buffer next changes; the buffer is unchanged.
  std::shared_ptr<const Segment> Peek();
  // Writes the buffered writes into `top` with Segment::TryAbsorb; the
  // buffer is empty after a success (keeping its memory for the next
  // writes) and unchanged after a refusal.
  bool AbsorbInto(Segment* top);
  // Drops the buffered writes.
  void Clear();

 private:
  // Writes are logged flat (one byte buffer, one vector of records) and
  // sorted once at Freeze: a buffer usually holds a write or two, and per
  // write maps and strings cost more than the writes.
  struct Op {
    uint32_t bucket;  // index into buckets_
    bool tombstone;
    size_t key_at, key_size, value_at, value_size;  // into bytes_
  };
  struct BucketState {
    std::string name;
    bool reset = false;
    bool exists = true;
    size_t first_op = 0;  // ops before this one were undone by DeleteBucket
    // Whether the keys since first_op strictly ascend (sorting is then
    // skipped: the common case of revision-keyed puts), and the last op.
    bool ascending = true;
    size_t last_op = SIZE_MAX;
  };
  uint32_t BucketFor(std::string_view bucket);
  // The buffered writes as a delta viewing `base` (bytes_ or its copy):
  // buckets by name, each key once (the newest write). Reuses the memory
  // *out holds from an earlier call.
  void Sort(const char* base, Segment::Buckets* out);
  std::string_view KeyOf(const char* base, const Op& op) const {
    return std::string_view(base + op.key_at, op.key_size);
  }
  void Log(std::string_view bucket, std::string_view key, std::string_view value,
           bool tombstone);

  std::string bytes_;
  std::vector<Op> ops_;
  std::vector<BucketState> buckets_;
  // Scratch kept between Unlock cycles: one write per cycle is the common
  // case, and allocating these each time cost more than the write.
  Segment::Buckets delta_;
  std::vector<Entry> entries_;
  std::vector<uint32_t> order_;
  std::vector<const Op*> sorted_ops_;
};

}  // namespace revkv::backend

#endif  // REVKV_BACKEND_SEGMENT_H_
