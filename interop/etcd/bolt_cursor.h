// BucketCursor: walks one bbolt bucket's entries in key order, as bbolt's
// Cursor does (a stack of pages from the bucket's root to a leaf), checking
// as it goes what a reader must not take on trust:
//
//  - every page it enters passes Page::At (inside the file and the commit,
//    self-named, one known type) and is a branch or a leaf;
//  - no page is entered twice (a damaged child pointer could make a cycle),
//    and no path is deeper than kMaxDepth;
//  - branch keys ascend within a page, and the keys it yields ascend
//    strictly across the whole bucket;
//  - leaf element flags are 0 or bucket.
//
// The first problem ends the walk: Valid() turns false and status() holds
// a BoltError naming the page. Views it returns point into the BoltFile's
// bytes and live as long as the file.
//
// Thread-safety: a cursor is used by one thread at a time; any number of
// cursors may walk one BoltFile at once (the file is immutable).
#ifndef REVKV_INTEROP_ETCD_BOLT_CURSOR_H_
#define REVKV_INTEROP_ETCD_BOLT_CURSOR_H_

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "interop/etcd/bolt_page.h"

namespace revkv::interop::etcd {

class BoltFile;

// Where a bucket's tree lives: a root page, or an inline page held in its
// parent's leaf (root == 0).
struct BucketRef {
  uint64_t root = 0;
  std::optional<Page> inline_page;
};

class BucketCursor {
 public:
  static constexpr size_t kMaxDepth = 64;

  BucketCursor(const BoltFile* file, BucketRef bucket);

  // Moves to the first entry; false when the bucket is empty or on error.
  bool First();
  // Moves to the next entry; false at the end or on error.
  bool Next();
  bool Valid() const { return valid_; }
  // The current entry (requires Valid()). A nested bucket's value is its
  // bucket header (and inline page).
  std::string_view key() const { return current_.key; }
  std::string_view value() const { return current_.value; }
  bool is_bucket() const { return current_.is_bucket(); }
  // The page holding the current entry (errors about it name this page).
  uint64_t page() const { return stack_.empty() ? 0 : stack_.back().page.id(); }
  // OK, or the problem that ended the walk.
  const absl::Status& status() const { return status_; }
  // Appends the id of every page the cursor enters to *out (null: stop);
  // BoltFile::Check accounts for the pages with it.
  void RecordPages(std::vector<uint64_t>* out) { record_ = out; }

 private:
  struct Frame {
    Page page;
    uint16_t index;
  };
  // Pushes page `id` after the checks above.
  bool Enter(uint64_t id);
  // From the top frame down to the leaf entry at its indexes; moves on past
  // empty leaves.
  bool Descend();
  // Past the current entry.
  bool Advance();
  bool Fail(absl::Status s);

  const BoltFile* file_;
  BucketRef bucket_;
  std::vector<Frame> stack_;
  std::vector<uint64_t> entered_;  // bitmap of pages entered, by id
  LeafElement current_;
  std::string_view prev_key_;
  bool have_prev_ = false;
  bool valid_ = false;
  absl::Status status_;
  std::vector<uint64_t>* record_ = nullptr;
};

}  // namespace revkv::interop::etcd

#endif  // REVKV_INTEROP_ETCD_BOLT_CURSOR_H_
