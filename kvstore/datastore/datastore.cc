// libnetwork's datastore.go over the libkv store, with a consistent cache.
#include "kvstore/datastore/datastore.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace revkv::kvstore::datastore {
namespace {

std::string_view TrimSlashes(std::string_view s) {
  while (!s.empty() && s.front() == '/') s.remove_prefix(1);
  while (!s.empty() && s.back() == '/') s.remove_suffix(1);
  return s;
}

}  // namespace

Store::Store(kvstore::Store* kv, std::unique_ptr<kvstore::Store> owned)
    : owned_(std::move(owned)), kv_(kv), cache_(kv) {}

Store::~Store() { Close(); }

absl::StatusOr<std::unique_ptr<Store>> Store::New(const std::string& dir,
                                                  std::string_view bucket) {
  if (dir.empty()) return absl::InvalidArgumentError("empty dir");
  if (bucket.empty()) return absl::InvalidArgumentError("empty bucket");
  Config config;
  config.bucket = std::string(bucket);
  absl::StatusOr<std::unique_ptr<kvstore::Store>> kv =
      kvstore::New(kRevkv, dir + "/" + kDBFileName, config);
  if (!kv.ok()) return kv.status();
  kvstore::Store* raw = kv->get();
  return std::unique_ptr<Store>(new Store(raw, std::move(*kv)));
}

std::unique_ptr<Store> Store::FromKVStore(kvstore::Store* kv) {
  return std::unique_ptr<Store>(new Store(kv, nullptr));
}

void Store::Close() {
  std::lock_guard l(mu_);
  if (closed_) return;
  closed_ = true;
  if (owned_ != nullptr) owned_->Close();
  owned_.reset();
}

absl::Status Store::PutObjectAtomic(KVObject& object) {
  std::lock_guard l(mu_);
  if (closed_) return ErrStoreClosed();
  const std::string key = Key(object.Key());
  absl::StatusOr<std::string> value = object.Value();
  if (!value.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("invalid KV Object with a nil Value for key ",
                                                   key, ": ", value.status().message()));
  }
  // Load the prefix and copy the object first: once the store has changed,
  // nothing may fail before the cache changes too.
  absl::StatusOr<KVMap*> objects = cache_.Objects(object);
  if (!objects.ok()) return objects.status();
  absl::StatusOr<std::unique_ptr<KVObject>> copy = Cache::Clone(object);
  if (!copy.ok()) return copy.status();

  uint64_t index;
  if (object.Skip()) {
    // Sequencing happens in the cache.
    auto it = (*objects)->find(key);
    if (it != (*objects)->end() && it->second->Index() != object.Index()) return ErrKeyModified();
    index = object.Index() + 1;
  } else {
    std::optional<KVPair> previous;
    if (object.Exists()) previous = KVPair{key, "", object.Index()};
    absl::StatusOr<KVPair> pair = kv_->AtomicPut(key, *value, previous);
    if (!pair.ok()) return IsKeyExists(pair.status()) ? ErrKeyModified() : pair.status();
    index = pair->last_index;
  }
  object.SetIndex(index);
  (*copy)->SetIndex(index);
  (**objects)[key] = std::move(*copy);
  return absl::OkStatus();
}

absl::Status Store::GetObject(KVObject& object) {
  std::lock_guard l(mu_);
  if (closed_) return ErrStoreClosed();
  absl::StatusOr<KVMap*> objects = cache_.Objects(object);
  if (!objects.ok()) return objects.status();
  auto it = (*objects)->find(Key(object.Key()));
  if (it == (*objects)->end()) return ErrKeyNotFound();
  return it->second->CopyTo(object);
}

absl::StatusOr<std::vector<std::unique_ptr<KVObject>>> Store::List(const KVObject& prototype) {
  std::lock_guard l(mu_);
  if (closed_) return ErrStoreClosed();
  absl::StatusOr<KVMap*> objects = cache_.Objects(prototype);
  if (!objects.ok()) return objects.status();
  std::vector<std::unique_ptr<KVObject>> list;
  for (const auto& [key, o] : **objects) {
    absl::StatusOr<std::unique_ptr<KVObject>> copy = Cache::Clone(*o);
    if (!copy.ok()) return copy.status();
    list.push_back(std::move(*copy));
  }
  return list;
}

absl::StatusOr<std::map<std::string, std::unique_ptr<KVObject>>> Store::Map(
    std::string_view key, const KVObject& prototype) {
  std::lock_guard l(mu_);
  if (closed_) return ErrStoreClosed();
  absl::StatusOr<bool> exists = kv_->Exists(key);
  if (!exists.ok()) return exists.status();
  if (!*exists) {
    if (absl::Status s = kv_->Put(key, ""); !s.ok()) return s;
  }
  absl::StatusOr<std::vector<KVPair>> pairs = kv_->List(key);
  if (!pairs.ok()) return pairs.status();
  std::map<std::string, std::unique_ptr<KVObject>> result;
  for (const KVPair& pair : *pairs) {
    if (pair.value.empty()) continue;
    std::unique_ptr<KVObject> o = prototype.New();
    if (o == nullptr) return absl::InternalError("datastore: KVObject::New returned null");
    if (absl::Status s = o->SetValue(pair.value); !s.ok()) return s;
    o->SetIndex(pair.last_index);
    result[std::string(TrimSlashes(pair.key))] = std::move(o);
  }
  return result;
}

absl::Status Store::DeleteObject(const KVObject& object) {
  std::lock_guard l(mu_);
  if (closed_) return ErrStoreClosed();
  absl::StatusOr<KVMap*> objects = cache_.Objects(object);
  if (!objects.ok()) return objects.status();
  const std::string key = Key(object.Key());
  if (!object.Skip()) {
    if (absl::Status s = kv_->Delete(key); !s.ok()) return s;
  }
  (*objects)->erase(key);
  return absl::OkStatus();
}

absl::Status Store::DeleteObjectAtomic(const KVObject& object) {
  std::lock_guard l(mu_);
  if (closed_) return ErrStoreClosed();
  absl::StatusOr<KVMap*> objects = cache_.Objects(object);
  if (!objects.ok()) return objects.status();
  const std::string key = Key(object.Key());
  auto it = (*objects)->find(key);
  if (object.Skip()) {
    if (it != (*objects)->end() && it->second->Index() != object.Index()) return ErrKeyModified();
  } else {
    absl::Status s = kv_->AtomicDelete(key, KVPair{key, "", object.Index()});
    if (!s.ok()) return IsKeyExists(s) ? ErrKeyModified() : s;
  }
  if (it != (*objects)->end()) (*objects)->erase(it);
  return absl::OkStatus();
}

}  // namespace revkv::kvstore::datastore
