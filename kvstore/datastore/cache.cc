#include "kvstore/datastore/cache.h"

#include "absl/strings/str_cat.h"
#include "kvstore/datastore/key.h"

namespace revkv::kvstore::datastore {

Cache::~Cache() { stop_.request_stop(); }

absl::StatusOr<std::unique_ptr<KVObject>> Cache::Clone(const KVObject& object) {
  std::unique_ptr<KVObject> copy = object.New();
  if (copy == nullptr) return absl::InternalError("datastore: KVObject::New returned null");
  if (absl::Status s = object.CopyTo(*copy); !s.ok()) return s;
  return copy;
}

absl::StatusOr<std::unique_ptr<KVObject>> Cache::Decode(const KVObject& object,
                                                         const KVPair& pair) {
  std::unique_ptr<KVObject> o = object.New();
  if (o == nullptr) return absl::InternalError("datastore: KVObject::New returned null");
  if (absl::Status s = o->SetValue(pair.value); !s.ok()) return s;
  o->SetIndex(pair.last_index);
  return o;
}

absl::Status Cache::Load(const KVObject& object, const std::string& prefix, Prefix& p) {
  absl::StatusOr<std::unique_ptr<TreeWatch>> watch = kv_->WatchTree(prefix, stop_.get_token());
  if (!watch.ok()) {
    return absl::Status(watch.status().code(),
                        absl::StrCat("error while populating kmap: ", watch.status().message()));
  }
  std::optional<std::vector<KVPair>> pairs = (*watch)->Next();  // the listing now: no wait
  if (!pairs.has_value()) return (*watch)->status().ok() ? ErrStoreClosed() : (*watch)->status();
  KVMap objects;
  for (const KVPair& pair : *pairs) {
    if (pair.value.empty()) continue;
    absl::StatusOr<std::unique_ptr<KVObject>> o = Decode(object, pair);
    if (!o.ok()) return o.status();
    objects[pair.key] = *std::move(o);
  }
  p.objects = std::move(objects);
  p.watch = *std::move(watch);
  return absl::OkStatus();
}

absl::Status Cache::Refresh(const KVObject& object, Prefix& p) {
  absl::StatusOr<std::vector<TreeChange>> changes = p.watch->CatchUp();
  if (!changes.ok()) return changes.status();
  for (const TreeChange& c : *changes) {
    if (c.deleted || c.pair.value.empty()) {  // empty: a parent marker, skipped as at load
      p.objects.erase(c.pair.key);
      continue;
    }
    absl::StatusOr<std::unique_ptr<KVObject>> o = Decode(object, c.pair);
    if (!o.ok()) return o.status();
    p.objects[c.pair.key] = *std::move(o);
  }
  return absl::OkStatus();
}

absl::StatusOr<KVMap*> Cache::Objects(const KVObject& object) {
  const std::string prefix = Key(object.KeyPrefix());
  auto it = by_prefix_.find(prefix);
  if (it != by_prefix_.end()) {
    absl::Status s = Refresh(object, it->second);
    if (s.ok()) return &it->second.objects;
    if (IsStoreClosed(s)) return s;
    // The watch lost its history (or a value failed to decode): load
    // afresh, keeping the objects that live in the cache only.
    Prefix p;
    if (absl::Status l = Load(object, prefix, p); !l.ok()) return l;
    for (auto& [key, o] : it->second.objects) {
      if (o->Skip()) p.objects[key] = std::move(o);
    }
    it->second = std::move(p);
    return &it->second.objects;
  }
  Prefix p;
  if (absl::Status s = Load(object, prefix, p); !s.ok()) return s;
  return &by_prefix_.emplace(prefix, std::move(p)).first->second.objects;
}

}  // namespace revkv::kvstore::datastore
