// On-disk layout of a btree file: pure data and functions, no I/O.
//
// A file is an array of fixed-size pages. Pages 0 and 1 are the two meta
// pages, written alternately (txid % 2). Every other page starts a span of
// 1 + overflow pages holding one branch node, leaf node, freelist or large
// value. Integers are little-endian (x86-64 and arm64 only).
//
// Every page header carries an XXH3-64 checksum of the span's bytes after the
// checksum field, written at commit; the meta page's checksum covers only the
// header and meta body so it can be read before the page size is known.
//
// Thread-safety: functions are pure; views are read-only.
#ifndef REVKV_BTREE_PAGE_H_
#define REVKV_BTREE_PAGE_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace revkv::btree {

using pgid_t = uint64_t;
using txid_t = uint64_t;

inline constexpr uint32_t kMagic = 0x52564b42;  // "BKVR"
// Version 2 added the commit list to meta pages; version 1 files still open
// and are rewritten as version 2 by their next commit.
inline constexpr uint32_t kFormatVersion = 2;
inline constexpr uint32_t kOldestFormatVersion = 1;

enum class PageKind : uint16_t {
  kMeta = 1,
  kBranch = 2,
  kLeaf = 3,
  kOverflow = 4,  // a large value: raw bytes after the header
  kFreelist = 5,
};

struct PageHeader {
  uint64_t checksum;  // XXH3-64 of the span after this field
  uint64_t id;        // the page's own id: catches misdirected writes
  uint16_t kind;      // PageKind
  uint16_t flags;
  uint32_t count;     // elements (leaf/branch), extents (freelist)
  uint32_t overflow;  // pages after this one in the span
  uint32_t reserved;
};
static_assert(sizeof(PageHeader) == 32);

// Leaf element flags.
inline constexpr uint32_t kBucketFlag = 1;    // value is a BucketHeader
inline constexpr uint32_t kBigValueFlag = 2;  // value is a BigValueRef

struct LeafElement {
  uint32_t flags;
  uint32_t pos;    // offset of the key from this element
  uint32_t ksize;
  uint32_t vsize;  // stored value size (16 for a BigValueRef)
};
static_assert(sizeof(LeafElement) == 16);

struct BranchElement {
  uint32_t pos;  // offset of the key from this element
  uint32_t ksize;
  uint64_t pgid;
};
static_assert(sizeof(BranchElement) == 16);

// The value stored for a nested bucket.
struct BucketHeader {
  pgid_t root = 0;
  uint64_t sequence = 0;
};
static_assert(sizeof(BucketHeader) == 16);

// The value stored in a leaf for a large value kept in an overflow span.
struct BigValueRef {
  pgid_t pgid = 0;
  uint64_t size = 0;
};
static_assert(sizeof(BigValueRef) == 16);

// MetaBody::flags: the commit was written without fdatasync (Options::no_sync),
// so a crash may have left this meta without all of its pages.
inline constexpr uint32_t kMetaUnsynced = 1;

struct MetaBody {
  uint32_t magic;
  uint32_t version;
  uint32_t page_size;
  uint32_t flags;
  BucketHeader root;  // the catalog of top-level buckets
  pgid_t freelist;    // first page of the freelist span
  pgid_t high_water;  // pages in use: every page id is below it
  txid_t txid;
};

struct FreeExtent {
  pgid_t start;
  uint64_t count;
};
static_assert(sizeof(FreeExtent) == 16);

inline constexpr size_t kMetaChecksummed = sizeof(PageHeader) + sizeof(MetaBody);

// The commit list: a commit that rewrote at most kMaxCommitList spans and no
// large value names each of them in its meta page, after the body, with the
// checksum it wrote ({uint32 count, uint32 zero, then count entries}). Its
// pages were durable before its meta (see DB), so open reads the listed spans
// back and a listed span that does not hold what was written is damage to the
// newest commit, found at open rather than by the first read that meets it
// (see DB::ChooseMeta). Version 2 files written before this rule used the
// list to make pages and meta durable with one fdatasync; such a commit,
// if torn, was never acknowledged, and open reports it as damage, which
// Options::allow_rollback resolves.
struct CommitListEntry {
  pgid_t id;          // first page of a span this commit wrote
  uint64_t checksum;  // that span's checksum as written
};
static_assert(sizeof(CommitListEntry) == 16);
inline constexpr size_t kMaxCommitList = 240;
// The bytes of a meta page that decoding reads: header, body, commit list.
inline constexpr size_t kMetaBytes =
    kMetaChecksummed + 8 + kMaxCommitList * sizeof(CommitListEntry);
static_assert(kMetaBytes <= 4096);

// Writes `entries` (at most kMaxCommitList) as the commit list of a zeroed
// meta page; SealMeta afterwards.
void SetCommitList(char* page, const std::vector<CommitListEntry>& entries);
// The commit list of a meta page that DecodeMeta accepted.
std::vector<CommitListEntry> GetCommitList(const char* page);

// A freelist span holds `count` extents after the header, each as two
// varints: the gap from the end of the previous extent (from page 0 for the
// first) and the length. Sorted, non-overlapping extents of a fragmented file
// take 2-4 bytes each instead of 16, so the list rewritten at every commit
// stays a few pages.
void EncodeFreeExtents(const std::vector<FreeExtent>& extents, std::string* out);
// Decodes `count` extents from `data`; false if they run past it, overlap,
// are empty or wrap around.
bool DecodeFreeExtents(std::string_view data, uint32_t count, std::vector<FreeExtent>* out);

