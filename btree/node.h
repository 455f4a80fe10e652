// Node: the in-memory, mutable copy of a branch or leaf page inside a write
// transaction (bbolt's node). Nodes are read from pages on first write,
// changed in place, rebalanced after deletes, then split and written to newly
// allocated pages at commit (copy-on-write: the old page is freed).
//
// Keys and values are views into the mapping or the transaction's arena.
// Thread-safety: as its Tx.
#ifndef REVKV_BTREE_NODE_H_
#define REVKV_BTREE_NODE_H_

#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "btree/page.h"

namespace revkv::btree {

class Bucket;

struct INode {
  uint32_t flags = 0;       // leaf element flags
  std::string_view key;
  std::string_view value;   // leaf: the stored value (BucketHeader/BigValueRef bytes for those flags)
  pgid_t pgid = 0;          // branch: the child
};

class Node {
 public:
  Node(Bucket* bucket, bool is_leaf, Node* parent)
      : bucket(bucket), is_leaf(is_leaf), parent(parent) {}

  // Fills the node from a validated page view.
  absl::Status Read(const NodeView& page);
  // Bytes the node takes when written.
  size_t Size() const;
  // Writes header (without checksum) and elements into a span of `pages`.
  void Write(char* span, uint64_t pages) const;

  // Index of the first inode with key >= key.
  size_t LowerBound(std::string_view key) const;
  // Inserts or replaces the inode with key `old_key` by one with `new_key`.
  void Put(std::string_view old_key, std::string_view new_key,
           std::string_view value, pgid_t child, uint32_t flags);
  // Removes the inode with `key`, if present.
  void Del(std::string_view key);

  Node* Root();
  absl::StatusOr<Node*> ChildAt(size_t index);
  size_t ChildIndex(const Node* child) const;
  void RemoveChild(const Node* child);

  // Merges underfull nodes after deletes (bbolt's rebalance).
  absl::Status Rebalance();
  // Splits the node to page-sized nodes and writes them to new pages,
  // children first; updates the parent (bbolt's spill).
  absl::Status Spill();

  Bucket* bucket;
  bool is_leaf;
  bool unbalanced = false;
  bool spilled = false;
  bool dead = false;          // merged away; ignore
  bool append_only = true;    // only ever grew at its end: split full
  pgid_t pgid = 0;            // page it was read from / written to; 0 if new
  uint64_t span_pages = 0;    // pages of that span
  Node* parent;
  std::string_view key;       // first key when read; the parent's key for it
  std::vector<Node*> children;  // materialized children
  std::vector<INode> inodes;

 private:
  std::vector<Node*> Split(size_t page_size);
  size_t ElementSize(const INode& in) const {
    return 16 + in.key.size() + (is_leaf ? in.value.size() : 0);
  }
  size_t MinKeys() const { return is_leaf ? 1 : 2; }
  void Free();
  void AdoptChildrenOf(const std::vector<INode>& moved, Node* from);
};

}  // namespace revkv::btree

#endif  // REVKV_BTREE_NODE_H_
