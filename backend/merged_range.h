// MergedScan: ordered reads over buffered segments layered on a btree
// snapshot, newest first: a key's value is the newest segment's write of it
// (a tombstone hides the key), else the btree's. A segment that reset the
// bucket hides everything older, the btree included.
//
// Cost: O(s) per key visited, s the number of segments (O(log n), see
// SegmentStack), plus O(s log m) to position, m a segment's size, plus the
// btree cursor's cost. A limit counts keys returned after merging.
//
// Thread-safety: as the btree bucket passed in: any number of threads for a
// read transaction's bucket, one at a time for a write transaction's.
#ifndef REVKV_BACKEND_MERGED_RANGE_H_
#define REVKV_BACKEND_MERGED_RANGE_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "backend/segment.h"
#include "btree/bucket.h"

namespace revkv::backend {

// Keys and values a range returns, in key order; owned copies.
struct KeyValues {
  std::vector<std::string> keys;
  std::vector<std::string> values;
  size_t size() const { return keys.size(); }
};

// Visitor for ForEach: returning an error stops the scan and is returned.
using ForEachFn = std::function<absl::Status(std::string_view key, std::string_view value)>;

// Every function below reads the buffered writes to `bucket` in `segments`
// (oldest first) over `tree`, the same bucket of a btree snapshot, found by
// the caller (FindBucket in shared_read_tx.h); null when the snapshot has no
// such bucket, or for segments only.

// Visits keys of `bucket` in [start, end) (`end` empty: no upper bound) in
// order until `limit` keys were visited (0: no limit) or fn returns false.
// Nested buckets are skipped.
absl::Status MergedScan(const std::vector<std::shared_ptr<const Segment>>& segments,
                        btree::Bucket* tree, std::string_view bucket, std::string_view start,
                        std::string_view end, size_t limit,
                        const std::function<bool(std::string_view, std::string_view)>& fn);

// etcd's UnsafeRange: `end` empty reads the single key `key` (limit
// ignored); else keys in [key, end), at most `limit` of them (0: all).
absl::StatusOr<KeyValues> MergedRange(
    const std::vector<std::shared_ptr<const Segment>>& segments, btree::Bucket* tree,
    std::string_view bucket, std::string_view key, std::string_view end, size_t limit);

// One key's value as a view into a segment or the btree snapshot (valid while
// both are); NotFound when absent (or a nested bucket).
absl::StatusOr<std::string_view> MergedGetView(
    const std::vector<std::shared_ptr<const Segment>>& segments, btree::Bucket* tree,
    std::string_view bucket, std::string_view key);

// MergedGetView for many keys at once: (*out)[i] for keys[i]. The keys the
// segments do not answer are looked up in the btree together
// (btree::Bucket::GetSorted), which is fastest when keys ascend.
absl::Status MergedGetSorted(const std::vector<std::shared_ptr<const Segment>>& segments,
                             btree::Bucket* tree, std::string_view bucket,
                             absl::Span<const std::string_view> keys,
                             std::vector<btree::Bucket::Found>* out);

// etcd's UnsafeForEach over the merged view of `bucket`.
absl::Status MergedForEach(const std::vector<std::shared_ptr<const Segment>>& segments,
                           btree::Bucket* tree, std::string_view bucket, const ForEachFn& fn);

}  // namespace revkv::backend

#endif  // REVKV_BACKEND_MERGED_RANGE_H_
