// Store: libkv's key-value store interface (libnetwork/internal/kvstore),
// and New, the factory that opens one by backend name.
//
// A Store holds flat keys with byte values, each with an index (KVPair::
// last_index) that changes on every write. AtomicPut and AtomicDelete are
// compare-and-swap operations on that index: a caller reads a pair, computes,
// and writes back only if nobody wrote the key meanwhile (else
// ErrKeyModified, and the caller retries from a fresh read).
//
// Errors are the values of kvstore/errors.h; each method lists its own.
//
// Thread-safety: implementations are thread-safe. Atomic operations are
// linearizable against every other call on stores sharing the same mvcc
// store.
#ifndef REVKV_KVSTORE_STORE_H_
#define REVKV_KVSTORE_STORE_H_

#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kvstore/config.h"
#include "kvstore/errors.h"
#include "kvstore/kv_pair.h"
#include "kvstore/watch.h"

namespace revkv::kvstore {

class Store {
 public:
  virtual ~Store() = default;

  // Puts value at key, unconditionally. An empty key is InvalidArgument
  // ("key required", as bbolt).
  virtual absl::Status Put(std::string_view key, std::string_view value) = 0;

  // The pair at key. ErrKeyNotFound if missing.
  virtual absl::StatusOr<KVPair> Get(std::string_view key) = 0;

  // Whether key is present (an empty value counts as present). A missing key
  // is false, not an error.
  virtual absl::StatusOr<bool> Exists(std::string_view key) = 0;

  // Every pair whose key starts with `directory` (a plain byte prefix, so
  // "a/b" matches "a/b", "a/b/c" and "a/bc"), in key order. ErrKeyNotFound
  // when there is none.
  virtual absl::StatusOr<std::vector<KVPair>> List(std::string_view directory) = 0;

  // Compare-and-swap put. previous absent: create, ErrKeyExists if the key is
  // present. previous given: ErrKeyNotFound if the key is missing,
  // ErrKeyModified if its index is not previous->last_index. Returns the
  // pair written, with its new index.
  virtual absl::StatusOr<KVPair> AtomicPut(std::string_view key, std::string_view value,
                                           const std::optional<KVPair>& previous) = 0;

  // Compare-and-swap delete: ErrPreviousNotSpecified without previous,
  // ErrKeyNotFound if the key is missing, ErrKeyModified if its index is not
  // previous->last_index.
  virtual absl::Status AtomicDelete(std::string_view key,
                                    const std::optional<KVPair>& previous) = 0;

  // Deletes key, unconditionally. ErrKeyNotFound if missing.
  virtual absl::Status Delete(std::string_view key) = 0;

  // Watches key (libkv's Watch): its pair now, if it exists, then one per
  // change (kvstore/watch.h). Requesting `stop` ends the watch, as does
  // Close. An empty key is InvalidArgument.
  virtual absl::StatusOr<std::unique_ptr<KeyWatch>> Watch(std::string_view key,
                                                          std::stop_token stop) = 0;

  // Watches every key starting with `directory` (libkv's WatchTree): the
  // listing now, then the listing after each revision that changed one of
  // them (kvstore/watch.h). Ends as Watch does.
  virtual absl::StatusOr<std::unique_ptr<TreeWatch>> WatchTree(std::string_view directory,
                                                               std::stop_token stop) = 0;

  // Releases the store (and the file, if the store opened it) and ends its
  // watches. Later calls return ErrStoreClosed. Idempotent. Calls running concurrently finish
  // first.
  virtual void Close() = 0;
};

// Opens a store by backend name (libkv's NewStore). kRevkv ("revkv") opens
// or creates the revkv database file at `path` (creating missing parent
// directories) and owns it; writes are durable (fsynced) when they return.
// Any other name: ErrBackendNotSupported. An empty config.bucket:
// ErrBucketOptionMissing; a bucket with '/': InvalidArgument.
absl::StatusOr<std::unique_ptr<Store>> New(std::string_view backend, const std::string& path,
                                           const Config& config);

}  // namespace revkv::kvstore

#endif  // REVKV_KVSTORE_STORE_H_
