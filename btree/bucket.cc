#include "btree/bucket.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_format.h"
#include "btree/node.h"
#include "btree/options.h"
#include "btree/tx.h"

namespace revkv::btree {
namespace {

constexpr int kMaxDepth = 64;

std::string_view AsBytes(const void* p, size_t n) {
  return std::string_view(static_cast<const char*>(p), n);
}

}  // namespace

Bucket::Bucket(Tx* tx, BucketHeader header) : tx_(tx), header_(header) {}
Bucket::~Bucket() = default;

bool Bucket::writable() const { return tx_->writable(); }

absl::Status Bucket::CheckWritable() const {
  if (!tx_->open_) return absl::FailedPreconditionError("btree: transaction is closed");
  if (!tx_->writable()) {
    return absl::FailedPreconditionError("btree: transaction is read-only");
  }
  return absl::OkStatus();
}

absl::StatusOr<Node*> Bucket::NodeFor(pgid_t id, Node* parent) {
  if (auto it = nodes_.find(id); it != nodes_.end()) return it->second;
  absl::StatusOr<NodeView> page = tx_->NodePage(id);
  if (!page.ok()) return page.status();
  auto node = std::make_unique<Node>(this, page->is_leaf(), parent);
  if (absl::Status s = node->Read(*page); !s.ok()) return s;
  Node* n = node.get();
  owned_nodes_.push_back(std::move(node));
  nodes_[id] = n;
  if (parent != nullptr) {
    parent->children.push_back(n);
  } else {
    root_node_ = n;
  }
  return n;
}

Node* Bucket::NewNode(bool is_leaf, Node* parent) {
  owned_nodes_.push_back(std::make_unique<Node>(this, is_leaf, parent));
  return owned_nodes_.back().get();
}

absl::Status Bucket::Get(std::string_view key, std::string_view* value) {
  Cursor c(this);
  c.Seek(key);
  if (!c.status().ok()) return c.status();
  if (!c.Valid() || c.key() != key) return absl::NotFoundError("btree: key not found");
  if (c.is_bucket()) {
    return absl::FailedPreconditionError("btree: key names a bucket, not a value");
  }
  *value = c.value();
  return absl::OkStatus();
}

absl::Status Bucket::GetSorted(absl::Span<const std::string_view> keys,
                               std::vector<Found>* out) {
  out->assign(keys.size(), Found{});
  if (tx_->writable()) {  // nodes may have replaced pages: no shortcut
    for (size_t i = 0; i < keys.size(); ++i) {
      absl::Status s = Get(keys[i], &(*out)[i].value);
      if (s.ok()) {
        (*out)[i].found = true;
      } else if (!absl::IsNotFound(s) && !absl::IsFailedPrecondition(s)) {
        return s;
      }
    }
    return absl::OkStatus();
  }
  // Three passes over each group of keys: find the leaves and request their
  // heads (header and elements); then request the keys a binary search
  // probes first; then search. The misses of a group's leaves overlap
  // instead of following one another. (The group size was tuned on the
  // mvcc bench; bench/README.md has the figures.)
  constexpr size_t kGroup = 16;
  constexpr size_t kHeadBytes = 512;
  constexpr int kProbeLevels = 3;
  Cursor path(this), leaf(this);
  pgid_t ids[kGroup];
  for (size_t base = 0; base < keys.size(); base += kGroup) {
    const size_t n = std::min(kGroup, keys.size() - base);
    for (size_t i = 0; i < n; ++i) {
      absl::StatusOr<pgid_t> id = path.LeafIdFor(keys[base + i]);
      if (!id.ok()) return id.status();
      ids[i] = *id;
      tx_->Prefetch(*id, kHeadBytes);
    }
    for (size_t i = 0; i < n; ++i) tx_->PrefetchProbes(ids[i], kProbeLevels);
    for (size_t i = 0; i < n; ++i) {
      const std::string_view key = keys[base + i];
      if (absl::Status s = leaf.SeekInLeaf(ids[i], key); !s.ok()) return s;
      if (leaf.Valid() && leaf.key() == key && !leaf.is_bucket()) {
        (*out)[base + i] = Found{true, leaf.value()};
      }
    }
  }
  return absl::OkStatus();
}

absl::Status Bucket::Put(std::string_view key, std::string_view value) {
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  if (key.empty()) return absl::InvalidArgumentError("btree: key is empty");
  if (key.size() > kMaxKeySize) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "btree: key of %d bytes exceeds the limit of %d", key.size(), kMaxKeySize));
  }
  if (value.size() > kMaxValueSize) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "btree: value of %d bytes exceeds the limit of %d", value.size(), kMaxValueSize));
  }
  Node* leaf = AppendLeafFor(key);
  if (leaf == nullptr) {
    absl::StatusOr<Node*> found = LeafForPut(key);
    if (!found.ok()) return found.status();
    leaf = *found;
  }

  uint32_t flags = 0;
  std::string_view stored;
  if (16 + key.size() + value.size() > tx_->page_size() / 4) {
    uint64_t pages = PagesFor(sizeof(PageHeader) + value.size(), tx_->page_size());
    absl::StatusOr<pgid_t> id = tx_->Allocate(pages);
    if (!id.ok()) return id.status();
    if (absl::Status s = tx_->WriteOverflow(*id, pages, value); !s.ok()) return s;
    BigValueRef ref{*id, value.size()};
    stored = tx_->Copy(AsBytes(&ref, sizeof ref));
    flags = kBigValueFlag;
  } else {
    stored = tx_->Copy(value);
  }
  std::string_view k = tx_->Copy(key);
  if (leaf == append_leaf_ && (leaf->inodes.empty() || leaf->inodes.back().key < k)) {
    leaf->inodes.push_back(INode{flags, k, stored, 0});  // no search: it goes last
  } else {
    leaf->Put(k, k, stored, 0, flags);
  }
  return absl::OkStatus();
}

