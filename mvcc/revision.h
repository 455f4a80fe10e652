// Revision: etcd's {main, sub} revision and its 17-byte on-disk key.
//
// The key bucket is keyed by 8-byte big-endian main, '_', 8-byte big-endian
// sub, plus a trailing 't' for a tombstone, so byte order is revision order
// and a range scan of the bucket walks history in order.
//
// Thread-safety: plain values and pure functions.
#ifndef REVKV_MVCC_REVISION_H_
#define REVKV_MVCC_REVISION_H_

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

namespace revkv::mvcc {

struct Revision {
  int64_t main = 0;
  int64_t sub = 0;

  auto operator<=>(const Revision&) const = default;
  bool operator==(const Revision&) const = default;
};

inline constexpr size_t kRevBytes = 17;           // main, '_', sub
inline constexpr size_t kMarkedRevBytes = 18;     // plus the tombstone mark
inline constexpr char kTombstoneMark = 't';

// Writes the key of `rev` into `buf` (kMarkedRevBytes long); returns a view
// of its 17 bytes, or 18 with the tombstone mark.
std::string_view EncodeRevisionKey(Revision rev, bool tombstone, char* buf);
// Appends the 17-byte key of `rev` (and the tombstone mark if `tombstone`).
void AppendRevisionKey(Revision rev, bool tombstone, std::string* out);
std::string RevisionKey(Revision rev, bool tombstone = false);

// Decodes a revision key (17 or 18 bytes). Returns false when malformed.
bool ParseRevisionKey(std::string_view key, Revision* rev, bool* tombstone);

}  // namespace revkv::mvcc

#endif  // REVKV_MVCC_REVISION_H_
