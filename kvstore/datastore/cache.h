// Cache: the datastore's in-memory copy of the objects, per key prefix
// (libnetwork's datastore cache).
//
// A prefix (Key(object.KeyPrefix())) is loaded from the libkv store the first
// time an object of it is used; from then on the datastore keeps it equal to
// the store by applying each successful write to both. Objects are held as
// copies (KVObject::New + CopyTo), never as the caller's objects. Writes made
// to the libkv store other than through the datastore are not seen.
//
// Thread-safety: not thread-safe; the datastore serializes its calls.
#ifndef REVKV_KVSTORE_DATASTORE_CACHE_H_
#define REVKV_KVSTORE_DATASTORE_CACHE_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kvstore/datastore/kv_object.h"
#include "kvstore/store.h"

namespace revkv::kvstore::datastore {

// Objects of one prefix by store key.
using KVMap = std::map<std::string, std::unique_ptr<KVObject>>;

class Cache {
 public:
  explicit Cache(kvstore::Store* kv) : kv_(kv) {}

  // The objects of `object`'s prefix, loading them (through object.New())
  // on first use. Values that are empty (parent markers) are skipped.
  absl::StatusOr<KVMap*> Objects(const KVObject& object);

  // A deep copy of `object`.
  static absl::StatusOr<std::unique_ptr<KVObject>> Clone(const KVObject& object);

 private:
  kvstore::Store* kv_;
  std::map<std::string, KVMap> by_prefix_;
};

}  // namespace revkv::kvstore::datastore

#endif  // REVKV_KVSTORE_DATASTORE_CACHE_H_
