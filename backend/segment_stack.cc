#include "backend/segment_stack.h"

#include <algorithm>
#include <utility>

namespace revkv::backend {

SegmentStack::SegmentStack() : list_(std::make_shared<const Segments>()) {}

void SegmentStack::Clear() {
  list_ = std::make_shared<const Segments>();
  sealed_ = 0;
}

void SegmentStack::Push(std::shared_ptr<const Segment> segment) {
  auto next = std::make_shared<Segments>(*list_);
  Segments& segments_ = *next;
  segments_.push_back(std::move(segment));
  while (segments_.size() >= sealed_ + 2) {
    const Segment& newer = *segments_[segments_.size() - 1];
    const Segment& older = *segments_[segments_.size() - 2];
    if (older.weight() > newer.weight()) break;
    std::shared_ptr<const Segment> merged = Segment::Merge(older, newer);
    segments_.pop_back();
    segments_.back() = std::move(merged);
  }
  list_ = std::move(next);
}

Segment* SegmentStack::MutableTop() {
  const Segments& segments_ = *list_;
  if (segments_.size() <= sealed_ || segments_.back()->shared) return nullptr;
  // Every segment is created non-const (Freeze, Merge); only the stack's
  // unshared newest one is ever changed.
  return const_cast<Segment*>(segments_.back().get());
}

SegmentStack::Segments SegmentStack::Seal() {
  Segments out(list_->begin() + ptrdiff_t(sealed_), list_->end());
  sealed_ = list_->size();
  return out;
}

void SegmentStack::DropSealed(size_t n) {
  n = std::min(n, sealed_);
  list_ = std::make_shared<const Segments>(list_->begin() + ptrdiff_t(n), list_->end());
  sealed_ -= n;
}

void SegmentStack::MarkShared() const {
  // Only the newest segment is ever changed (MutableTop), so it is the only
  // one a reader needs to pin.
  if (!list_->empty()) list_->back()->shared = true;
}

size_t SegmentStack::entry_count() const {
  size_t n = 0;
  for (const auto& s : *list_) n += s->entry_count();
  return n;
}

std::shared_ptr<const Segment> SegmentStack::Flatten() const {
  const Segments& segments_ = *list_;
  if (segments_.empty()) return nullptr;
  std::shared_ptr<const Segment> out = segments_.front();
  for (size_t i = 1; i < segments_.size(); ++i) out = Segment::Merge(*out, *segments_[i]);
  return out;
}

}  // namespace revkv::backend
