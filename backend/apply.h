// ApplySegment: writes a delta (segment.h) into a btree write transaction:
// what the committer does with each batch of buffered writes, and what
// defrag replays into its copy.
//
// Thread-safety: as the transaction passed in (one thread at a time).
#ifndef REVKV_BACKEND_APPLY_H_
#define REVKV_BACKEND_APPLY_H_

#include "absl/status/status.h"
#include "backend/segment.h"
#include "btree/tx.h"

namespace revkv::backend {

// Applies `segment` to `tx`: bucket resets and creations, then each entry
// (a put, or a delete of a key that may be absent). A run whose keys all sort
// after the bucket's last key (revision-keyed appends) fills pages to 90%,
// as etcd's sequential puts do; other runs use the btree's default fill.
absl::Status ApplySegment(btree::Tx& tx, const Segment& segment);

}  // namespace revkv::backend

#endif  // REVKV_BACKEND_APPLY_H_
