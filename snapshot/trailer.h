// Trailer: the fixed 48 bytes at the end of a revkv snapshot file.
//
// A snapshot file is a complete btree database file (the content) followed
// by this trailer, all little-endian:
//
//   offset  size  field
//        0     8  content_size      bytes of content before the trailer
//        8     8  content_xxh3      XXH3-64 of those bytes
//       16     8  revision          the content's revision and compacted
//       24     8  compact_revision  revision (-1: never), as a store opened
//                                   on it has them (mvcc/open_revisions.h)
//       32     4  format_version    kFormatVersion
//       36     4  trailer_check     low 32 bits of XXH3-64 of bytes 0..35
//       40     8  magic             "RVKVSNAP"
//
// Thread-safety: plain values and pure functions.
#ifndef REVKV_SNAPSHOT_TRAILER_H_
#define REVKV_SNAPSHOT_TRAILER_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace revkv::snapshot {

inline constexpr size_t kTrailerSize = 48;
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr char kMagic[] = "RVKVSNAP";  // 8 bytes, no NUL stored

struct Trailer {
  uint64_t content_size = 0;
  uint64_t content_xxh3 = 0;
  int64_t revision = 0;
  int64_t compact_revision = -1;
  uint32_t format_version = kFormatVersion;
};

std::string EncodeTrailer(const Trailer& t);
// True when `bytes` (kTrailerSize long) ends with the magic.
bool HasMagic(std::string_view bytes);
// Decodes and checks magic, trailer check, format version and that the
// compact revision is not above the revision: DataLoss (or Unimplemented for
// a newer format) with a message saying what is wrong; the last one is also
// named (IsCompactAboveRevision).
absl::Status DecodeTrailer(std::string_view bytes, Trailer* t);

// Snapshot errors that code tells apart carry a payload under this URL
// naming them (util/status_payload.h); their messages are for people.
inline constexpr char kErrorPayloadUrl[] = "revkv.snapshot.error";
inline constexpr char kCompactAboveRevision[] = "compact-above-revision";
inline constexpr char kTrailerContradictsContent[] = "trailer-contradicts-content";

// A trailer whose compact revision is above its revision (DataLoss).
absl::Status ErrCompactAboveRevision(int64_t compact_revision, int64_t revision);
bool IsCompactAboveRevision(const absl::Status& s);

// A trailer whose revision or compact revision differs from what the
// content holds: what a store opened on the content would have (DataLoss,
// naming both values).
absl::Status ErrTrailerContradictsContent(const char* what, int64_t trailer, int64_t content);
bool IsTrailerContradictsContent(const absl::Status& s);

}  // namespace revkv::snapshot

#endif  // REVKV_SNAPSHOT_TRAILER_H_
