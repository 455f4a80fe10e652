#include "interop/etcd/bolt_page.h"

#include "absl/strings/str_format.h"
#include "interop/etcd/bolt_error.h"

namespace revkv::interop::etcd {
namespace {

bool KnownType(uint16_t flags) {
  return flags == kBranchPageFlag || flags == kLeafPageFlag || flags == kMetaPageFlag ||
         flags == kFreelistPageFlag;
}

}  // namespace

absl::StatusOr<Page> Page::At(std::string_view file, uint32_t page_size, uint64_t high_water,
                              uint64_t id) {
  // Both bounds: a page past the high-water mark belongs to no commit, one
  // past the file's end was never written (a truncated copy).
  if (id >= high_water) {
    return BoltError(kBoltPageOutOfRange, id,
                     absl::StrFormat("page is at or past the high-water mark %d", high_water));
  }
  const uint64_t pages_in_file = file.size() / page_size;
  if (id >= pages_in_file) {
    return BoltError(kBoltPageOutOfRange, id,
                     absl::StrFormat("page is past the end of the file (%d pages)", pages_in_file));
  }
  const char* p = file.data() + id * page_size;
  Page page;
  page.id_ = id;
  const uint64_t self = Load64(p);
  page.flags_ = Load16(p + 8);
  page.count_ = Load16(p + 10);
  page.overflow_ = Load32(p + 12);
  if (self != id) {
    return BoltError(kBoltBadPageHeader, id, absl::StrFormat("page names itself %d", self));
  }
  if (!KnownType(page.flags_)) {
    return BoltError(kBoltBadPageHeader, id, absl::StrFormat("unknown page flags 0x%x", page.flags_));
  }
  // id + overflow + 1 pages, within both bounds (no overflow: id < 2^63 here).
  const uint64_t end = id + uint64_t{page.overflow_} + 1;
  if (end > high_water || end > pages_in_file) {
    return BoltError(kBoltPageOutOfRange, id,
                     absl::StrFormat("overflow of %d pages runs past the %s", page.overflow_,
                                     end > high_water ? "high-water mark" : "end of the file"));
  }
  page.bytes_ = file.substr(id * page_size, (end - id) * page_size);
  return page;
}

absl::StatusOr<Page> Page::Inline(std::string_view bytes, uint64_t owner) {
  if (bytes.size() < kPageHeaderSize) {
    return BoltError(kBoltBadBucket, owner, "inline bucket page shorter than a page header");
  }
  Page page;
  page.id_ = owner;
  page.inline_ = true;
  page.bytes_ = bytes;
  page.flags_ = Load16(bytes.data() + 8);
  page.count_ = Load16(bytes.data() + 10);
  page.overflow_ = Load32(bytes.data() + 12);
  // bbolt inlines only leaves without sub-buckets.
  if (page.flags_ != kLeafPageFlag) {
    return BoltError(kBoltBadBucket, owner,
                     absl::StrFormat("inline bucket page has flags 0x%x, not a leaf", page.flags_));
  }
  return page;
}

absl::Status Page::Slice(size_t off, uint32_t pos, uint32_t ksize, uint32_t vsize,
                         std::string_view* key, std::string_view* value) const {
  // 64-bit sums of 32-bit fields cannot overflow.
  const uint64_t kstart = uint64_t{off} + pos;
  const uint64_t end = kstart + ksize + vsize;
  if (pos < kElementSize || end > bytes_.size()) {
    return BoltError(kBoltBadElement, id_,
                     absl::StrFormat("element at offset %d points to [%d, %d) outside its %d-byte "
                                     "page",
                                     off, kstart, end, bytes_.size()));
  }
  *key = bytes_.substr(kstart, ksize);
  if (value != nullptr) *value = bytes_.substr(kstart + ksize, vsize);
  return absl::OkStatus();
}

absl::StatusOr<LeafElement> Page::Leaf(uint16_t i) const {
  const size_t off = kPageHeaderSize + size_t{i} * kElementSize;
  if (!is_leaf() || i >= count_ || off + kElementSize > bytes_.size()) {
    return BoltError(kBoltBadElement, id_, absl::StrFormat("no leaf element %d", i));
  }
  const char* e = bytes_.data() + off;
  LeafElement el;
  el.flags = Load32(e);
  if (absl::Status s = Slice(off, Load32(e + 4), Load32(e + 8), Load32(e + 12), &el.key, &el.value);
      !s.ok()) {
    return s;
  }
  return el;
}

absl::StatusOr<BranchElement> Page::Branch(uint16_t i) const {
  const size_t off = kPageHeaderSize + size_t{i} * kElementSize;
  if (!is_branch() || i >= count_ || off + kElementSize > bytes_.size()) {
    return BoltError(kBoltBadElement, id_, absl::StrFormat("no branch element %d", i));
  }
  const char* e = bytes_.data() + off;
  BranchElement el;
  if (absl::Status s = Slice(off, Load32(e), Load32(e + 4), 0, &el.key, nullptr); !s.ok()) {
    return s;
  }
  el.child = Load64(e + 8);
  return el;
}

}  // namespace revkv::interop::etcd
