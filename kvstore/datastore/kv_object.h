// KVObject: what libnetwork's datastore stores (its KVObject and
// KVConstructor interfaces in one class).
//
// An object names itself by path segments (Key(), joined by datastore::Key)
// and names its family by KeyPrefix(): the objects whose keys start with
// Key(KeyPrefix()) are cached, listed and loaded together. The datastore
// keeps the object's index (the libkv last_index it was last stored at) in
// the object through SetIndex, and compares it on atomic writes.
//
// Contract for implementations:
//   - Exists() is true once SetIndex has been called (the object has been
//     stored or loaded), false for a new object;
//   - New() returns an empty object of the same type (Exists() false);
//   - CopyTo deep-copies every field, index and exists flag included, into
//     `dst`, which is of the same type (else an error);
//   - Skip() objects live only in the datastore's cache, never on disk.
//
// Thread-safety: the datastore calls an object from one thread at a time;
// it never keeps a reference to a caller's object (it caches copies).
#ifndef REVKV_KVSTORE_DATASTORE_KV_OBJECT_H_
#define REVKV_KVSTORE_DATASTORE_KV_OBJECT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace revkv::kvstore::datastore {

class KVObject {
 public:
  virtual ~KVObject() = default;

  // The object's key, as path segments.
  virtual std::vector<std::string> Key() const = 0;
  // The immediate parent key, as path segments, for tree walks and caching.
  virtual std::vector<std::string> KeyPrefix() const = 0;
  // The object marshalled for the store. An error stands for Go's nil value.
  virtual absl::StatusOr<std::string> Value() const = 0;
  // Unmarshals `value`, as loaded from the store, into the object.
  virtual absl::Status SetValue(std::string_view value) = 0;
  // The last index the datastore gave the object (0 if none).
  virtual uint64_t Index() const = 0;
  virtual void SetIndex(uint64_t index) = 0;
  // Whether the object has been stored (or loaded) yet.
  virtual bool Exists() const = 0;
  // True to keep the object out of the store (cache only).
  virtual bool Skip() const = 0;
  // A new, empty object of the same type.
  virtual std::unique_ptr<KVObject> New() const = 0;
  // Deep-copies this object into dst.
  virtual absl::Status CopyTo(KVObject& dst) const = 0;
};

}  // namespace revkv::kvstore::datastore

#endif  // REVKV_KVSTORE_DATASTORE_KV_OBJECT_H_
