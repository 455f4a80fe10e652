#include "kvstore/datastore/cache.h"

#include "absl/strings/str_cat.h"
#include "kvstore/datastore/key.h"

namespace revkv::kvstore::datastore {

absl::StatusOr<std::unique_ptr<KVObject>> Cache::Clone(const KVObject& object) {
  std::unique_ptr<KVObject> copy = object.New();
  if (copy == nullptr) return absl::InternalError("datastore: KVObject::New returned null");
  if (absl::Status s = object.CopyTo(*copy); !s.ok()) return s;
  return copy;
}

absl::StatusOr<KVMap*> Cache::Objects(const KVObject& object) {
  const std::string prefix = Key(object.KeyPrefix());
  if (auto it = by_prefix_.find(prefix); it != by_prefix_.end()) return &it->second;

  KVMap objects;
  absl::StatusOr<std::vector<KVPair>> pairs = kv_->List(prefix);
  if (!pairs.ok() && !IsKeyNotFound(pairs.status())) {
    return absl::Status(pairs.status().code(),
                        absl::StrCat("error while populating kmap: ", pairs.status().message()));
  }
  if (pairs.ok()) {
    for (const KVPair& pair : *pairs) {
      if (pair.value.empty()) continue;
      std::unique_ptr<KVObject> o = object.New();
      if (o == nullptr) return absl::InternalError("datastore: KVObject::New returned null");
      if (absl::Status s = o->SetValue(pair.value); !s.ok()) return s;
      o->SetIndex(pair.last_index);
      objects[Key(o->Key())] = std::move(o);
    }
  }
  return &by_prefix_.emplace(prefix, std::move(objects)).first->second;
}

}  // namespace revkv::kvstore::datastore
