#include "btree/page.h"

#include <xxhash.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <optional>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "btree/options.h"

namespace revkv::btree {

uint64_t ComputeChecksum(const char* span, size_t span_bytes) {
  const PageHeader* h = Header(span);
  if (h->kind == uint16_t(PageKind::kOverflow)) {
    uint64_t bytes = sizeof(PageHeader) + uint64_t{h->count};
    if (bytes < span_bytes) span_bytes = size_t(bytes);
  }
  return XXH3_64bits(span + sizeof(uint64_t), span_bytes - sizeof(uint64_t));
}

namespace {

uint32_t MetaVersion(const char* page) {
  uint32_t v;
  std::memcpy(&v, page + sizeof(PageHeader) + offsetof(MetaBody, version), sizeof v);
  return v;
}

uint32_t CommitListCount(const char* page) {
  uint32_t n;
  std::memcpy(&n, page + kMetaChecksummed, sizeof n);
  return n;
}

}  // namespace

uint64_t ComputeMetaChecksum(const char* page) {
  size_t bytes = kMetaChecksummed;
  if (MetaVersion(page) >= 2) {
    bytes += 8 + std::min<size_t>(CommitListCount(page), kMaxCommitList) *
                     sizeof(CommitListEntry);
  }
  return XXH3_64bits(page + sizeof(uint64_t), bytes - sizeof(uint64_t));
}

void SetCommitList(char* page, const std::vector<CommitListEntry>& entries) {
  const uint32_t n = uint32_t(std::min(entries.size(), kMaxCommitList));
  std::memcpy(page + kMetaChecksummed, &n, sizeof n);
  // memcpy's pointers must be valid even for no bytes: an empty vector's
  // data() may be null.
  if (n > 0) std::memcpy(page + kMetaChecksummed + 8, entries.data(), n * sizeof(CommitListEntry));
}

std::vector<CommitListEntry> GetCommitList(const char* page) {
  if (MetaVersion(page) < 2) return {};
  std::vector<CommitListEntry> out(std::min<size_t>(CommitListCount(page), kMaxCommitList));
  if (!out.empty()) {
    std::memcpy(out.data(), page + kMetaChecksummed + 8, out.size() * sizeof(CommitListEntry));
  }
  return out;
}

void SealPage(char* span, size_t span_bytes) {
  Header(span)->checksum = ComputeChecksum(span, span_bytes);
}

void SealMeta(char* page) { Header(page)->checksum = ComputeMetaChecksum(page); }

bool IsValidPageSize(uint64_t page_size) {
  return page_size >= kMinPageSize && page_size <= kMaxPageSize &&
         (page_size & (page_size - 1)) == 0;
}

void EncodeFreeExtents(const std::vector<FreeExtent>& extents, std::string* out) {
  // Sized exactly first, then written through a raw pointer: this runs over
  // the whole list at every commit.
  auto length = [](uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) {
      v >>= 7;
      ++n;
    }
    return n;
  };
  size_t bytes = 0;
  pgid_t prev_end = 0;
  for (const FreeExtent& e : extents) {
    bytes += length(e.start - prev_end) + length(e.count);
    prev_end = e.start + e.count;
  }
  size_t old_size = out->size();
  out->resize(old_size + bytes);
  char* p = out->data() + old_size;
  auto put = [&p](uint64_t v) {
    while (v >= 0x80) {
      *p++ = char(v | 0x80);
      v >>= 7;
    }
    *p++ = char(v);
  };
  prev_end = 0;
  for (const FreeExtent& e : extents) {
    put(e.start - prev_end);
    put(e.count);
    prev_end = e.start + e.count;
  }
}

bool DecodeFreeExtents(std::string_view data, uint32_t count, std::vector<FreeExtent>* out) {
  auto get = [&data](uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64 && !data.empty(); shift += 7) {
      uint8_t b = uint8_t(data.front());
      data.remove_prefix(1);
      *v |= uint64_t(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  };
  out->clear();
  out->reserve(count);
  pgid_t prev_end = 0;
  for (uint32_t i = 0; i < count; ++i) {
    uint64_t gap, n;
    if (!get(&gap) || !get(&n) || n == 0) return false;
    pgid_t start = prev_end + gap;
    if (start < prev_end || start + n < start) return false;
    out->push_back({start, n});
    prev_end = start + n;
  }
  return true;
}

absl::Status CorruptPage(pgid_t id, std::string_view what) {
  return absl::DataLossError(absl::StrFormat("btree: page %d is corrupt: %s", id, what));
}

namespace {
constexpr char kDamagedPageUrl[] = "type.revkv.dev/btree.damaged_page";
}  // namespace

absl::Status DamagedPageError(std::string_view path, pgid_t id, std::string_view what) {
  absl::Status s = absl::DataLossError(
      absl::StrFormat("btree: %s: page %d is damaged: %s", path, id, what));
  s.SetPayload(kDamagedPageUrl, absl::Cord(absl::StrCat(id)));
  return s;
}

int64_t DamagedPage(const absl::Status& s) {
  if (s.code() != absl::StatusCode::kDataLoss) return -1;
  auto p = s.GetPayload(kDamagedPageUrl);
  int64_t id;
  if (!p.has_value() || !absl::SimpleAtoi(std::string(*p), &id)) return -1;
  return id;
}

absl::Status DecodeMeta(const char* page, MetaBody* meta) {
  const PageHeader* h = Header(page);
  std::memcpy(meta, page + sizeof(PageHeader), sizeof(MetaBody));
  if (meta->magic != kMagic) {
    return absl::InvalidArgumentError("btree: not a revkv btree file (bad magic)");
  }
  if (h->checksum != ComputeMetaChecksum(page)) {
    return absl::DataLossError(
        absl::StrFormat("btree: meta page %d checksum mismatch", h->id));
  }
  if (meta->version > kFormatVersion) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "btree: file format version %d is newer than this build supports (%d)",
        meta->version, kFormatVersion));
  }
  if (meta->version < kOldestFormatVersion) {
    return absl::DataLossError(
        absl::StrFormat("btree: unknown file format version %d", meta->version));
  }
  if (meta->version >= 2 && CommitListCount(page) > kMaxCommitList) {
    return absl::DataLossError(absl::StrFormat(
        "btree: meta page %d lists %d pages, more than %d", h->id, CommitListCount(page),
        kMaxCommitList));
  }
  if (h->kind != uint16_t(PageKind::kMeta) || h->id > 1) {
    return absl::DataLossError("btree: meta page header is invalid");
  }
  if (!IsValidPageSize(meta->page_size)) {
    return absl::DataLossError(
        absl::StrFormat("btree: invalid page size %d in meta", meta->page_size));
  }
  if (meta->high_water < 4 || meta->root.root < 2 ||
      meta->root.root >= meta->high_water || meta->freelist < 2 ||
      meta->freelist >= meta->high_water) {
    return absl::DataLossError("btree: meta page points outside the file");
  }
  return absl::OkStatus();
}

}  // namespace revkv::btree
