// SegmentStack: a list of Segments, oldest first, kept short by merging,
// LSM-style: after a push, while the newest segment weighs at least as much
// as the one before it, the two are merged. Weights then at least double
// from newest to oldest, so a stack summarising n writes holds O(log n)
// segments and each write is merged O(log n) times (amortised).
//
// Segments handed to the committer are sealed: they are never merged with
// newer ones or changed, so that the commit that writes them into the btree
// can drop exactly them from the front of the stack.
//
// The list itself is immutable and shared too (a push builds a new one), so
// a reader takes all of it with one shared pointer: copying n segment
// pointers had every reader bump n reference counts the writer and the
// other readers bump as well.
//
// Thread-safety: not thread-safe; a value type guarded by its owner.
#ifndef REVKV_BACKEND_SEGMENT_STACK_H_
#define REVKV_BACKEND_SEGMENT_STACK_H_

#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include "backend/segment.h"

namespace revkv::backend {

class SegmentStack {
 public:
  using Segments = std::vector<std::shared_ptr<const Segment>>;

  SegmentStack();

  // Adds `segment` as the newest, merging as described above (never into a
  // sealed segment).
  void Push(std::shared_ptr<const Segment> segment);
  // The newest segment if it is not sealed and no reader has seen it (its
  // `shared` flag is clear), which may then grow in place
  // (Segment::TryAbsorb); else null. The caller holds the lock guarding
  // `shared`.
  Segment* MutableTop();
  // Seals every segment not sealed yet and returns them, oldest first.
  Segments Seal();
  // Removes the `n` oldest segments, which must be sealed.
  void DropSealed(size_t n);
  size_t sealed() const { return sealed_; }
  // Marks the newest segment, the only one MutableTop ever hands out, as
  // seen by a reader. Same lock.
  void MarkShared() const;
  void Clear();
  // Makes *next this stack's value if this stack is still `base` (the same
  // list and seal point: no Seal or DropSealed since `base` was copied from
  // it), and returns true; else changes nothing and returns false. *next is
  // `base` after a Push: a push and its merges computed on a copy, away
  // from the lock that guards this stack, which must never merge into
  // segments sealed meanwhile nor bring back ones dropped. The previous
  // value is left in *next, to be freed by the caller after that lock.
  bool ReplaceIfUnchanged(const SegmentStack& base, SegmentStack* next) {
    if (list_ != base.list_ || sealed_ != base.sealed_) return false;
    std::swap(*this, *next);
    return true;
  }
  bool empty() const { return list_->empty(); }

  // Oldest first.
  const Segments& segments() const { return *list_; }
  // The same list, to keep: it never changes.
  std::shared_ptr<const Segments> shared_segments() const { return list_; }
  // Entries over all segments (a key written in two segments counts twice).
  size_t entry_count() const;
  // All segments merged into one (nullptr when empty).
  std::shared_ptr<const Segment> Flatten() const;

 private:
  std::shared_ptr<const Segments> list_;  // never null
  size_t sealed_ = 0;                     // the first sealed_ of list_
};

}  // namespace revkv::backend

#endif  // REVKV_BACKEND_SEGMENT_STACK_H_