Node* Bucket::AppendLeafFor(std::string_view key) const {
  if (append_leaf_ == nullptr || append_leaf_->inodes.empty()) return nullptr;
  return append_leaf_->inodes.back().key < key ? append_leaf_ : nullptr;
}

absl::StatusOr<Node*> Bucket::LeafForPut(std::string_view key) {
  Cursor c(this);
  if (absl::Status s = c.SeekInternal(key); !s.ok()) return s;
  const Cursor::Frame& top = c.stack_.back();
  if (top.index < top.count()) {
    if (absl::Status s = c.LoadCurrent(); !s.ok()) return s;
    if (c.key() == key) {
      if (c.is_bucket()) {
        return absl::FailedPreconditionError("btree: key names a bucket, not a value");
      }
      if (c.flags_ & kBigValueFlag) {
        BigValueRef ref;
        std::memcpy(&ref, c.raw_value_.data(), sizeof ref);
        tx_->Free(ref.pgid, PagesFor(sizeof(PageHeader) + ref.size, tx_->page_size()));
      }
    }
  }
  // Past the end of the last child at every level: the rightmost leaf, which
  // stays the rightmost until the commit splits nodes. Later keys above it
  // (appends) can skip the search.
  bool rightmost = top.index == top.count();
  for (size_t i = 0; rightmost && i + 1 < c.stack_.size(); ++i) {
    rightmost = c.stack_[i].index == c.stack_[i].count() - 1;
  }
  absl::StatusOr<Node*> leaf = c.LeafNode();
  if (leaf.ok() && rightmost) append_leaf_ = *leaf;
  return leaf;
}

absl::Status Bucket::Delete(std::string_view key) {
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  Cursor c(this);
  c.Seek(key);
  if (!c.status().ok()) return c.status();
  if (!c.Valid() || c.key() != key) return absl::OkStatus();
  if (c.is_bucket()) {
    return absl::FailedPreconditionError("btree: key names a bucket; use DeleteBucket");
  }
  return c.Delete();
}

