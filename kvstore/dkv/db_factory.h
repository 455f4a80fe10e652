// DBFactory: how a dKV local store gets its database (dKV's
// `type DBFactory func() db.KVDB`), here any revkv mvcc store.
//
// A factory returns the store to use and, optionally, the object that owns
// it; the local store keeps the owner alive until it closes, then drops it.
//
// Thread-safety: a factory is called once, by the thread opening the store.
#ifndef REVKV_KVSTORE_DKV_DB_FACTORY_H_
#define REVKV_KVSTORE_DKV_DB_FACTORY_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "mvcc/store.h"
#include "revkv/db.h"

namespace revkv::kvstore::dkv {

struct DB {
  mvcc::Store* store = nullptr;  // required
  std::shared_ptr<void> owner;   // null: the caller keeps store alive
};

using DBFactory = std::function<absl::StatusOr<DB>()>;

// A factory for an existing store (not owned; must outlive the local store).
DBFactory ExistingStore(mvcc::Store* store);

// A factory that opens (or creates) the database file `path` through
// revkv::DB::OpenFile, owned by the local store.
DBFactory OpenDB(std::string path, ::revkv::Options options = {});

}  // namespace revkv::kvstore::dkv

#endif  // REVKV_KVSTORE_DKV_DB_FACTORY_H_
