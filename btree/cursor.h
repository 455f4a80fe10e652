// Cursor: ordered traversal of one bucket, LevelDB-iterator style.
//
// A cursor is positioned on an entry or invalid. Positioning past either end,
// or an error (a corrupt page), makes it invalid; status() tells the two
// apart. key() and value() are views valid for the life of the transaction
// (for a write transaction: until the entry changes).
//
// Thread-safety: as its Tx.
#ifndef REVKV_BTREE_CURSOR_H_
#define REVKV_BTREE_CURSOR_H_

#include <string_view>
#include <vector>

#include "absl/container/inlined_vector.h"

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "btree/page.h"

namespace revkv::btree {

class Bucket;
class Node;

class Cursor {
 public:
  explicit Cursor(Bucket* bucket) : bucket_(bucket) {}

  void First();
  void Last();
  // First entry with key >= `key`.
  void Seek(std::string_view key);
  void Next();
  void Prev();

  bool Valid() const { return valid_; }
  std::string_view key() const { return key_; }
  // The value; for a nested bucket, empty (see is_bucket).
  std::string_view value() const { return value_; }
  bool is_bucket() const { return (flags_ & kBucketFlag) != 0; }
  absl::Status status() const { return status_; }

  // Deletes the current entry (write transactions; not for buckets) and moves
  // the cursor to the entry after it.
  absl::Status Delete();

 private:
  friend class Bucket;
  friend class Node;

  // One level of the path: a page, or the node that replaced it in a write
  // transaction.
  struct Frame {
    NodeView page;
    Node* node = nullptr;
    int index = 0;
    int count() const;
    bool is_leaf() const;
  };

  absl::Status SeekInternal(std::string_view key);
  absl::Status Descend(pgid_t id);  // pushes the frame for page/node `id`
  absl::Status DescendToEdge(bool first);  // from the top frame to a leaf
  absl::Status LoadCurrent();       // reads key/value of the top frame
  absl::Status Step(bool forward);
  void Fail(absl::Status s);
  // The leaf node at the cursor's path, materializing it for writing.
  absl::StatusOr<Node*> LeafNode();
  absl::StatusOr<pgid_t> ChildId(const Frame& f) const;
  static bool SearchPage(const NodeView& page, std::string_view key, int* lo);

  // For Bucket::GetSorted, in read transactions. LeafIdFor: the id of the
  // leaf page that would hold `key`, without reading that page; the branch
  // path is kept between calls, so that ascending keys share its upper
  // levels (any order is correct; out of order starts from the root).
  // SeekInLeaf: positions on the first key >= `key` in leaf `id`; invalid
  // if the leaf has none.
  absl::StatusOr<pgid_t> LeafIdFor(std::string_view key);
  absl::Status SeekInLeaf(pgid_t id, std::string_view key);

  Bucket* bucket_;
  absl::InlinedVector<Frame, 6> stack_;
  bool valid_ = false;
  uint32_t flags_ = 0;
  std::string_view key_;
  std::string_view value_;
  std::string_view raw_value_;  // as stored in the leaf
  absl::Status status_;
  int leaf_depth_ = 0;        // LeafIdFor: branch levels above the leaves, once known
  std::string_view last_key_;  // LeafIdFor: the previous key
};

}  // namespace revkv::btree

#endif  // REVKV_BTREE_CURSOR_H_
