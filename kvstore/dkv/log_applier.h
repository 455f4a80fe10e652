// LogApplier: the replicated half of dKV's distributed store -- how every
// cluster member applies a dKV write entry (revkvpb.DkvRequest) and removes
// keys whose deletion index has come, identically.
//
// Time is the raft log index (dKV's dstore: the write index). A request
// carries expire_in / delete_in as index steps; applying it at entry N
// stores expire_at = N + expire_in and delete_at = N + delete_in (0 =
// never) in an Entry (entry.h; its "milliseconds" are log indexes here)
// under kDistributedPrefix + key. So the stored bytes are the same on
// every member. At applied index A an entry is expired when expire_at or
// delete_at is set and <= A, deleted when delete_at is set and <= A (the
// Entry predicates with Millis(A)).
//
// Deletion: Sweep(N), called for every entry before it is applied, removes
// every key whose current entry has delete_at <= N -- in one mvcc write
// transaction (one revision), the keys in byte order -- so the tombstones,
// revisions and HashKV are equal on every member. A key whose delete index
// falls on a raft-internal entry (a barrier, a configuration change) goes
// with the next applied entry; readers never see the difference, because
// the applied index they compare with moves only on applied entries.
//
// The pending deletions are an in-memory queue of (delete_at, key), built
// lazily at the first Sweep by scanning the prefix (O(keys)), and extended
// by each write. Queue entries are hints: a key is removed only if its
// current entry says so, so a stale hint (the key rewritten) changes
// nothing, and a member that rebuilt its queue (restart, or a new applier
// after a raft snapshot restore: raft/fsm.h makes one) removes exactly what
// a member that never stopped removes. Nothing about the queue is
// persisted; the entries are.
//
// Errors: a failed scan or mvcc write is the entry's answer; the hints are
// kept for the next entry. (A store that fails writes fails closed below
// us: every member's next write fails as well.)
//
// Thread-safety: Sweep and Apply are called by the one applying thread;
// pending() and swept() may be read from any thread.
#ifndef REVKV_KVSTORE_DKV_LOG_APPLIER_H_
#define REVKV_KVSTORE_DKV_LOG_APPLIER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <queue>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kvstore/dkv/entry.h"
#include "mvcc/store.h"
#include "server/proto/raft_internal.pb.h"

namespace revkv::kvstore::dkv {

// The mvcc key prefix of the distributed store's keys (distinct from
// LocalStore's default "dkv/": its times are wall-clock milliseconds).
inline constexpr char kDistributedPrefix[] = "dkvd/";

class LogApplier {
 public:
  // `store` is not owned and must outlive the applier.
  explicit LogApplier(mvcc::Store* store) : store_(store) {}

  // Removes the keys due at entry `index` (see the header). A no-op,
  // without a revision, when none is due.
  absl::Status Sweep(int64_t index);
  // Applies `req` as entry `index` (after Sweep(index)).
  absl::StatusOr<revkvpb::DkvResponse> Apply(int64_t index, const revkvpb::DkvRequest& req);

  // Hints in the queue (an upper bound of the pending deletions; 0 before
  // the first Sweep), and keys removed since this applier was made.
  int64_t pending() const { return pending_.load(std::memory_order_relaxed); }
  // Forgets the queue: the next call loads it from the store again (its
  // data was replaced). By the applying thread.
  void Reset() {
    loaded_ = false;
    due_ = {};
    pending_.store(0, std::memory_order_relaxed);
  }
  int64_t swept() const { return swept_.load(std::memory_order_relaxed); }

  static std::string StoreKey(std::string_view key) {
    return std::string(kDistributedPrefix) + std::string(key);
  }

 private:
  using Due = std::pair<int64_t, std::string>;  // delete index, user key

  absl::Status Load();
  void Schedule(int64_t delete_at, std::string key);

  mvcc::Store* const store_;
  bool loaded_ = false;
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> due_;
  std::atomic<int64_t> pending_{0};
  std::atomic<int64_t> swept_{0};
};

}  // namespace revkv::kvstore::dkv

#endif  // REVKV_KVSTORE_DKV_LOG_APPLIER_H_
