#include "bench/open_store.h"

#include <utility>

namespace revkv::bench {

absl::Status StoreHandle::Close() {
  absl::Status s;
  if (store != nullptr) s = store->Close();
  store.reset();
  if (backend != nullptr) {
    absl::Status c = backend->Close();
    if (s.ok()) s = c;
  }
  backend.reset();
  return s;
}

absl::StatusOr<StoreHandle> OpenStore(const backend::BackendConfig& config,
                                      const mvcc::StoreOptions& options) {
  StoreHandle h;
  absl::StatusOr<std::unique_ptr<backend::Backend>> b = backend::Backend::Open(config);
  if (!b.ok()) return b.status();
  h.backend = *std::move(b);
  absl::StatusOr<std::unique_ptr<mvcc::Store>> s = mvcc::Store::Open(h.backend.get(), options);
  if (!s.ok()) return s.status();
  h.store = *std::move(s);
  return h;
}

}  // namespace revkv::bench
