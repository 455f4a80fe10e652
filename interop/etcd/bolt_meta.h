// bbolt 1.3's meta pages: pages 0 and 1 each hold a meta after the page
// header, little-endian:
//
//   offset size field
//        0    4 magic      0xED0CDAED
//        4    4 version    2
//        8    4 page_size
//       12    4 flags
//       16    8 root       the root bucket's root page
//       24    8 sequence   the root bucket's sequence
//       32    8 freelist   the freelist page, or 2^64-1 when not synced
//                          (etcd 3.4 opens bbolt with NoFreelistSync)
//       40    8 pgid       the high-water mark: pages in use are below it
//       48    8 txid       the commit that wrote it
//       56    8 checksum   FNV-1a 64 of bytes 0..55
//
// A commit writes the meta slot txid % 2, so the newer of two valid metas is
// the last commit; a torn or damaged one fails its checksum and the other is
// used (bbolt's rule: the higher txid among the valid ones).
//
// Thread-safety: plain values and pure functions.
#ifndef REVKV_INTEROP_ETCD_BOLT_META_H_
#define REVKV_INTEROP_ETCD_BOLT_META_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace revkv::interop::etcd {

inline constexpr uint32_t kBoltMagic = 0xED0CDAED;
inline constexpr uint32_t kBoltVersion = 2;
inline constexpr uint64_t kNoFreelist = ~uint64_t{0};
inline constexpr size_t kMetaSize = 64;
inline constexpr size_t kMetaChecksumOffset = 56;

struct Meta {
  uint32_t magic = 0;
  uint32_t version = 0;
  uint32_t page_size = 0;
  uint32_t flags = 0;
  uint64_t root = 0;
  uint64_t sequence = 0;
  uint64_t freelist = 0;
  uint64_t pgid = 0;
  uint64_t txid = 0;
  uint64_t checksum = 0;
};

uint64_t Fnv1a64(std::string_view bytes);

// Decodes and validates the meta on page `slot` (0 or 1) of `file`, which
// starts at byte `offset`: page header (own id, meta flag), magic, version,
// checksum, a page size bbolt can write, and pointers that fit the file
// (root and freelist below the high-water mark, which the file's size
// reaches). Errors are BoltErrors naming the page.
absl::StatusOr<Meta> DecodeMeta(std::string_view file, uint64_t offset, uint64_t slot);

// The meta bbolt would open `file` with: the valid one with the higher
// txid. *slot gets its slot; *note says why the other was passed over (empty
// when both were valid). kBoltNotBolt when neither slot holds a bbolt magic,
// kBoltBadMeta when neither is valid.
absl::StatusOr<Meta> ChooseMeta(std::string_view file, int* slot, std::string* note);

// Encodes a meta page (header and meta, checksum computed), for tests' and
// the writer's files: `page_size` bytes.
std::string EncodeMetaPage(const Meta& meta, uint64_t slot);

}  // namespace revkv::interop::etcd

#endif  // REVKV_INTEROP_ETCD_BOLT_META_H_
