// KeyIndex: the revision history of one key, as etcd's keyIndex keeps it.
//
// A key's history is a list of generations. A generation starts with a put
// that creates the key, holds each later put, and ends with a tombstone
// (delete); the next put starts a new generation at version 1. The last
// generation is the live one, empty after a delete.
//
//   put(2) put(3) del(5) put(7)        generations: {2, 3, 5t} {7}
//
// Compaction at revision R drops every revision below the newest one <= R in
// its generation, and whole generations that ended (tombstone) at or below R.
//
// Memory: 16 bytes for the common key with a single revision (version 1,
// created by that revision), held inline; any longer history moves to a heap
// block. (etcd's keyIndex with its generation slices takes ~200 bytes.)
//
// Thread-safety: not thread-safe; Index guards it.
#ifndef REVKV_MVCC_KEY_INDEX_H_
#define REVKV_MVCC_KEY_INDEX_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "mvcc/revision.h"

namespace revkv::mvcc {

struct RevisionHash {
  size_t operator()(const Revision& r) const {
    return size_t(r.main) * 0x9e3779b97f4a7c15ull ^ size_t(r.sub);
  }
};
using RevisionSet = absl::flat_hash_set<Revision, RevisionHash>;

// The revisions of some histories: how many, the least and the greatest (for
// checking a decoded index checkpoint against the key bucket).
struct RevisionSummary {
  int64_t count = 0;
  Revision min{INT64_MAX, INT64_MAX};
  Revision max{0, 0};
};

// What Get returns: the revision that holds the key's value at some revision,
// when the key's generation was created, and its version there.
struct KeyAt {
  Revision modified;
  Revision created;
  int64_t version = 0;
};

class KeyIndex {
 public:
  KeyIndex() = default;
  ~KeyIndex() { Reset(); }
  KeyIndex(KeyIndex&& o) noexcept : a_(o.a_), b_(o.b_) { o.a_ = o.b_ = 0; }
  KeyIndex& operator=(KeyIndex&& o) noexcept {
    if (this != &o) {
      Reset();
      a_ = o.a_;
      b_ = o.b_;
      o.a_ = o.b_ = 0;
    }
    return *this;
  }
  KeyIndex(const KeyIndex&) = delete;
  KeyIndex& operator=(const KeyIndex&) = delete;

  // Records a put at rev (> every revision recorded so far).
  void Put(Revision rev);
  // Restores the latest state from disk without history (open).
  void Restore(Revision created, Revision modified, int64_t version);
  // Records a delete at rev; NotFound if the key is not live.
  absl::Status Tombstone(Revision rev);
  // The key as of revision `at_rev`; NotFound if it did not exist then.
  absl::Status Get(int64_t at_rev, KeyAt* out) const;
  // Compacts at `at_rev`, adding the revisions still needed to *keep.
  void Compact(int64_t at_rev, RevisionSet* keep);
  // Adds to *keep what Compact(at_rev) would keep, changing nothing.
  void Keep(int64_t at_rev, RevisionSet* keep) const;
  // No revision left (only after compaction removed a deleted key).
  bool IsEmpty() const;
  // Bytes of heap the index holds beyond sizeof(KeyIndex).
  size_t HeapBytes() const;

  // The exact state, for the index checkpoint (index.h): appended to *out,
  // and read back from the front of *in (advanced past it). Decode returns
  // false on malformed input.
  void EncodeTo(std::string* out) const;
  bool DecodeFrom(std::string_view* in);
  // Whether the history is one the index could hold: at least one revision,
  // every revision in [{1, 0}, {max_main, *}] and strictly increasing across
  // generations, only the last generation empty, each generation created at
  // or before its first revision and with a version of at least its
  // revision count. If so, adds its revisions to *summary.
  bool CheckWellFormed(int64_t max_main, RevisionSummary* summary) const;

 private:
  struct Generation {
    int64_t version = 0;  // puts in the generation, compacted ones included
    Revision created;
    absl::InlinedVector<Revision, 1> revs;
  };
  using Generations = absl::InlinedVector<Generation, 1>;

  // Representation: a_ == 0: no revision yet. a_ > 0: a single live revision
  // {a_, b_} that created the key (version 1). a_ < 0: b_ points to the
  // Generations on the heap.
  bool is_single() const { return a_ > 0; }
  bool is_full() const { return a_ < 0; }
  Generations* full() const { return reinterpret_cast<Generations*>(b_); }
  // Converts to the heap form (for any change but the first put).
  Generations& Full();
  void Reset();

  static const Generation* FindGeneration(const Generations& gens, int64_t at_rev);
  static void DoCompact(const Generations& gens, int64_t at_rev, RevisionSet* keep,
                        size_t* gen, int* rev_index);

  int64_t a_ = 0;
  int64_t b_ = 0;
};
static_assert(sizeof(KeyIndex) == 16);

}  // namespace revkv::mvcc

#endif  // REVKV_MVCC_KEY_INDEX_H_
