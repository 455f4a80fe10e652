// RevkvStore: the libkv Store over revkv's mvcc store.
//
// Layout: key k of bucket b is the mvcc key "b/k"; its value is the value
// as given (no header: last_index is the mvcc mod revision). A bucket name
// cannot contain '/', so buckets never overlap. Every operation is one mvcc
// transaction: AtomicPut and AtomicDelete read the key, compare its mod
// revision and write inside one TxnWrite, and TxnWrites are serialized, so
// they are linearizable. Watch and WatchTree read the current value and
// start an mvcc watch at the next revision. Every write adds to the mvcc history like any
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
#include "absl/base/thread_annotations.h"
#include "util/close_gate.h"
#include "util/mutex.h"
#include "kvstore/prefix.h"
#include "kvstore/revkv_watch.h"
#include "kvstore/store.h"
#include "mvcc/store.h"
#include "revkv/db.h"

namespace revkv::kvstore {

class RevkvStore final : public Store {
 public:
  // A store over `db` (not owned; must outlive this object) in `bucket`.
  // Writes are as durable as the DB's batching makes them (db->Sync()).
  // Errors: ErrBucketOptionMissing, InvalidArgument for a bucket with '/'.
  static absl::StatusOr<std::unique_ptr<RevkvStore>> Wrap(DB* db, std::string_view bucket);
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
  absl::StatusOr<std::unique_ptr<KeyWatch>> Watch(std::string_view key,
                                                  std::stop_token stop) override;
  absl::StatusOr<std::unique_ptr<TreeWatch>> WatchTree(std::string_view directory,
                                                       std::stop_token stop) override;
  void Close() override;

  // The mvcc key of `key` in this store's bucket.
  std::string StoreKey(std::string_view key) const;

 private:
  RevkvStore(DB* db, std::string_view bucket);
  // After a successful write: commits when this store owns the file.
  absl::Status Sync();
  // A stream watching [key, end) from the revision after rev; Close ends it.
  absl::StatusOr<WatchFeed> NewFeed(const std::string& key, const std::string& end, int64_t rev,
                                    std::stop_token stop);

  std::unique_ptr<DB> owned_db_;  // null for Wrap
  DB* db_;
  mvcc::Store* store_;
  const std::string prefix_;  // bucket + "/"

  util::CloseGate gate_;
  // The watches' streams, closed by Close (a watch may outlive the store).
  util::Mutex streams_mu_;
  std::vector<std::weak_ptr<mvcc::WatchStream>> streams_ ABSL_GUARDED_BY(streams_mu_);
};

}  // namespace revkv::kvstore

#endif  // REVKV_KVSTORE_REVKV_STORE_H_
