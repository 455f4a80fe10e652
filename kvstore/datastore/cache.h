// Cache: the datastore's in-memory copy of the objects, per key prefix
// (libnetwork's datastore cache).
//
// A prefix (Key(object.KeyPrefix())) is loaded from the libkv store the first
// time an object of it is used, with a watch of it (Store::WatchTree). From
// then on the datastore applies each of its own successful writes to both,
// and before each use of the prefix the cache applies every change the watch
// reports up to the store's revision at that moment: a write made through
// another handle of the same store (another datastore, or the libkv store
// directly) is seen by the next call that starts after it returned. A watch
// that ended (its history compacted away) makes the prefix load afresh.
// Objects are held as copies (KVObject::New + CopyTo), never as the caller's
// objects.
//
// Thread-safety: not thread-safe; the datastore serializes its calls.
#ifndef REVKV_KVSTORE_DATASTORE_CACHE_H_
#define REVKV_KVSTORE_DATASTORE_CACHE_H_

#include <map>
#include <memory>
#include <stop_token>
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

  // Ends the watches.
  ~Cache();

  // The objects of `object`'s prefix (made through object.New()), loaded on
  // first use and brought up to date with the store. Values that are empty
  // (parent markers) are skipped.
  absl::StatusOr<KVMap*> Objects(const KVObject& object);

  // A deep copy of `object`.
  static absl::StatusOr<std::unique_ptr<KVObject>> Clone(const KVObject& object);

 private:
  struct Prefix {
    KVMap objects;
    std::unique_ptr<TreeWatch> watch;
  };
  // Applies the watch's changes to p.objects.
  absl::Status Refresh(const KVObject& object, Prefix& p);
  absl::Status Load(const KVObject& object, const std::string& prefix, Prefix& p);
  // Decodes a stored pair into an object (index set).
  static absl::StatusOr<std::unique_ptr<KVObject>> Decode(const KVObject& object,
                                                          const KVPair& pair);

  kvstore::Store* kv_;
  std::stop_source stop_;  // the watches' stop
  std::map<std::string, Prefix> by_prefix_;
};

}  // namespace revkv::kvstore::datastore

#endif  // REVKV_KVSTORE_DATASTORE_CACHE_H_
