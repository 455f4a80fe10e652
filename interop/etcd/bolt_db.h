// BoltFile: a read-only bbolt 1.3 database file (etcd's member/snap/db, or
// the content of an etcd snapshot), after bbolt's db.go.
//
// Open reads the file into memory (a private copy: nothing another process
// does to the file afterwards can change or fault what was read), picks the
// meta bbolt would pick (bolt_meta.h), and hands out buckets and cursors
// over its pages. Every page is checked when first used (bolt_page.h,
// bolt_cursor.h); Check() walks the whole file as bbolt's Tx.Check does.
// Damage is always a BoltError naming the page (bolt_error.h), never a crash
// or an answer read from outside the file.
//
// Thread-safety: immutable after Open; any number of threads may read it
// (each with its own cursors).
#ifndef REVKV_INTEROP_ETCD_BOLT_DB_H_
#define REVKV_INTEROP_ETCD_BOLT_DB_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "interop/etcd/bolt_cursor.h"
#include "interop/etcd/bolt_meta.h"
#include "interop/etcd/bolt_page.h"

namespace revkv::interop::etcd {

class BoltFile {
 public:
  // Reads the first `size` bytes of `path` (the whole file when nullopt).
  static absl::StatusOr<std::unique_ptr<BoltFile>> Open(const std::string& path,
                                                        std::optional<uint64_t> size = std::nullopt);
  // A file already in memory.
  static absl::StatusOr<std::unique_ptr<BoltFile>> FromBytes(std::string bytes);

  const Meta& meta() const { return meta_; }
  int meta_slot() const { return meta_slot_; }
  // Why the other meta was passed over; empty when both were valid.
  const std::string& note() const { return note_; }
  uint32_t page_size() const { return meta_.page_size; }
  // etcd's "total size": the commit's pages (high-water mark) in bytes.
  uint64_t Size() const { return meta_.pgid * uint64_t{meta_.page_size}; }

  // Page `id` of the chosen commit, checked (Page::At).
  absl::StatusOr<Page> PageAt(uint64_t id) const;

  // The root bucket, whose entries are the top-level buckets.
  BucketRef Root() const { return BucketRef{meta_.root, std::nullopt}; }
  // The nested bucket `name` of `parent`: nullopt when absent; an error
  // when an entry of that name is not a bucket or its header is damaged.
  absl::StatusOr<std::optional<BucketRef>> Bucket(const BucketRef& parent,
                                                  std::string_view name) const;
  // A bucket value's header and inline page, read from the entry `value`
  // found on page `page`.
  static absl::StatusOr<BucketRef> DecodeBucket(std::string_view value, uint64_t page,
                                                uint64_t high_water);
  BucketCursor Cursor(const BucketRef& bucket) const { return BucketCursor(this, bucket); }

  // Calls fn for every entry of `bucket` in key order (nested buckets with
  // is_bucket set); stops at fn's first error, which it returns.
  absl::Status ForEach(
      const BucketRef& bucket,
      const std::function<absl::Status(std::string_view key, std::string_view value,
                                       bool is_bucket)>& fn) const;

  // The freelist page's ids; nullopt when the file syncs none (etcd 3.4).
  absl::StatusOr<std::optional<std::vector<uint64_t>>> FreePages() const;

  // The whole file, as bbolt's Tx.Check: every bucket's tree walked with
  // its checks, every page below the high-water mark used at most once, no
  // freed page reachable, and (when a freelist is synced) no page neither
  // reachable nor free. The first problem found, as a BoltError.
  absl::Status Check() const;

 private:
  BoltFile() = default;
  absl::Status Init();
  // Marks the pages of `bucket`'s tree (and nested buckets') in `used`.
  absl::Status MarkBucket(const BucketRef& bucket, std::vector<bool>* used, int depth) const;
  absl::Status MarkSpan(uint64_t id, std::vector<bool>* used) const;

  std::string bytes_;
  Meta meta_;
  int meta_slot_ = 0;
  std::string note_;
};

}  // namespace revkv::interop::etcd

#endif  // REVKV_INTEROP_ETCD_BOLT_DB_H_
