// IStore: dKV's key-value store interface (lib/store/interface.go), with
// expiry.
//
// A key can carry two times, both relative to the write that sets them:
//   expire_in  after it, Get no longer returns the value (loaded = false),
//              but Has still finds the key;
//   delete_in  after it, the key is gone: Get and Has miss it, and a
//              background sweeper removes it from the store.
// Zero means never. delete_in alone implies the same expiry (a deleted key
// is also expired). Negative durations are kInvalidOperation.
//
// Every method returns an absl::Status; ErrorFromStatus (error.h) turns it
// into dKV's typed Error {RetCode, message}.
//
// Thread-safety: implementations are thread-safe.
#ifndef REVKV_KVSTORE_DKV_ISTORE_H_
#define REVKV_KVSTORE_DKV_ISTORE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kvstore/dkv/clock.h"
#include "kvstore/dkv/error.h"

namespace revkv::kvstore::dkv {

// dKV's db.Feature flags.
enum class Feature : uint64_t {
  kSet = 1 << 0,
  kSetE = 1 << 1,
  kSetEIfUnset = 1 << 2,
  kGet = 1 << 3,
  kExpire = 1 << 4,
  kDelete = 1 << 5,
  kHas = 1 << 6,
  kSave = 1 << 7,
  kLoad = 1 << 8,
  kGarbageCollect = 1 << 9,
};

// dKV's db.DatabaseInfo, with what revkv knows cheaply. Not guaranteed to be
// up to date by the time it is read.
struct DatabaseInfo {
  uint64_t size_bytes = 0;  // the database file
  std::string db_type;      // "revkv"
  std::vector<Feature> supported_features;
  int64_t key_count = 0;         // keys of the store, expired ones included
  int64_t revision = 0;          // the mvcc store's current revision
  int64_t compact_revision = 0;  // -1 when never compacted
  int64_t pending_deletes = 0;   // scheduled delete times not yet swept (an upper bound)
  int64_t swept_keys = 0;        // keys the sweeper removed since open
};

// Get's answer: loaded is false for a missing, expired or deleted key.
struct GetResult {
  std::string value;
  bool loaded = false;
};

class IStore {
 public:
  virtual ~IStore() = default;
  // Inserts or updates key, with no expiry.
  virtual absl::Status Set(std::string_view key, std::string_view value) = 0;
  // Inserts or updates key with expiry and deletion times (0 = never).
  virtual absl::Status SetE(std::string_view key, std::string_view value, Millis expire_in,
                            Millis delete_in) = 0;
  // As SetE if the key does not exist (or is deleted); otherwise, expired or
  // not, changes nothing and returns OK.
  virtual absl::Status SetEIfUnset(std::string_view key, std::string_view value, Millis expire_in,
                                   Millis delete_in) = 0;
  // Expires key now: its value is dropped, Has still finds it. A missing key
  // is no error.
  virtual absl::Status Expire(std::string_view key) = 0;
  // Removes key. A missing key is no error.
  virtual absl::Status Delete(std::string_view key) = 0;
  // The value of key, loaded = false if missing, expired or deleted.
  virtual absl::StatusOr<GetResult> Get(std::string_view key) = 0;
  // Whether key exists: true for an expired key until it is deleted.
  virtual absl::StatusOr<bool> Has(std::string_view key) = 0;
  virtual absl::StatusOr<DatabaseInfo> GetDBInfo() = 0;
};

}  // namespace revkv::kvstore::dkv

#endif  // REVKV_KVSTORE_DKV_ISTORE_H_
