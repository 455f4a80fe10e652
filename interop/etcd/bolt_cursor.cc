#include "interop/etcd/bolt_cursor.h"

#include "absl/strings/str_format.h"
#include "interop/etcd/bolt_db.h"
#include "interop/etcd/bolt_error.h"

namespace revkv::interop::etcd {

BucketCursor::BucketCursor(const BoltFile* file, BucketRef bucket)
    : file_(file), bucket_(std::move(bucket)) {}

bool BucketCursor::Fail(absl::Status s) {
  status_ = std::move(s);
  valid_ = false;
  stack_.clear();
  return false;
}

bool BucketCursor::Enter(uint64_t id) {
  if (stack_.size() >= kMaxDepth) {
    return Fail(BoltError(kBoltTooDeep, id, absl::StrFormat("deeper than %d levels", kMaxDepth)));
  }
  absl::StatusOr<Page> p = file_->PageAt(id);
  if (!p.ok()) return Fail(p.status());
  if (!p->is_branch() && !p->is_leaf()) {
    return Fail(BoltError(kBoltBadPageHeader, id,
                          absl::StrFormat("a bucket's tree reaches a page of flags 0x%x",
                                          p->flags())));
  }
  // One bit per page below the high-water mark, which Page::At checked.
  const size_t words = (file_->meta().pgid + 63) / 64;
  if (entered_.size() < words) entered_.resize(words, 0);
  uint64_t& w = entered_[id / 64];
  const uint64_t bit = uint64_t{1} << (id % 64);
  if ((w & bit) != 0) return Fail(BoltError(kBoltPageReused, id, "page reached twice"));
  w |= bit;
  if (record_ != nullptr) record_->push_back(id);
  stack_.push_back(Frame{*p, 0});
  return true;
}

bool BucketCursor::First() {
  stack_.clear();
  entered_.clear();
  have_prev_ = false;
  valid_ = false;
  if (!status_.ok()) return false;
  if (bucket_.inline_page.has_value()) {
    stack_.push_back(Frame{*bucket_.inline_page, 0});
  } else if (!Enter(bucket_.root)) {
    return false;
  }
  return Descend();
}

bool BucketCursor::Next() {
  if (!valid_) return false;
  return Advance();
}

bool BucketCursor::Advance() {
  while (!stack_.empty()) {
    Frame& top = stack_.back();
    if (++top.index < top.page.count()) return Descend();
    stack_.pop_back();
  }
  valid_ = false;
  return false;
}

bool BucketCursor::Descend() {
  while (true) {
    Frame& top = stack_.back();
    if (top.page.is_branch()) {
      if (top.page.count() == 0) {
        return Fail(BoltError(kBoltBadPageHeader, top.page.id(), "empty branch page"));
      }
      absl::StatusOr<BranchElement> e = top.page.Branch(top.index);
      if (!e.ok()) return Fail(e.status());
      if (top.index > 0) {
        absl::StatusOr<BranchElement> before = top.page.Branch(top.index - 1);
        if (!before.ok()) return Fail(before.status());
        if (!(before->key < e->key)) {
          return Fail(BoltError(kBoltUnsorted, top.page.id(),
                                absl::StrFormat("branch key %d is not above key %d", top.index,
                                                top.index - 1)));
        }
      }
      if (!Enter(e->child)) return false;
      continue;
    }
    // A leaf (Enter and Page::Inline admit nothing else).
    if (top.index >= top.page.count()) {
      // An empty leaf: on to the next entry, iteratively (a run of damaged
      // empty pages must not recurse).
      stack_.pop_back();
      while (!stack_.empty() && ++stack_.back().index >= stack_.back().page.count()) {
        stack_.pop_back();
      }
      if (stack_.empty()) {
        valid_ = false;
        return false;
      }
      continue;
    }
    absl::StatusOr<LeafElement> e = top.page.Leaf(top.index);
    if (!e.ok()) return Fail(e.status());
    if ((e->flags & ~kBucketLeafFlag) != 0) {
      return Fail(BoltError(kBoltBadElement, top.page.id(),
                            absl::StrFormat("leaf element flags 0x%x", e->flags)));
    }
    if (have_prev_ && !(prev_key_ < e->key)) {
      return Fail(BoltError(kBoltUnsorted, top.page.id(),
                            "a key is not above the key before it"));
    }
    current_ = *e;
    prev_key_ = e->key;
    have_prev_ = true;
    valid_ = true;
    return true;
  }
}

}  // namespace revkv::interop::etcd
