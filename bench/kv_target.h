// KvTarget: the key-value layer the put, range, txn-put and mixed workloads
// drive -- revkv's mvcc::Store (the etcd-like layer) or LMDB -- so that both
// run the very same workload code.
//
// Commit rule, the same on both: puts are durable (fsync) at the next commit,
// and a commit happens once `batch` puts are pending or 100 ms after the first
// pending one (revkv: the backend's batch_limit and batch_interval, etcd's
// defaults but for the limit; LMDB: one write transaction held open by the
// writer and committed by the same rule, checked at each Put).
//
// Thread-safety: Get and Range may be called from any number of threads at
// once, concurrently with the writer. Put, TxnPut and Flush belong to one
// writer thread at a time. Open and Close are not concurrent with anything.
#ifndef REVKV_BENCH_KV_TARGET_H_
#define REVKV_BENCH_KV_TARGET_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace revkv::mvcc {
class Store;
}

namespace revkv::bench {

class KvTarget {
 public:
  virtual ~KvTarget() = default;

  // "revkv" or "lmdb".
  virtual std::string_view name() const = 0;
  // One line naming the layer and its settings.
  virtual std::string Description() const = 0;

  // Opens (creating) the files inside the existing directory `dir`.
  virtual absl::Status Open(const std::string& dir) = 0;
  // Commits what is pending and closes. Idempotent.
  virtual absl::Status Close() = 0;

  // One put (revkv: its own revision); durable at the next commit.
  virtual absl::Status Put(std::string_view key, std::string_view value) = 0;
  // Commits pending puts now, durably.
  virtual absl::Status Flush() = 0;

  // Reads `key` at the latest state in a read transaction of its own; sets
  // *value_bytes to its value's size. NotFound when absent.
  virtual absl::Status Get(std::string_view key, size_t* value_bytes) = 0;
  // Reads the keys in [start, end), at most `limit`, copying keys and values
  // out (as a Range response does), in one read transaction. Sets *count.
  virtual absl::Status Range(std::string_view start, std::string_view end, uint64_t limit,
                             uint64_t* count) = 0;

  // Bytes of the data file.
  virtual uint64_t FileBytes() = 0;

  // The mvcc store under a revkv target (for the revision workloads:
  // range-old, txn-put, compact, hash-by-rev); null for LMDB.
  virtual mvcc::Store* store() { return nullptr; }
};

// Created closed. `batch`: puts per commit (the commit rule above).
std::unique_ptr<KvTarget> NewRevkvStoreTarget(uint64_t batch);
std::unique_ptr<KvTarget> NewLmdbTarget(uint64_t batch);

}  // namespace revkv::bench

#endif  // REVKV_BENCH_KV_TARGET_H_
