// The one place `revkv bench` opens an mvcc store: a backend::Backend over
// the file at config.path and an mvcc::Store over that backend. The store
// target, the mvcc suite and the scaling workloads all open stores here, so
// that a change of how revkv is opened is made once.
//
// Thread-safety: a StoreHandle is thread-compatible; the store and backend
// follow their own rules.
#ifndef REVKV_BENCH_OPEN_STORE_H_
#define REVKV_BENCH_OPEN_STORE_H_

#include <memory>

#include "absl/status/statusor.h"
#include "backend/backend.h"
#include "mvcc/store.h"

namespace revkv::bench {

struct StoreHandle {
  // Declared in this order so that destruction drops the store first.
  std::unique_ptr<backend::Backend> backend;
  std::unique_ptr<mvcc::Store> store;

  // Closes the store (a clean close writes its index checkpoint), then the
  // backend; the first error wins. Idempotent.
  absl::Status Close();
};

absl::StatusOr<StoreHandle> OpenStore(const backend::BackendConfig& config,
                                      const mvcc::StoreOptions& options = {});

}  // namespace revkv::bench

#endif  // REVKV_BENCH_OPEN_STORE_H_