absl::Status Bucket::Range(
    std::string_view start, std::string_view end, size_t limit,
    const std::function<bool(std::string_view, std::string_view)>& fn) {
  Cursor c(this);
  if (start.empty()) {
    c.First();
  } else {
    c.Seek(start);
  }
  size_t n = 0;
  for (; c.Valid(); c.Next()) {
    if (!end.empty() && c.key() >= end) break;
    if (c.is_bucket()) continue;
    if (!fn(c.key(), c.value())) break;
    if (limit != 0 && ++n >= limit) break;
  }
  return c.status();
}

absl::StatusOr<Bucket*> Bucket::OpenChild(std::string_view name, std::string_view value) {
  if (value.size() != sizeof(BucketHeader)) {
    return absl::DataLossError("btree: bucket header has the wrong size");
  }
  BucketHeader h;
  std::memcpy(&h, value.data(), sizeof h);
  auto child = std::unique_ptr<Bucket>(new Bucket(tx_, h));
  Bucket* b = child.get();
  children_.emplace(std::string(name), std::move(child));
  return b;
}

absl::StatusOr<Bucket*> Bucket::GetBucket(std::string_view name) {
  if (auto it = children_.find(name); it != children_.end()) return it->second.get();
  Cursor c(this);
  c.Seek(name);
  if (!c.status().ok()) return c.status();
  if (!c.Valid() || c.key() != name) {
    return absl::NotFoundError(absl::StrFormat("btree: bucket %s not found", name));
  }
  if (!c.is_bucket()) {
    return absl::FailedPreconditionError(
        absl::StrFormat("btree: key %s holds a value, not a bucket", name));
  }
  return OpenChild(name, c.raw_value_);
}

absl::StatusOr<Bucket*> Bucket::CreateBucket(std::string_view name) {
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  if (name.empty()) return absl::InvalidArgumentError("btree: bucket name is empty");
  if (name.size() > kMaxKeySize) {
    return absl::InvalidArgumentError("btree: bucket name exceeds the key size limit");
  }
  Cursor c(this);
  c.Seek(name);
  if (!c.status().ok()) return c.status();
  if (c.Valid() && c.key() == name) {
    if (c.is_bucket()) {
      return absl::AlreadyExistsError(absl::StrFormat("btree: bucket %s already exists", name));
    }
    return absl::FailedPreconditionError(
        absl::StrFormat("btree: key %s holds a value, not a bucket", name));
  }
  if (absl::Status s = c.SeekInternal(name); !s.ok()) return s;
  absl::StatusOr<Node*> leaf = c.LeafNode();
  if (!leaf.ok()) return leaf.status();

  auto child = std::unique_ptr<Bucket>(new Bucket(tx_, BucketHeader{}));
  child->root_node_ = child->NewNode(/*is_leaf=*/true, nullptr);
  child->header_dirty_ = true;
  std::string_view k = tx_->Copy(name);
  BucketHeader empty{};
  (*leaf)->Put(k, k, tx_->Copy(AsBytes(&empty, sizeof empty)), 0, kBucketFlag);
  Bucket* b = child.get();
  children_.emplace(std::string(name), std::move(child));
  return b;
}

absl::StatusOr<Bucket*> Bucket::CreateBucketIfNotExists(std::string_view name) {
  absl::StatusOr<Bucket*> b = GetBucket(name);
  if (b.ok() || !absl::IsNotFound(b.status())) return b;
  return CreateBucket(name);
}

absl::Status Bucket::DeleteBucket(std::string_view name) {
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  absl::StatusOr<Bucket*> child = GetBucket(name);
  if (!child.ok()) return child.status();
  if (absl::Status s = (*child)->FreeTree(0, 0); !s.ok()) return s;
  children_.erase(children_.find(name));
  Cursor c(this);
  if (absl::Status s = c.SeekInternal(name); !s.ok()) return s;
  absl::StatusOr<Node*> leaf = c.LeafNode();
  if (!leaf.ok()) return leaf.status();
  (*leaf)->Del(name);
  return absl::OkStatus();
}

