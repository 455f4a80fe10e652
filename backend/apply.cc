#include "backend/apply.h"

#include "btree/bucket.h"
#include "btree/cursor.h"

namespace revkv::backend {
namespace {

// etcd's fill for sequential puts, and the btree's default.
constexpr double kSeqFillPercent = 0.9;
constexpr double kDefaultFillPercent = 0.5;

// Whether every key of `run` sorts after the last key of `b`.
bool AppendsOnly(btree::Bucket& b, const BucketRun& run) {
  if (run.entries.empty()) return false;
  btree::Cursor c = b.NewCursor();
  c.Last();
  return !c.Valid() || c.key() < run.entries.front().key;
}

}  // namespace

absl::Status ApplySegment(btree::Tx& tx, const Segment& segment) {
  for (const auto& [name, run] : segment.buckets()) {
    if (run.reset) {
      absl::Status s = tx.DeleteBucket(name);
      if (!s.ok() && !absl::IsNotFound(s)) return s;
    }
    if (!run.exists) continue;
    absl::StatusOr<btree::Bucket*> b = tx.CreateBucketIfNotExists(name);
    if (!b.ok()) return b.status();
    (*b)->SetFillPercent(AppendsOnly(**b, run) ? kSeqFillPercent : kDefaultFillPercent);
    for (const Entry& e : run.entries) {
      absl::Status s = e.tombstone ? (*b)->Delete(e.key) : (*b)->Put(e.key, e.value);
      if (!s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace revkv::backend
