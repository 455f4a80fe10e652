#include "btree/cursor.h"

#include <algorithm>
#include <cstring>

#include "btree/bucket.h"
#include "util/bytes.h"
#include "btree/node.h"
#include "btree/tx.h"

namespace revkv::btree {
namespace {

constexpr size_t kMaxDepth = 64;
constexpr int kProbeLevels = 3;  // keys a search of a page requests at once: 7

absl::Status OutsidePage(pgid_t id) {
  return CorruptPage(id, "element points outside the page");
}

}  // namespace

int Cursor::Frame::count() const {
  return node != nullptr ? int(node->inodes.size()) : int(page.count());
}

bool Cursor::Frame::is_leaf() const {
  return node != nullptr ? node->is_leaf : page.is_leaf();
}

void Cursor::Fail(absl::Status s) {
  status_ = std::move(s);
  valid_ = false;
  stack_.clear();
}

absl::Status Cursor::Descend(pgid_t id) {
  if (stack_.size() >= kMaxDepth) {
    return CorruptPage(id, "tree deeper than 64 levels (a cycle?)");
  }
  Frame f;
  if (bucket_->tx_->writable()) {
    if (auto it = bucket_->nodes_.find(id); it != bucket_->nodes_.end()) f.node = it->second;
  }
  if (f.node == nullptr) {
    absl::StatusOr<NodeView> page = bucket_->tx_->NodePage(id);
    if (!page.ok()) return page.status();
    f.page = *page;
  }
  stack_.push_back(f);
  return absl::OkStatus();
}

absl::StatusOr<pgid_t> Cursor::ChildId(const Frame& f) const {
  if (f.node != nullptr) return f.node->inodes[size_t(f.index)].pgid;
  std::string_view k;
  pgid_t child;
  if (!f.page.BranchAt(uint32_t(f.index), &k, &child)) return OutsidePage(f.page.id());
  return child;
}

// Leaf: the first index with a key >= `key`. Branch: the first index with a
// key > `key`. Searches [*lo, count); false if a key lies outside the page.
bool Cursor::SearchPage(const NodeView& page, std::string_view key, int* lo) {
  const int bias = page.is_leaf() ? 0 : 1;
  int hi = int(page.count());
  while (*lo < hi) {
    const int mid = (*lo + hi) / 2;
    std::string_view k;
    if (!page.KeyAt(uint32_t(mid), &k)) return false;
    if (util::CompareBytes(k, key) < bias) {
      *lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return true;
}

absl::Status Cursor::SeekInternal(std::string_view key) {
  stack_.clear();
  valid_ = false;
  status_ = absl::OkStatus();
  if (bucket_->root_node_ != nullptr) {
    Frame f;
    f.node = bucket_->root_node_;
    stack_.push_back(f);
  } else if (absl::Status s = Descend(bucket_->header_.root); !s.ok()) {
    return s;
  }
  while (true) {
    Frame& f = stack_.back();
    int lo = 0;
    if (f.node != nullptr) {
      const auto& in = f.node->inodes;
      if (f.node->is_leaf) {
        f.index = int(f.node->LowerBound(key));
        return absl::OkStatus();
      }
      // Last child whose key <= key.
      auto it = std::upper_bound(in.begin(), in.end(), key,
                                 [](std::string_view k, const INode& n) { return util::CompareBytes(k, n.key) < 0; });
      f.index = std::max(0, int(it - in.begin()) - 1);
    } else {
      const bool leaf = f.page.is_leaf();
      // The first probes' keys load together instead of one after another.
      f.page.PrefetchProbes(kProbeLevels);
      if (!SearchPage(f.page, key, &lo)) return OutsidePage(f.page.id());
      if (leaf) {
        f.index = lo;
        return absl::OkStatus();
      }
      f.index = std::max(0, lo - 1);
    }
    if (f.count() == 0) return CorruptPage(f.page.id(), "empty branch page");
    absl::StatusOr<pgid_t> child = ChildId(f);
    if (!child.ok()) return child.status();
    if (absl::Status s = Descend(*child); !s.ok()) return s;
  }
}

// From the top frame down to a leaf, at the first (or last) entry of each
// level below it.
absl::Status Cursor::DescendToEdge(bool first) {
  while (!stack_.back().is_leaf()) {
    Frame& f = stack_.back();
    if (f.count() == 0) return CorruptPage(f.page.id(), "empty branch page");
    absl::StatusOr<pgid_t> child = ChildId(f);
    if (!child.ok()) return child.status();
    if (absl::Status s = Descend(*child); !s.ok()) return s;
    stack_.back().index = first ? 0 : stack_.back().count() - 1;
  }
  return absl::OkStatus();
}

absl::Status Cursor::LoadCurrent() {
  const Frame& f = stack_.back();
  if (f.node != nullptr) {
    const INode& in = f.node->inodes[size_t(f.index)];
    flags_ = in.flags;
    key_ = in.key;
    raw_value_ = in.value;
  } else if (!f.page.LeafAt(uint32_t(f.index), &flags_, &key_, &raw_value_)) {
    return OutsidePage(f.page.id());
  }
  valid_ = true;
  if (flags_ & kBucketFlag) {
    value_ = std::string_view();
  } else if (flags_ & kBigValueFlag) {
    BigValueRef ref;
    if (raw_value_.size() != sizeof ref) {
      return CorruptPage(f.node != nullptr ? f.node->pgid : f.page.id(),
                         "large value reference has the wrong size");
    }
    std::memcpy(&ref, raw_value_.data(), sizeof ref);
    uint32_t pages;
    absl::StatusOr<const char*> span = bucket_->tx_->Span(ref.pgid, PageKind::kOverflow, &pages);
    if (!span.ok()) return span.status();
    if (Header(*span)->count != ref.size ||
        sizeof(PageHeader) + ref.size > uint64_t{pages} * bucket_->tx_->page_size()) {
      return CorruptPage(ref.pgid, "large value size does not match its reference");
    }
    value_ = std::string_view(*span + sizeof(PageHeader), ref.size);
  } else {
    value_ = raw_value_;
  }
  return absl::OkStatus();
}

// Moves to the next (or previous) entry, across leaves (empty ones skipped).
absl::Status Cursor::Step(bool forward) {
  while (true) {
    int i = int(stack_.size()) - 1;
    for (; i >= 0; --i) {
      Frame& f = stack_[size_t(i)];
      if (forward && f.index < f.count() - 1) {
        ++f.index;
        break;
      }
      if (!forward) {
        if (f.index > f.count()) f.index = f.count();
        if (f.index > 0) {
          --f.index;
          break;
        }
      }
    }
    if (i < 0) {
      valid_ = false;
      stack_.clear();
      return absl::OkStatus();
    }
    stack_.resize(size_t(i) + 1);
    if (absl::Status s = DescendToEdge(forward); !s.ok()) return s;
    if (stack_.back().count() == 0) continue;
    return LoadCurrent();
  }
}

void Cursor::First() {
  absl::Status s = SeekInternal(std::string_view());
  if (s.ok()) {
    stack_.resize(1);
    stack_.back().index = 0;
    s = DescendToEdge(true);
  }
  if (s.ok()) {
    s = stack_.back().count() == 0 ? Step(true) : LoadCurrent();
  }
  if (!s.ok()) Fail(std::move(s));
}

void Cursor::Last() {
  absl::Status s = SeekInternal(std::string_view());
  if (s.ok()) {
    stack_.resize(1);
    stack_.back().index = stack_.back().count() - 1;
    s = DescendToEdge(false);
  }
  if (s.ok()) {
    s = stack_.back().count() == 0 ? Step(false) : LoadCurrent();
  }
  if (!s.ok()) Fail(std::move(s));
}

void Cursor::Seek(std::string_view key) {
  absl::Status s = SeekInternal(key);
  if (s.ok()) {
    const Frame& f = stack_.back();
    s = f.index >= f.count() ? Step(true) : LoadCurrent();
  }
  if (!s.ok()) Fail(std::move(s));
}

void Cursor::Next() {
  if (!valid_) return;
  if (absl::Status s = Step(true); !s.ok()) Fail(std::move(s));
}

void Cursor::Prev() {
  if (!valid_) return;
  if (absl::Status s = Step(false); !s.ok()) Fail(std::move(s));
}

absl::StatusOr<Node*> Cursor::LeafNode() {
  if (stack_.empty()) return absl::InternalError("btree: cursor is not positioned");
  // A materialized node's ancestors are materialized too: nothing to walk.
  if (stack_.back().node != nullptr) return stack_.back().node;
  Node* n = stack_[0].node;
  if (n == nullptr) {
    absl::StatusOr<Node*> root = bucket_->NodeFor(stack_[0].page.id(), nullptr);
    if (!root.ok()) return root.status();
    n = *root;
  }
  for (size_t i = 0; i + 1 < stack_.size(); ++i) {
    absl::StatusOr<Node*> child = n->ChildAt(size_t(stack_[i].index));
    if (!child.ok()) return child.status();
    n = *child;
  }
  if (!n->is_leaf) return absl::InternalError("btree: cursor path does not end in a leaf");
  return n;
}

absl::Status Cursor::Delete() {
  if (absl::Status s = bucket_->CheckWritable(); !s.ok()) return s;
  if (!valid_) return absl::FailedPreconditionError("btree: cursor is not on an entry");
  if (is_bucket()) {
    return absl::FailedPreconditionError("btree: entry is a bucket; use DeleteBucket");
  }
  std::string key(key_);
  if (flags_ & kBigValueFlag) {
    BigValueRef ref;
    std::memcpy(&ref, raw_value_.data(), sizeof ref);
    bucket_->tx_->Free(ref.pgid,
                       PagesFor(sizeof(PageHeader) + ref.size, bucket_->tx_->page_size()));
  }
  absl::StatusOr<Node*> leaf = LeafNode();
  if (!leaf.ok()) return leaf.status();
  (*leaf)->Del(key);
  Seek(key);
  return status_;
}

}  // namespace revkv::btree

namespace revkv::btree {

// The path in stack_ holds branch frames only. A frame still covers `key`
// when `key` sorts below the separator after its current child (keys come
// in ascending order, so it is at or after that child's first key); the
// last child's upper bound lies in an ancestor, so that frame is left.
absl::StatusOr<pgid_t> Cursor::LeafIdFor(std::string_view key) {
  if (util::CompareBytes(key, last_key_) < 0) stack_.clear();  // out of order: start over
  last_key_ = key;
  while (!stack_.empty()) {
    const Frame& f = stack_.back();
    std::string_view next;
    if (f.index + 1 < f.count()) {
      if (!f.page.KeyAt(uint32_t(f.index + 1), &next)) return OutsidePage(f.page.id());
      if (util::CompareBytes(key, next) < 0) break;
    }
    stack_.pop_back();
  }
  if (stack_.empty()) {
    if (absl::Status s = Descend(bucket_->header_.root); !s.ok()) return s;
    if (stack_.back().is_leaf()) {  // a one-page tree
      stack_.clear();
      return bucket_->header_.root;
    }
  }
  while (true) {
    Frame& f = stack_.back();
    int lo = f.index;
    if (!SearchPage(f.page, key, &lo)) return OutsidePage(f.page.id());
    if (f.count() == 0) return CorruptPage(f.page.id(), "empty branch page");
    f.index = std::max(0, lo - 1);
    absl::StatusOr<pgid_t> child = ChildId(f);
    if (!child.ok()) return child.status();
    // Leaves all sit at one depth, learnt from the first descent: the child
    // of a frame at that depth is returned unread, for the caller to
    // prefetch. (SeekInLeaf copes with a file where that does not hold.)
    if (int(stack_.size()) == leaf_depth_) return *child;
    if (absl::Status s = Descend(*child); !s.ok()) return s;
    if (stack_.back().is_leaf()) {
      stack_.pop_back();
      leaf_depth_ = int(stack_.size());
      return *child;
    }
  }
}

absl::Status Cursor::SeekInLeaf(pgid_t id, std::string_view key) {
  stack_.clear();
  valid_ = false;
  if (absl::Status s = Descend(id); !s.ok()) return s;
  Frame& f = stack_.back();
  if (!f.is_leaf()) {  // leaves at several depths: search from the root instead
    Seek(key);
    return status_;
  }
  int lo = 0;
  if (!SearchPage(f.page, key, &lo)) return OutsidePage(f.page.id());
  f.index = lo;
  if (lo >= f.count()) return absl::OkStatus();  // not in this leaf: absent
  return LoadCurrent();
}

}  // namespace revkv::btree