// Frees every page of this bucket (and of the buckets and large values inside
// it). Called with id 0 for the root.
absl::Status Bucket::FreeTree(pgid_t id, int depth) {
  if (depth > kMaxDepth) return absl::DataLossError("btree: tree deeper than 64 levels");
  if (depth == 0) {
    // Nested buckets and large values first, seen through the current state.
    Cursor c(this);
    for (c.First(); c.Valid(); c.Next()) {
      if (c.is_bucket()) {
        absl::StatusOr<Bucket*> nested = GetBucket(c.key());
        if (!nested.ok()) return nested.status();
        if (absl::Status s = (*nested)->FreeTree(0, 0); !s.ok()) return s;
      } else if (c.flags_ & kBigValueFlag) {
        BigValueRef ref;
        std::memcpy(&ref, c.raw_value_.data(), sizeof ref);
        tx_->Free(ref.pgid, PagesFor(sizeof(PageHeader) + ref.size, tx_->page_size()));
      }
    }
    if (!c.status().ok()) return c.status();
    if (root_node_ != nullptr && root_node_->pgid == 0) return absl::OkStatus();  // new
    id = root_node_ != nullptr ? root_node_->pgid : header_.root;
  }
  if (auto it = nodes_.find(id); it != nodes_.end()) {
    Node* n = it->second;
    if (!n->is_leaf) {
      for (const INode& in : n->inodes) {
        if (absl::Status s = FreeTree(in.pgid, depth + 1); !s.ok()) return s;
      }
    }
    tx_->Free(n->pgid, n->span_pages);
    return absl::OkStatus();
  }
  absl::StatusOr<NodeView> page = tx_->NodePage(id);
  if (!page.ok()) return page.status();
  if (!page->is_leaf()) {
    for (uint32_t i = 0; i < page->count(); ++i) {
      std::string_view k;
      pgid_t child;
      if (!page->BranchAt(i, &k, &child)) return CorruptPage(id, "element points outside the page");
      if (absl::Status s = FreeTree(child, depth + 1); !s.ok()) return s;
    }
  }
  tx_->Free(id, uint64_t{page->header()->overflow} + 1);
  return absl::OkStatus();
}

absl::Status Bucket::SetSequence(uint64_t v) {
  if (absl::Status s = CheckWritable(); !s.ok()) return s;
  header_.sequence = v;
  header_dirty_ = true;
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> Bucket::NextSequence() {
  if (absl::Status s = SetSequence(header_.sequence + 1); !s.ok()) return s;
  return header_.sequence;
}

void Bucket::SetFillPercent(double f) {
  fill_percent_ = f < 0.1 ? 0.1 : (f > 1.0 ? 1.0 : f);
}

absl::Status Bucket::Rebalance() {
  std::vector<Node*> nodes;
  nodes.reserve(nodes_.size());
  for (const auto& [id, n] : nodes_) nodes.push_back(n);
  for (Node* n : nodes) {
    if (absl::Status s = n->Rebalance(); !s.ok()) return s;
  }
  for (auto& [name, child] : children_) {
    if (absl::Status s = child->Rebalance(); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status Bucket::Spill() {
  for (auto& [name, child] : children_) {
    if (absl::Status s = child->Spill(); !s.ok()) return s;
    if (!child->header_dirty_) continue;
    Cursor c(this);
    if (absl::Status s = c.SeekInternal(name); !s.ok()) return s;
    if (absl::Status s = c.LoadCurrent(); !s.ok()) return s;
    if (c.key() != name || !c.is_bucket()) {
      return absl::InternalError("btree: nested bucket vanished during commit");
    }
    absl::StatusOr<Node*> leaf = c.LeafNode();
    if (!leaf.ok()) return leaf.status();
    std::string_view v = tx_->Copy(AsBytes(&child->header_, sizeof child->header_));
    (*leaf)->Put(c.key(), c.key(), v, 0, kBucketFlag);
    child->header_dirty_ = false;
  }
  if (root_node_ == nullptr) return absl::OkStatus();
  if (absl::Status s = root_node_->Spill(); !s.ok()) return s;
  root_node_ = root_node_->Root();
  if (header_.root != root_node_->pgid) {
    header_.root = root_node_->pgid;
    header_dirty_ = true;
  }
  return absl::OkStatus();
}

}  // namespace revkv::btree