// XXH3-64 of the span after the checksum field; for an overflow span, of the
// header and the `count` value bytes only (the tail is never written); for a
// meta page, of the header, body and commit list (version 2).
uint64_t ComputeChecksum(const char* span, size_t span_bytes);
uint64_t ComputeMetaChecksum(const char* page);

inline PageHeader* Header(char* p) { return reinterpret_cast<PageHeader*>(p); }
inline const PageHeader* Header(const char* p) {
  return reinterpret_cast<const PageHeader*>(p);
}

// Fills in the checksum of a span whose header is complete.
void SealPage(char* span, size_t span_bytes);
void SealMeta(char* page);

// Reads and validates a meta page (its first kMetaBytes bytes). Errors say
// what is wrong with it.
absl::Status DecodeMeta(const char* page, MetaBody* meta);

bool IsValidPageSize(uint64_t page_size);

// Pages needed to hold `bytes` bytes (header included) in spans of page_size.
inline uint64_t PagesFor(uint64_t bytes, uint32_t page_size) {
  return (bytes + page_size - 1) / page_size;
}

// A read-only view of one leaf or branch span with bounds-checked access.
// Accessors return false when the element points outside the span.
class NodeView {
 public:
  NodeView() = default;
  NodeView(const char* span, size_t span_bytes)
      : span_(span), span_bytes_(span_bytes) {}

  const PageHeader* header() const { return Header(span_); }
  bool is_leaf() const { return header()->kind == uint16_t(PageKind::kLeaf); }
  uint32_t count() const { return header()->count; }
  pgid_t id() const { return header()->id; }
  const char* data() const { return span_; }
  size_t span_bytes() const { return span_bytes_; }

  // Checks that the element array fits in the span.
  bool ElementsFit() const {
    return sizeof(PageHeader) + uint64_t{count()} * 16 <= span_bytes_;
  }
  bool LeafAt(uint32_t i, uint32_t* flags, std::string_view* key,
              std::string_view* value) const {
    const char* e = span_ + sizeof(PageHeader) + size_t{i} * sizeof(LeafElement);
    LeafElement el;
    std::memcpy(&el, e, sizeof el);
    uint64_t end = uint64_t(e - span_) + el.pos + el.ksize + el.vsize;
    if (end > span_bytes_) return false;
    *flags = el.flags;
    *key = std::string_view(e + el.pos, el.ksize);
    *value = std::string_view(e + el.pos + el.ksize, el.vsize);
    return true;
  }
  bool KeyAt(uint32_t i, std::string_view* key) const {
    const char* e = span_ + sizeof(PageHeader) + size_t{i} * 16;
    uint32_t pos, ksize;
    std::memcpy(&pos, e + (is_leaf() ? 4 : 0), 4);
    std::memcpy(&ksize, e + (is_leaf() ? 8 : 4), 4);
    uint64_t end = uint64_t(e - span_) + pos + ksize;
    if (end > span_bytes_) return false;
    *key = std::string_view(e + pos, ksize);
    return true;
  }
  // Asks the CPU to load the keys a binary search over the elements probes
  // in its first `levels` steps (2^levels - 1 keys); no effect on elements
  // that point outside the span.
  void PrefetchProbes(int levels) const {
    PrefetchProbes(0, count(), levels);
  }
  bool BranchAt(uint32_t i, std::string_view* key, pgid_t* child) const {
    const char* e = span_ + sizeof(PageHeader) + size_t{i} * sizeof(BranchElement);
    BranchElement el;
    std::memcpy(&el, e, sizeof el);
    uint64_t end = uint64_t(e - span_) + el.pos + el.ksize;
    if (end > span_bytes_) return false;
    *key = std::string_view(e + el.pos, el.ksize);
    *child = el.pgid;
    return true;
  }

 private:
  void PrefetchProbes(uint32_t lo, uint32_t hi, int levels) const {
    if (levels == 0 || lo >= hi || !ElementsFit()) return;
    const uint32_t mid = lo + (hi - lo) / 2;
    const char* e = span_ + sizeof(PageHeader) + size_t{mid} * 16;
    uint32_t pos;
    std::memcpy(&pos, e + (is_leaf() ? 4 : 0), 4);
    if (uint64_t(e - span_) + pos < span_bytes_) __builtin_prefetch(e + pos);
    PrefetchProbes(lo, mid, levels - 1);
    PrefetchProbes(mid + 1, hi, levels - 1);
  }

  const char* span_ = nullptr;
  size_t span_bytes_ = 0;
};

// The message for a page that fails validation.
absl::Status CorruptPage(pgid_t id, std::string_view what);
// DataLoss for page `id` of file `path`, saying `what` is wrong, with the
// page id as a payload (see DamagedPage).
absl::Status DamagedPageError(std::string_view path, pgid_t id, std::string_view what);
// The page a DamagedPageError names, or -1 for any other status.
int64_t DamagedPage(const absl::Status& s);

}  // namespace revkv::btree

#endif  // REVKV_BTREE_PAGE_H_
