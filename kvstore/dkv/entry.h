// Entry: how the dKV store keeps a value and its expiry in one mvcc value.
//
// Layout (17 bytes of header, then the value):
//   byte 0      format version, 1
//   bytes 1-8   expire_at, big-endian int64 milliseconds since the Unix
//               epoch; 0 = never
//   bytes 9-16  delete_at, the same
//   bytes 17-   the value
// Keeping the expiry inside the value makes it survive reopen, share the
// key's revision and travel with snapshots and hashes.
//
// An entry is expired at time t when expire_at or delete_at is set and
// <= t (a deleted entry is also expired), and deleted when delete_at is set
// and <= t: deleted entries read as absent even before the sweeper removes
// them.
//
// Thread-safety: plain value and pure functions.
#ifndef REVKV_KVSTORE_DKV_ENTRY_H_
#define REVKV_KVSTORE_DKV_ENTRY_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "kvstore/dkv/clock.h"

namespace revkv::kvstore::dkv {

inline constexpr size_t kEntryHeaderSize = 17;
inline constexpr char kEntryVersion = 1;

struct Entry {
  Millis expire_at{0};
  Millis delete_at{0};
  std::string value;

  bool Deleted(Millis now) const { return delete_at.count() != 0 && delete_at <= now; }
  bool Expired(Millis now) const {
    return Deleted(now) || (expire_at.count() != 0 && expire_at <= now);
  }
  bool operator==(const Entry&) const = default;
};

std::string EncodeEntry(const Entry& e);
// DataLoss for a value that is not an entry (too short, unknown version).
absl::StatusOr<Entry> DecodeEntry(std::string_view data);

}  // namespace revkv::kvstore::dkv

#endif  // REVKV_KVSTORE_DKV_ENTRY_H_
