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
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
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
};

// The bytes of keys and values, shared by every Segment with views into them.
using Storage = std::shared_ptr<const std::string>;

class Segment {
 public:
  using Buckets = std::map<std::string, BucketRun, std::less<>>;

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

  // Appends `newer`'s writes to this segment in place, when that is cheap:
  // newer resets no bucket and each of its keys either sorts after this
  // segment's last key of the bucket or overwrites a key already here (the
  // pattern of revision-keyed puts plus a meta counter). Returns false and
  // changes nothing otherwise. Only for a segment no reader can see (see
  // SegmentStack::TryAbsorb); the result equals Merge(*this, newer).
  bool TryAbsorb(const Segment& newer);

  // Set once a reader or the defrag log may hold this segment; from then on
  // it never changes. Guarded by the owner's lock (Backend::view_mu_).
  mutable bool shared = false;

 private:
  Buckets buckets_;
  std::vector<Storage> storage_;
  size_t entry_count_ = 0;
};

class WriteBuffer {
 public:
  // Record a write that has already succeeded in the btree transaction.
  void Put(std::string_view bucket, std::string_view key, std::string_view value);
  void Delete(std::string_view bucket, std::string_view key);
  void CreateBucket(std::string_view bucket);
  void DeleteBucket(std::string_view bucket);

  bool empty() const { return buckets_.empty(); }
  // Copies the buffered writes into a new Segment (one block of storage);
  // the buffer is empty after.
  std::shared_ptr<const Segment> Freeze();

 private:
  struct MutableRun {
    bool reset = false;
    bool exists = true;
    std::map<std::string, std::optional<std::string>, std::less<>> entries;
  };
  MutableRun& RunFor(std::string_view bucket);

  std::map<std::string, MutableRun, std::less<>> buckets_;
};

}  // namespace revkv::backend

#endif  // REVKV_BACKEND_SEGMENT_H_
