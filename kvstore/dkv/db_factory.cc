#include "kvstore/dkv/db_factory.h"

#include "backend/backend.h"

namespace revkv::kvstore::dkv {
namespace {

// Destroys the store before the backend it uses.
struct OwnedDB {
  std::unique_ptr<backend::Backend> backend;
  std::unique_ptr<mvcc::Store> store;
  ~OwnedDB() {
    store.reset();
    if (backend != nullptr) backend->Close().IgnoreError();
  }
};

}  // namespace

DBFactory ExistingStore(mvcc::Store* store) {
  return [store]() -> absl::StatusOr<DB> { return DB{store, nullptr}; };
}

DBFactory OpenDB(backend::BackendConfig config) {
  return [config]() -> absl::StatusOr<DB> {
    auto owned = std::make_shared<OwnedDB>();
    absl::StatusOr<std::unique_ptr<backend::Backend>> b = backend::Backend::Open(config);
    if (!b.ok()) return b.status();
    owned->backend = std::move(*b);
    absl::StatusOr<std::unique_ptr<mvcc::Store>> s = mvcc::Store::Open(owned->backend.get());
    if (!s.ok()) return s.status();
    owned->store = std::move(*s);
    mvcc::Store* raw = owned->store.get();
    return DB{raw, std::move(owned)};
  };
}

}  // namespace revkv::kvstore::dkv
