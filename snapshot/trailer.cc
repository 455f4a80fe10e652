#include "snapshot/trailer.h"

#include <xxhash.h>

#include <cstring>

#include "absl/strings/str_format.h"
#include "util/status_payload.h"

namespace revkv::snapshot {
namespace {

void Put64(uint64_t v, char* p) {
  for (int i = 0; i < 8; ++i) p[i] = char(v >> (8 * i));
}
void Put32(uint32_t v, char* p) {
  for (int i = 0; i < 4; ++i) p[i] = char(v >> (8 * i));
}
uint64_t Get64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | uint8_t(p[i]);
  return v;
}
uint32_t Get32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | uint8_t(p[i]);
  return v;
}
uint32_t Check(const char* p) { return uint32_t(XXH3_64bits(p, 36)); }

}  // namespace

std::string EncodeTrailer(const Trailer& t) {
  std::string out(kTrailerSize, '\0');
  char* p = out.data();
  Put64(t.content_size, p);
  Put64(t.content_xxh3, p + 8);
  Put64(uint64_t(t.revision), p + 16);
  Put64(uint64_t(t.compact_revision), p + 24);
  Put32(t.format_version, p + 32);
  Put32(Check(p), p + 36);
  std::memcpy(p + 40, kMagic, 8);
  return out;
}

bool HasMagic(std::string_view bytes) {
  return bytes.size() == kTrailerSize && std::memcmp(bytes.data() + 40, kMagic, 8) == 0;
}

absl::Status DecodeTrailer(std::string_view bytes, Trailer* t) {
  if (!HasMagic(bytes)) {
    return absl::DataLossError("not a revkv snapshot (no snapshot trailer at the end of the file)");
  }
  const char* p = bytes.data();
  if (Get32(p + 36) != Check(p)) {
    return absl::DataLossError("snapshot trailer is corrupt (trailer checksum mismatch)");
  }
  t->content_size = Get64(p);
  t->content_xxh3 = Get64(p + 8);
  t->revision = int64_t(Get64(p + 16));
  t->compact_revision = int64_t(Get64(p + 24));
  t->format_version = Get32(p + 32);
  if (t->format_version != kFormatVersion) {
    return absl::UnimplementedError(absl::StrFormat(
        "snapshot format version %d is not supported (this revkv reads version %d)",
        t->format_version, kFormatVersion));
  }
  if (t->compact_revision > t->revision) {
    return ErrCompactAboveRevision(t->compact_revision, t->revision);
  }
  return absl::OkStatus();
}

absl::Status ErrCompactAboveRevision(int64_t compact_revision, int64_t revision) {
  return util::WithName(
      absl::DataLossError(absl::StrFormat(
          "snapshot trailer is inconsistent: compact revision %d is above revision %d",
          compact_revision, revision)),
      kErrorPayloadUrl, kCompactAboveRevision);
}

bool IsCompactAboveRevision(const absl::Status& s) {
  return util::IsNamed(s, absl::StatusCode::kDataLoss, kErrorPayloadUrl, kCompactAboveRevision);
}

absl::Status ErrTrailerContradictsContent(const char* what, int64_t trailer, int64_t content) {
  return util::WithName(
      absl::DataLossError(absl::StrFormat(
          "snapshot trailer says %s %d but the content holds %s %d", what, trailer, what, content)),
      kErrorPayloadUrl, kTrailerContradictsContent);
}

bool IsTrailerContradictsContent(const absl::Status& s) {
  return util::IsNamed(s, absl::StatusCode::kDataLoss, kErrorPayloadUrl,
                       kTrailerContradictsContent);
}

}  // namespace revkv::snapshot
