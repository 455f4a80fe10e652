#include "kvstore/dkv/db_factory.h"

namespace revkv::kvstore::dkv {

DBFactory ExistingStore(mvcc::Store* store) {
  return [store]() -> absl::StatusOr<DB> { return DB{store, nullptr}; };
}

DBFactory OpenDB(std::string path, ::revkv::Options options) {
  return [path, options]() -> absl::StatusOr<DB> {
    absl::StatusOr<std::unique_ptr<::revkv::DB>> db = ::revkv::DB::OpenFile(path, options);
    if (!db.ok()) return db.status();
    mvcc::Store* raw = (*db)->store();
    return DB{raw, std::shared_ptr<::revkv::DB>(std::move(*db))};
  };
}

}  // namespace revkv::kvstore::dkv
