#include "btree/node.h"

#include <algorithm>
#include <cstring>

#include "btree/bucket.h"
#include "util/bytes.h"
#include "btree/tx.h"

namespace revkv::btree {

absl::Status Node::Read(const NodeView& page) {
  pgid = page.id();
  span_pages = uint64_t{page.header()->overflow} + 1;
  inodes.resize(page.count());
  for (uint32_t i = 0; i < page.count(); ++i) {
    INode& in = inodes[i];
    bool ok = is_leaf ? page.LeafAt(i, &in.flags, &in.key, &in.value)
                      : page.BranchAt(i, &in.key, &in.pgid);
    if (!ok) return CorruptPage(pgid, "element points outside the page");
  }
  if (!inodes.empty()) key = inodes[0].key;
  return absl::OkStatus();
}

size_t Node::Size() const {
  size_t n = sizeof(PageHeader);
  for (const INode& in : inodes) n += ElementSize(in);
  return n;
}

void Node::Write(char* span, uint64_t pages) const {
  PageHeader* h = Header(span);
  h->checksum = 0;
  h->id = pgid;
  h->kind = uint16_t(is_leaf ? PageKind::kLeaf : PageKind::kBranch);
  h->flags = 0;
  h->count = uint32_t(inodes.size());
  h->overflow = uint32_t(pages - 1);
  h->reserved = 0;
  char* elem = span + sizeof(PageHeader);
  char* data = elem + inodes.size() * 16;
  for (const INode& in : inodes) {
    uint32_t pos = uint32_t(data - elem);
    if (is_leaf) {
      LeafElement el{in.flags, pos, uint32_t(in.key.size()), uint32_t(in.value.size())};
      std::memcpy(elem, &el, sizeof el);
    } else {
      BranchElement el{pos, uint32_t(in.key.size()), in.pgid};
      std::memcpy(elem, &el, sizeof el);
    }
    std::memcpy(data, in.key.data(), in.key.size());
    data += in.key.size();
    if (is_leaf && !in.value.empty()) {
      std::memcpy(data, in.value.data(), in.value.size());
      data += in.value.size();
    }
    elem += 16;
  }
  // Zero the tail so the page's bytes (and checksum) are deterministic.
  size_t used = size_t(data - span);
  std::memset(data, 0, pages * bucket->tx()->page_size() - used);
}

size_t Node::LowerBound(std::string_view k) const {
  auto it = std::lower_bound(inodes.begin(), inodes.end(), k,
                             [](const INode& in, std::string_view k) { return util::CompareBytes(in.key, k) < 0; });
  return size_t(it - inodes.begin());
}

void Node::Put(std::string_view old_key, std::string_view new_key,
               std::string_view value, pgid_t child, uint32_t flags) {
  size_t i = LowerBound(old_key);
  if (i == inodes.size() || inodes[i].key != old_key) {
    if (i != inodes.size()) append_only = false;
    inodes.insert(inodes.begin() + ptrdiff_t(i), INode{});
  }
  INode& in = inodes[i];
  in.flags = flags;
  in.key = new_key;
  in.value = value;
  in.pgid = child;
}

void Node::Del(std::string_view k) {
  size_t i = LowerBound(k);
  if (i == inodes.size() || inodes[i].key != k) return;
  inodes.erase(inodes.begin() + ptrdiff_t(i));
  unbalanced = true;
  append_only = false;
}

Node* Node::Root() {
  Node* n = this;
  while (n->parent != nullptr) n = n->parent;
  return n;
}

absl::StatusOr<Node*> Node::ChildAt(size_t index) {
  if (is_leaf || index >= inodes.size()) {
    return absl::InternalError("btree: child index out of range");
  }
  return bucket->NodeFor(inodes[index].pgid, this);
}

size_t Node::ChildIndex(const Node* child) const { return LowerBound(child->key); }

void Node::RemoveChild(const Node* child) {
  auto it = std::find(children.begin(), children.end(), child);
  if (it != children.end()) children.erase(it);
}

void Node::Free() {
  if (pgid != 0) {
    bucket->tx()->Free(pgid, span_pages);
    bucket->nodes_.erase(pgid);
    pgid = 0;
  }
}

void Node::AdoptChildrenOf(const std::vector<INode>& moved, Node* from) {
  for (const INode& in : moved) {
    auto it = bucket->nodes_.find(in.pgid);
    if (it == bucket->nodes_.end()) continue;
    Node* c = it->second;
    if (c->parent != nullptr) c->parent->RemoveChild(c);
    c->parent = this;
    children.push_back(c);
  }
  (void)from;
}

absl::Status Node::Rebalance() {
  if (!unbalanced || dead) return absl::OkStatus();
  unbalanced = false;
  const size_t threshold = bucket->tx()->page_size() / 4;
  if (Size() > threshold && inodes.size() > MinKeys()) return absl::OkStatus();

  if (parent == nullptr) {
    // A root branch with a single child collapses into that child.
    if (!is_leaf && inodes.size() == 1) {
      auto child_or = bucket->NodeFor(inodes[0].pgid, this);
      if (!child_or.ok()) return child_or.status();
      Node* child = *child_or;
      is_leaf = child->is_leaf;
      std::vector<INode> moved = child->inodes;
      inodes = moved;
      RemoveChild(child);
      if (!is_leaf) AdoptChildrenOf(moved, child);
      child->parent = nullptr;
      child->dead = true;
      child->Free();
    }
    // A root branch that lost every child is an empty tree again.
    if (!is_leaf && inodes.empty()) {
      is_leaf = true;
      children.clear();
    }
    return absl::OkStatus();
  }

  if (inodes.empty()) {
    parent->Del(key);
    parent->RemoveChild(this);
    dead = true;
    Free();
    return parent->Rebalance();
  }

  if (parent->inodes.size() < 2) {
    // Only child: nothing to merge with; the parent collapses when it is root.
    return parent->Rebalance();
  }

  size_t index = parent->ChildIndex(this);
  if (index == 0) {
    // Pull the right sibling into this node.
    auto target_or = parent->ChildAt(1);
    if (!target_or.ok()) return target_or.status();
    Node* target = *target_or;
    if (target->is_leaf != is_leaf) return CorruptPage(target->pgid, "sibling of another kind");
    std::vector<INode> moved = target->inodes;
    if (!is_leaf) AdoptChildrenOf(moved, target);
    inodes.insert(inodes.end(), moved.begin(), moved.end());
    parent->Del(target->key);
    parent->RemoveChild(target);
    target->dead = true;
    target->Free();
  } else {
    // Push this node into its left sibling.
    auto target_or = parent->ChildAt(index - 1);
    if (!target_or.ok()) return target_or.status();
    Node* target = *target_or;
    if (target->is_leaf != is_leaf) return CorruptPage(target->pgid, "sibling of another kind");
    if (!is_leaf) target->AdoptChildrenOf(inodes, this);
    target->inodes.insert(target->inodes.end(), inodes.begin(), inodes.end());
    target->append_only = false;
    parent->Del(key);
    parent->RemoveChild(this);
    dead = true;
    Free();
  }
  return parent->Rebalance();
}

// Splits into page-sized nodes in one pass (bbolt splits two at a time,
// copying the tail each time: quadratic for a node that took a whole batch of
// appends). A part takes elements up to the fill threshold, and splitting
// stops once the rest fits in one page.
std::vector<Node*> Node::Split(size_t page_size) {
  const size_t header = sizeof(PageHeader);
  size_t rest = Size() - header;  // element bytes from `start` on
  const double fill = append_only ? 1.0 : bucket->fill_percent_;
  const size_t threshold = size_t(double(page_size) * fill);
  const size_t n = inodes.size();
  std::vector<size_t> cuts;
  size_t start = 0;
  while (header + rest > page_size && n - start > MinKeys() * 2) {
    size_t sz = header, i = start;
    while (i < n - MinKeys()) {
      size_t el = ElementSize(inodes[i]);
      if (i - start >= MinKeys() && sz + el > threshold) break;
      sz += el;
      ++i;
    }
    cuts.push_back(i);
    rest -= sz - header;
    start = i;
  }
  std::vector<Node*> parts{this};
  if (cuts.empty()) return parts;
  if (parent == nullptr) {
    parent = bucket->NewNode(false, nullptr);
    parent->children.push_back(this);
  }
  for (size_t k = 0; k < cuts.size(); ++k) {
    size_t end = k + 1 < cuts.size() ? cuts[k + 1] : n;
    Node* next = bucket->NewNode(is_leaf, parent);
    next->append_only = append_only;
    parent->children.push_back(next);
    next->inodes.assign(inodes.begin() + ptrdiff_t(cuts[k]), inodes.begin() + ptrdiff_t(end));
    parts.push_back(next);
  }
  inodes.resize(cuts[0]);
  return parts;
}

absl::Status Node::Spill() {
  if (spilled) return absl::OkStatus();
  Tx* tx = bucket->tx();
  std::vector<Node*> kids = children;
  auto first_key = [](const Node* n) {
    return n->inodes.empty() ? n->key : n->inodes.front().key;
  };
  std::sort(kids.begin(), kids.end(),
            [&](const Node* a, const Node* b) { return first_key(a) < first_key(b); });
  for (Node* c : kids) {
    if (absl::Status s = c->Spill(); !s.ok()) return s;
  }
  children.clear();

  for (Node* part : Split(tx->page_size())) {
    part->Free();
    uint64_t pages = PagesFor(part->Size(), tx->page_size());
    absl::StatusOr<pgid_t> id = tx->Allocate(pages);
    if (!id.ok()) return id.status();
    part->pgid = *id;
    part->span_pages = pages;
    part->Write(tx->NewDirtySpan(*id, pages), pages);
    part->spilled = true;
    if (part->parent != nullptr) {
      if (part->inodes.empty()) return absl::InternalError("btree: spilling an empty non-root node");
      std::string_view k = part->key.empty() ? part->inodes[0].key : part->key;
      part->parent->Put(k, part->inodes[0].key, {}, part->pgid, 0);
      part->key = part->inodes[0].key;
    }
  }
  // A root that split made a new parent: write it too.
  if (parent != nullptr && parent->pgid == 0 && !parent->spilled) {
    return parent->Spill();
  }
  return absl::OkStatus();
}

}  // namespace revkv::btree
