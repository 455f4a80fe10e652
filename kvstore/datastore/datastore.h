// datastore::Store: libnetwork's object datastore (libnetwork/datastore)
// over the libkv store, with its in-memory object cache.
//
// Objects (KVObject) are stored at Key(object.Key()) as object.Value(), with
// optimistic locking on their index: PutObjectAtomic of an object that
// Exists() succeeds only if the stored index still equals object.Index();
// of a new object, only if the key is absent. Either way a stale object gets
// ErrKeyModified, and the caller reloads (GetObject) and retries.
//
// The cache (cache.h) answers GetObject and List. After every call the
// cache equals the store: a write that fails changes neither; one that
// succeeds changes both. Skip() objects are kept in the cache only, with the
// same optimistic locking done there (the index counts 1, 2, ...).
//
// Errors: kvstore::ErrKeyModified, kvstore::ErrKeyNotFound (also exported
// here), InvalidArgument for an object whose Value() fails, and
// kvstore::ErrStoreClosed after Close; anything else comes from the libkv
// store or the object's SetValue/CopyTo.
//
// Thread-safety: thread-safe; calls are serialized (one mutex, as
// libnetwork's). Objects passed in are used only during the call.
#ifndef REVKV_KVSTORE_DATASTORE_DATASTORE_H_
#define REVKV_KVSTORE_DATASTORE_DATASTORE_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kvstore/datastore/cache.h"
#include "kvstore/datastore/key.h"
#include "kvstore/datastore/kv_object.h"
#include "kvstore/errors.h"
#include "kvstore/store.h"

namespace revkv::kvstore::datastore {

using kvstore::ErrKeyModified;
using kvstore::ErrKeyNotFound;
using kvstore::IsKeyModified;
using kvstore::IsKeyNotFound;

// The database file New opens in its directory.
inline constexpr char kDBFileName[] = "local-kv.db";

class Store {
 public:
  // Opens dir/local-kv.db (creating it and dir) with libkv bucket `bucket`.
  // InvalidArgument "empty dir" / "empty bucket" when either is empty.
  static absl::StatusOr<std::unique_ptr<Store>> New(const std::string& dir,
                                                    std::string_view bucket);
  // A datastore over an existing libkv store (not owned; must outlive it).
  static std::unique_ptr<Store> FromKVStore(kvstore::Store* kv);
  ~Store();

  // Closes the libkv store if this datastore opened it. Later calls return
  // ErrStoreClosed. Idempotent.
  void Close();

  // Adds or updates `object` atomically (see the top of the file), then sets
  // its index to the stored one. Errors: ErrKeyModified when the object is
  // stale or new but already stored; ErrKeyNotFound when it Exists() but is
  // no longer stored.
  absl::Status PutObjectAtomic(KVObject& object);

  // Loads the stored object with object's key into `object` (value and
  // index). ErrKeyNotFound if there is none.
  absl::Status GetObject(KVObject& object);

  // Copies of every object of `prototype`'s prefix (Key(prototype.
  // KeyPrefix())), in key order; empty if none.
  absl::StatusOr<std::vector<std::unique_ptr<KVObject>>> List(const KVObject& prototype);

  // The objects stored under the store key `key`, read from the store (not
  // the cache) and made through prototype.New(), by store key with leading
  // and trailing '/' trimmed. Puts an empty marker value at `key` first if it
  // is absent (libnetwork's ensureParent); markers and other empty values are
  // skipped.
  absl::StatusOr<std::map<std::string, std::unique_ptr<KVObject>>> Map(std::string_view key,
                                                                       const KVObject& prototype);

  // Deletes `object` whatever its index. ErrKeyNotFound if it is not stored
  // (for a Skip() object: never an error).
  absl::Status DeleteObject(const KVObject& object);

  // Deletes `object` if its index is the stored one: ErrKeyModified if not,
  // ErrKeyNotFound if it is not stored.
  absl::Status DeleteObjectAtomic(const KVObject& object);

 private:
  Store(kvstore::Store* kv, std::unique_ptr<kvstore::Store> owned);

  std::mutex mu_;
  std::unique_ptr<kvstore::Store> owned_;  // guarded by mu_
  kvstore::Store* kv_;                     // guarded by mu_
  Cache cache_;                            // guarded by mu_
  bool closed_ = false;                    // guarded by mu_
};

}  // namespace revkv::kvstore::datastore

#endif  // REVKV_KVSTORE_DATASTORE_DATASTORE_H_
