// New: libkv's NewStore, by backend name.
#include "kvstore/store.h"

#include "kvstore/revkv_store.h"

namespace revkv::kvstore {

absl::StatusOr<std::unique_ptr<Store>> New(std::string_view backend, const std::string& path,
                                           const Config& config) {
  if (backend != kRevkv) return ErrBackendNotSupported();
  absl::StatusOr<std::unique_ptr<RevkvStore>> s = RevkvStore::Open(path, config);
  if (!s.ok()) return s.status();
  return std::unique_ptr<Store>(std::move(*s));
}

}  // namespace revkv::kvstore
