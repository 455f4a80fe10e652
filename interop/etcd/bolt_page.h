// bbolt 1.3's on-disk page layout, read with every offset bounds-checked.
//
// A bbolt file is an array of fixed-size pages (the meta's page size). Each
// page starts with a 16-byte header, little-endian:
//
//   offset size field
//        0    8 id        the page's own number
//        8    2 flags     branch 0x01, leaf 0x02, meta 0x04, freelist 0x10
//       10    2 count     elements on the page
//       12    4 overflow  further pages the span takes (big values, long lists)
//
// Branch pages hold `count` 16-byte elements {pos u32, ksize u32, child u64},
// leaf pages `count` 16-byte elements {flags u32, pos u32, ksize u32,
// vsize u32}; `pos` is the distance from the element's own first byte to its
// key, the value follows the key. A leaf element with flag 0x01 is a nested
// bucket: its value is a 16-byte bucket header {root u64, sequence u64},
// and when root is 0 an inline leaf page follows it inside the value.
//
// Page::At hands out a page span only after checking it lies inside both the
// file and the meta's high-water mark, names itself by its own id and has
// exactly one known type; elements are checked to lie inside their span
// before their bytes are returned. Views returned point into the caller's
// bytes and live as long as they do.
//
// Thread-safety: immutable values and pure functions.
#ifndef REVKV_INTEROP_ETCD_BOLT_PAGE_H_
#define REVKV_INTEROP_ETCD_BOLT_PAGE_H_

#include <cstdint>
#include <cstring>
#include <string_view>

#include "absl/status/statusor.h"

namespace revkv::interop::etcd {

inline constexpr size_t kPageHeaderSize = 16;
inline constexpr size_t kElementSize = 16;  // branch and leaf elements alike
inline constexpr size_t kBucketHeaderSize = 16;
inline constexpr uint16_t kBranchPageFlag = 0x01;
inline constexpr uint16_t kLeafPageFlag = 0x02;
inline constexpr uint16_t kMetaPageFlag = 0x04;
inline constexpr uint16_t kFreelistPageFlag = 0x10;
inline constexpr uint32_t kBucketLeafFlag = 0x01;

// Little-endian loads from unaligned bytes (bbolt writes the host order of
// amd64 and arm64: little-endian).
inline uint16_t Load16(const char* p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline uint32_t Load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

struct LeafElement {
  uint32_t flags = 0;
  std::string_view key;
  std::string_view value;
  bool is_bucket() const { return (flags & kBucketLeafFlag) != 0; }
};

struct BranchElement {
  std::string_view key;
  uint64_t child = 0;
};

// One page span (a page and its overflow pages), or an inline bucket's page.
class Page {
 public:
  // Page `id` of `file`, whose pages are `page_size` bytes and whose meta
  // says pages [0, high_water) are in use. Errors name the page.
  static absl::StatusOr<Page> At(std::string_view file, uint32_t page_size, uint64_t high_water,
                                 uint64_t id);
  // The inline page held in a bucket value after its header; `owner` is the
  // page holding that value (named by errors).
  static absl::StatusOr<Page> Inline(std::string_view bytes, uint64_t owner);

  // The page errors name: its id, or the owner's for an inline page.
  uint64_t id() const { return id_; }
  uint16_t flags() const { return flags_; }
  uint16_t count() const { return count_; }
  uint32_t overflow() const { return overflow_; }
  bool is_leaf() const { return flags_ == kLeafPageFlag; }
  bool is_branch() const { return flags_ == kBranchPageFlag; }
  bool is_inline() const { return inline_; }
  // The whole span, header included.
  std::string_view bytes() const { return bytes_; }

  // Element i (< count()); errors when it lies outside the span, or the
  // page is not of that kind.
  absl::StatusOr<LeafElement> Leaf(uint16_t i) const;
  absl::StatusOr<BranchElement> Branch(uint16_t i) const;

 private:
  Page() = default;
  // The key (and value, vsize bytes after it) of the element at `off`.
  absl::Status Slice(size_t off, uint32_t pos, uint32_t ksize, uint32_t vsize,
                     std::string_view* key, std::string_view* value) const;

  std::string_view bytes_;
  uint64_t id_ = 0;
  uint16_t flags_ = 0;
  uint16_t count_ = 0;
  uint32_t overflow_ = 0;
  bool inline_ = false;
};

}  // namespace revkv::interop::etcd

#endif  // REVKV_INTEROP_ETCD_BOLT_PAGE_H_
