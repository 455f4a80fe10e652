// RevkvStore: the libkv Store over revkv's mvcc store.
//
// Layout: key k of bucket b is the mvcc key "b/k"; its value is the value
// as given (no header: last_index is the mvcc mod revision). A bucket name
// cannot contain '/', so buckets never overlap. Every operation is one mvcc
// transaction: AtomicPut and AtomicDelete read the key, compare its mod
// revision and write inside one TxnWrite, and TxnWrites are serialized, so
// they are linearizable. Every write adds to the mvcc history like any
// other; Compact the mvcc store to trim it.
//
// Thread-safety: thread-safe.
#ifndef REVKV_KVSTORE_REVKV_STORE_H_
#define REVKV_KVSTORE_REVKV_STORE_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "util/close_gate.h"
#include "kvstore/prefix.h"
#include "kvstore/store.h"
#include "mvcc/store.h"
#include "revkv/db.h"

namespace revkv::kvstore {

class RevkvStore final : public Store {
 public:
  // A store over `store` (not owned; must outlive this object) in `bucket`.
  // Writes are as durable as the backend's batching makes them. Errors:
  // ErrBucketOptionMissing, InvalidArgument for a bucket with '/'.
  static absl::StatusOr<std::unique_ptr<RevkvStore>> Wrap(mvcc::Store* store,
                                                          std::string_view bucket);
  // Opens (creating if needed) the database file at `path` and a store over
  // it, owned. Waits up to config.connection_timeout for the file's lock.
  // Every write commits (fsync) before returning, as bbolt's Update.
  static absl::StatusOr<std::unique_ptr<RevkvStore>> Open(const std::string& path,
                                                          const Config& config);
  ~RevkvStore() override;

  absl::Status Put(std::string_view key, std::string_view value) override;
  absl::StatusOr<KVPair> Get(std::string_view key) override;
  absl::StatusOr<bool> Exists(std::string_view key) override;
  absl::StatusOr<std::vector<KVPair>> List(std::string_view directory) override;
  absl::StatusOr<KVPair> AtomicPut(std::string_view key, std::string_view value,
                                   const std::optional<KVPair>& previous) override;
  absl::Status AtomicDelete(std::string_view key, const std::optional<KVPair>& previous) override;
  absl::Status Delete(std::string_view key) override;
  void Close() override;

  // The mvcc key of `key` in this store's bucket.
  std::string StoreKey(std::string_view key) const;

 private:
  RevkvStore(mvcc::Store* store, std::string_view bucket);
  // After a successful write: commits when this store owns the file.
  absl::Status Sync();

  std::unique_ptr<DB> owned_db_;  // null for Wrap
  mvcc::Store* store_;
  const std::string prefix_;  // bucket + "/"

  util::CloseGate gate_;
};

}  // namespace revkv::kvstore

#endif  // REVKV_KVSTORE_REVKV_STORE_H_
