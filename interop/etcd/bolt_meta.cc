#include "interop/etcd/bolt_meta.h"

#include <vector>

#include "absl/strings/str_format.h"
#include "interop/etcd/bolt_error.h"
#include "interop/etcd/bolt_page.h"

namespace revkv::interop::etcd {
namespace {

bool PlausiblePageSize(uint32_t n) {
  // bbolt takes the OS page size; anything a real system has is a power of
  // two from 1 KiB to 64 KiB (arm64 kernels use 64 KiB).
  return n >= 1024 && n <= 65536 && (n & (n - 1)) == 0;
}

void Store32(char* p, uint32_t v) { std::memcpy(p, &v, sizeof v); }
void Store64(char* p, uint64_t v) { std::memcpy(p, &v, sizeof v); }

}  // namespace

uint64_t Fnv1a64(std::string_view bytes) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

absl::StatusOr<Meta> DecodeMeta(std::string_view file, uint64_t offset, uint64_t slot) {
  if (file.size() < offset + kPageHeaderSize + kMetaSize) {
    // Nothing there to be a meta page (the magic included).
    return BoltError(kBoltNotBolt, slot, "file too short to hold this meta page");
  }
  const char* p = file.data() + offset;
  const char* m = p + kPageHeaderSize;
  Meta meta;
  meta.magic = Load32(m);
  meta.version = Load32(m + 4);
  meta.page_size = Load32(m + 8);
  meta.flags = Load32(m + 12);
  meta.root = Load64(m + 16);
  meta.sequence = Load64(m + 24);
  meta.freelist = Load64(m + 32);
  meta.pgid = Load64(m + 40);
  meta.txid = Load64(m + 48);
  meta.checksum = Load64(m + 56);
  if (meta.magic != kBoltMagic) return BoltError(kBoltNotBolt, slot, "no bbolt magic");
  if (meta.version != kBoltVersion) {
    return BoltError(kBoltBadMeta, slot, absl::StrFormat("version %d, not 2", meta.version));
  }
  // bbolt 1.3 lets a zero checksum pass; every meta it writes has one, and
  // nothing read is believed unverified here.
  const uint64_t sum = Fnv1a64(std::string_view(m, kMetaChecksumOffset));
  if (meta.checksum != sum) {
    return BoltError(kBoltBadMeta, slot,
                     absl::StrFormat("checksum %016x, the meta sums to %016x", meta.checksum, sum));
  }
  if (Load64(p) != slot || Load16(p + 8) != kMetaPageFlag) {
    return BoltError(kBoltBadMeta, slot, "page header is not meta page's");
  }
  if (!PlausiblePageSize(meta.page_size) || offset != slot * meta.page_size) {
    return BoltError(kBoltBadMeta, slot, absl::StrFormat("page size %d", meta.page_size));
  }
  // The file must hold every page below the high-water mark: a shorter one
  // is a truncated copy.
  const uint64_t pages_in_file = file.size() / meta.page_size;
  if (meta.pgid < 3 || meta.pgid > pages_in_file) {
    return BoltError(kBoltBadMeta, slot,
                     absl::StrFormat("high-water mark %d pages, the file holds %d", meta.pgid,
                                     pages_in_file));
  }
  if (meta.root < 2 || meta.root >= meta.pgid) {
    return BoltError(kBoltBadMeta, slot, absl::StrFormat("root page %d", meta.root));
  }
  if (meta.freelist != kNoFreelist && (meta.freelist < 2 || meta.freelist >= meta.pgid)) {
    return BoltError(kBoltBadMeta, slot, absl::StrFormat("freelist page %d", meta.freelist));
  }
  return meta;
}

absl::StatusOr<Meta> ChooseMeta(std::string_view file, int* slot, std::string* note) {
  absl::StatusOr<Meta> m0 = DecodeMeta(file, 0, 0);
  // Meta 1 sits one page in; the page size comes from meta 0 when it is
  // whole, else each size bbolt could have used is tried.
  std::vector<uint32_t> sizes;
  if (m0.ok()) {
    sizes.push_back(m0->page_size);
  } else {
    for (uint32_t n = 1024; n <= 65536; n *= 2) sizes.push_back(n);
  }
  absl::StatusOr<Meta> m1 = BoltError(kBoltNotBolt, 1, "no bbolt magic");
  for (uint32_t n : sizes) {
    absl::StatusOr<Meta> m = DecodeMeta(file, n, 1);
    // Keep the most telling error: a slot with the magic says more.
    if (m.ok() || !IsBoltError(m.status(), kBoltNotBolt) || IsBoltError(m1.status(), kBoltNotBolt)) {
      m1 = m;
    }
    if (m1.ok()) break;
  }
  if (m0.ok() && m1.ok() && m0->page_size != m1->page_size) {
    m1 = BoltError(kBoltBadMeta, 1, "page size differs from meta 0's");
  }
  note->clear();
  if (m0.ok() && m1.ok()) {
    *slot = m1->txid > m0->txid ? 1 : 0;
    return *slot == 1 ? m1 : m0;
  }
  if (m0.ok() || m1.ok()) {
    *slot = m0.ok() ? 0 : 1;
    *note = absl::StrFormat("meta page %d passed over: %s", 1 - *slot,
                            (m0.ok() ? m1 : m0).status().message());
    return m0.ok() ? m0 : m1;
  }
  if (IsBoltError(m0.status(), kBoltNotBolt) && IsBoltError(m1.status(), kBoltNotBolt)) {
    return BoltError(kBoltNotBolt, std::nullopt, "neither meta page holds bbolt's magic");
  }
  return BoltError(kBoltBadMeta, std::nullopt,
                   absl::StrFormat("no valid meta page (meta 0: %s; meta 1: %s)",
                                   m0.status().message(), m1.status().message()));
}

std::string EncodeMetaPage(const Meta& meta, uint64_t slot) {
  std::string page(meta.page_size, '\0');
  char* p = page.data();
  Store64(p, slot);
  uint16_t flags = kMetaPageFlag;
  std::memcpy(p + 8, &flags, sizeof flags);
  char* m = p + kPageHeaderSize;
  Store32(m, meta.magic);
  Store32(m + 4, meta.version);
  Store32(m + 8, meta.page_size);
  Store32(m + 12, meta.flags);
  Store64(m + 16, meta.root);
  Store64(m + 24, meta.sequence);
  Store64(m + 32, meta.freelist);
  Store64(m + 40, meta.pgid);
  Store64(m + 48, meta.txid);
  Store64(m + 56, Fnv1a64(std::string_view(m, kMetaChecksumOffset)));
  return page;
}

}  // namespace revkv::interop::etcd
