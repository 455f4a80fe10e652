#include "backend/merged_range.h"

#include <optional>

#include "absl/container/inlined_vector.h"

#include "absl/status/statusor.h"
#include "btree/bucket.h"
#include "btree/cursor.h"

namespace revkv::backend {

namespace {

struct RunCursor {
  std::vector<Entry>::const_iterator it, end;
};

// The btree side of a scan: a cursor that skips nested buckets.
class TreeSource {
 public:
  absl::Status Open(btree::Bucket* tree, std::string_view start) {
    if (tree == nullptr) return absl::OkStatus();
    cursor_.emplace(tree->NewCursor());
    cursor_->Seek(start);
    return Settle();
  }
  bool Valid() const { return cursor_.has_value() && cursor_->Valid(); }
  std::string_view key() const { return cursor_->key(); }
  std::string_view value() const { return cursor_->value(); }
  absl::Status Next() {
    cursor_->Next();
    return Settle();
  }

 private:
  absl::Status Settle() {
    while (cursor_->Valid() && cursor_->is_bucket()) cursor_->Next();
    return cursor_->status();
  }
  std::optional<btree::Cursor> cursor_;
};

}  // namespace

absl::Status MergedScan(const std::vector<std::shared_ptr<const Segment>>& segments,
                        btree::Bucket* tree_bucket, std::string_view bucket, std::string_view start,
                        std::string_view end, size_t limit,
                        const std::function<bool(std::string_view, std::string_view)>& fn) {
  // Sources newest first; stop below the newest reset of the bucket.
  std::vector<RunCursor> runs;
  bool hidden = false;
  for (auto s = segments.rbegin(); s != segments.rend(); ++s) {
    const BucketRun* run = (*s)->Find(bucket);
    if (run == nullptr) continue;
    runs.push_back(RunCursor{run->LowerBound(start), run->entries.end()});
    if (run->reset) {
      hidden = true;
      break;
    }
  }
  TreeSource tree;
  if (!hidden) {
    if (absl::Status s = tree.Open(tree_bucket, start); !s.ok()) return s;
  }
  auto in_range = [&](std::string_view k) { return end.empty() || k < end; };

  size_t visited = 0;
  while (true) {
    // The smallest key over all sources.
    std::optional<std::string_view> min;
    for (const RunCursor& r : runs) {
      if (r.it != r.end && in_range(r.it->key) && (!min || r.it->key < *min)) min = r.it->key;
    }
    bool tree_has = tree.Valid() && in_range(tree.key());
    if (tree_has && (!min || tree.key() < *min)) min = tree.key();
    if (!min) break;

    // The newest source holding it wins; every source holding it advances.
    const Entry* winner = nullptr;
    for (RunCursor& r : runs) {
      if (r.it != r.end && r.it->key == *min) {
        if (winner == nullptr) winner = &*r.it;
        ++r.it;
      }
    }
    // Copy the tree's view before moving its cursor.
    std::string_view tree_value;
    bool from_tree = false;
    if (tree_has && tree.key() == *min) {
      from_tree = winner == nullptr;
      tree_value = tree.value();
      std::string_view key = *min;
      if (from_tree) {
        // Views into the btree stay valid for the transaction's life.
        if (!fn(key, tree_value)) return absl::OkStatus();
        if (absl::Status s = tree.Next(); !s.ok()) return s;
        if (limit != 0 && ++visited >= limit) break;
        continue;
      }
      if (absl::Status s = tree.Next(); !s.ok()) return s;
    }
    if (winner->tombstone) continue;
    if (!fn(winner->key, winner->value)) return absl::OkStatus();
    if (limit != 0 && ++visited >= limit) break;
  }
  return absl::OkStatus();
}

// A point lookup: the newest segment holding the key decides; below every
// segment (or a reset of the bucket) the btree does. No merge machinery.
absl::StatusOr<std::string_view> MergedGetView(
    const std::vector<std::shared_ptr<const Segment>>& segments, btree::Bucket* tree,
    std::string_view bucket, std::string_view key) {
  // Made only when needed: a status with a message allocates.
  auto absent = [] { return absl::NotFoundError("backend: key not found"); };
  for (auto s = segments.rbegin(); s != segments.rend(); ++s) {
    const BucketRun* run = (*s)->Find(bucket);
    if (run == nullptr) continue;
    if (const Entry* e = run->Find(key); e != nullptr) {
      if (e->tombstone) return absent();
      return e->value;
    }
    if (run->reset) return absent();
  }
  if (tree == nullptr) return absent();
  std::string_view value;
  absl::Status s = tree->Get(key, &value);
  if (absl::IsNotFound(s) || absl::IsFailedPrecondition(s)) return absent();  // or a nested bucket
  if (!s.ok()) return s;
  return value;
}

absl::Status MergedGetSorted(const std::vector<std::shared_ptr<const Segment>>& segments,
                             btree::Bucket* tree, std::string_view bucket,
                             absl::Span<const std::string_view> keys,
                             std::vector<btree::Bucket::Found>* out) {
  out->assign(keys.size(), btree::Bucket::Found{});
  // The bucket's runs, newest first, down to the first that reset it.
  absl::InlinedVector<const BucketRun*, 8> runs;
  bool reset = false;
  for (auto s = segments.rbegin(); s != segments.rend() && !reset; ++s) {
    if (const BucketRun* run = (*s)->Find(bucket); run != nullptr) {
      runs.push_back(run);
      reset = run->reset;
    }
  }
  std::vector<size_t> rest;  // indexes of the keys the btree answers
  std::vector<std::string_view> rest_keys;
  for (size_t i = 0; i < keys.size(); ++i) {
    bool answered = false;
    for (const BucketRun* run : runs) {
      if (const Entry* e = run->Find(keys[i]); e != nullptr) {
        if (!e->tombstone) (*out)[i] = btree::Bucket::Found{true, e->value};
        answered = true;
        break;
      }
    }
    if (!answered && !reset && tree != nullptr) {
      rest.push_back(i);
      rest_keys.push_back(keys[i]);
    }
  }
  if (rest.empty()) return absl::OkStatus();
  std::vector<btree::Bucket::Found> found;
  if (absl::Status s = tree->GetSorted(rest_keys, &found); !s.ok()) return s;
  for (size_t j = 0; j < rest.size(); ++j) (*out)[rest[j]] = found[j];
  return absl::OkStatus();
}

absl::Status MergedGet(const std::vector<std::shared_ptr<const Segment>>& segments,
                       btree::Bucket* tree, std::string_view bucket, std::string_view key,
                       KeyValues* out) {
  absl::StatusOr<std::string_view> v = MergedGetView(segments, tree, bucket, key);
  if (absl::IsNotFound(v.status())) return absl::OkStatus();
  if (!v.ok()) return v.status();
  out->keys.emplace_back(key);
  out->values.emplace_back(*v);
  return absl::OkStatus();
}

absl::StatusOr<KeyValues> MergedRange(
    const std::vector<std::shared_ptr<const Segment>>& segments, btree::Bucket* tree,
    std::string_view bucket, std::string_view key, std::string_view end, size_t limit) {
  KeyValues out;
  if (end.empty()) {
    if (absl::Status s = MergedGet(segments, tree, bucket, key, &out); !s.ok()) return s;
    return out;
  }
  absl::Status s = MergedScan(segments, tree, bucket, key, end, limit,
                              [&](std::string_view k, std::string_view v) {
                                out.keys.emplace_back(k);
                                out.values.emplace_back(v);
                                return true;
                              });
  if (!s.ok()) return s;
  return out;
}

absl::Status MergedForEach(const std::vector<std::shared_ptr<const Segment>>& segments,
                           btree::Bucket* tree, std::string_view bucket, const ForEachFn& fn) {
  absl::Status inner;
  absl::Status s = MergedScan(segments, tree, bucket, "", "", 0,
                              [&](std::string_view k, std::string_view v) {
                                inner = fn(k, v);
                                return inner.ok();
                              });
  if (!s.ok()) return s;
  return inner;
}

}  // namespace revkv::backend
