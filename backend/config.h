// BackendConfig: how a Backend opens its file and batches its commits, after
// etcd's mvcc/backend BackendConfig. Plain value; copy freely.
#ifndef REVKV_BACKEND_CONFIG_H_
#define REVKV_BACKEND_CONFIG_H_

#include <chrono>
#include <cstdint>
#include <string>

#include "btree/env.h"
#include "btree/options.h"

namespace revkv::backend {

struct BackendConfig {
  // The database file. Defrag writes "<path>.defrag" next to it.
  std::string path;
  // The background committer commits a pending write at most this long
  // after it was made (etcd's batch interval), and commits the batches the
  // limit hands it while the writer goes on. Zero or negative disables the
  // committer (commits then happen only by limit, ForceCommit, Commit,
  // Snapshot, Hash, Defrag and Close, on the thread that asks).
  std::chrono::milliseconds batch_interval{100};
  // A BatchTx Unlock hands the pending writes to the committer (commits
  // them itself, without one) once at least this many are pending.
  // Zero or negative: no limit.
  int64_t batch_limit = 10000;
  // Address space the btree maps at open (0: the btree's default).
  uint64_t initial_mmap_size = 0;
  // Page size of a new file.
  uint32_t page_size = btree::kDefaultPageSize;
  // Skip fsync at commit (tests, bulk loads): a crash may lose acknowledged
  // commits but never leaves a file that fails to open.
  bool no_sync = false;
  // Open the file read-only under a shared lock (other read-only opens may
  // run beside it, a writer may not): every write fails with
  // ErrReadOnly(), no committer runs, nothing is ever written, and a
  // missing file is NotFound rather than created.
  bool read_only = false;
  // Open the commit before a damaged newest one (btree::Options::
  // allow_rollback); Backend::open_note() then says what was lost.
  bool allow_rollback = false;
  // File layer (tests inject faults through it); nullptr: the default. Not
  // owned; must outlive the Backend and every transaction taken from it.
  btree::Env* env = nullptr;
};

// etcd's defaults: 100 ms interval, 10,000 writes, fsync on.
inline BackendConfig DefaultBackendConfig() { return BackendConfig{}; }

}  // namespace revkv::backend

#endif  // REVKV_BACKEND_CONFIG_H_
