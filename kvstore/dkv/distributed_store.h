// DistributedStore: dKV's distributed IStore (dKV's dstore) over a revkv
// Raft cluster member, with expiry and deletion counted in log index steps.
//
// Writes: each call is one revkvpb.DkvRequest proposed through the
// member's forwarder (a follower forwards it to the leader) and answered
// once this member has applied it; every member applies it through
// server::Applier and kvstore/dkv/log_applier.h. Retries and ambiguity are
// the forwarder's (raft/forwarder.h): a write that may have reached the
// leader is never sent twice; it answers leader-changed or timeout and may
// still apply.
//
// Times: expire_in / delete_in are *raft log index steps*, not time
// (Millis(k) means k entries): a key written by entry N with expire_in k
// reads as expired once this member has applied an entry at index >= N+k,
// and with delete_in k it is gone then -- on every member at the same
// point of the log, removed by an ordinary mvcc delete in the same entry's
// commit, so every member's HashKV stays equal. Log indexes count raft's
// own entries too (the barriers of linearizable reads, configuration
// changes, a new leader's no-op): k steps are at least k writes' worth of
// log, as in dKV (dragonboat's indexes count the same). The local dKV
// store (local_store.h) keeps wall-clock times.
//
// Reads (Get, Has): linearizable. The member's read barrier (its leader's
// read index, then a wait until this member applied that far), then the
// applied index A, then the key from the member's DB, judged at A. A is
// read before the key, so the answer is the state at some index between
// the barrier and now (a key rewritten after A is judged at A, and was not
// expired at its own write).
//
// GetDBInfo answers from this member's state without a barrier: file size,
// keys under the prefix (expired ones included), revisions, the pending
// deletion hints of its applier and the keys its applier removed since the
// member's DB was (re)opened.
//
// Survives: the entries are the state (expiry inside each value); a
// restarted member, or one that installs a raft snapshot at start,
// rebuilds its queue of deletion indexes from the store before it applies
// its next entry (log_applier.h). A raft snapshot installed while the
// member serves is not supported (neither does `revkv serve`: the member
// exits and restores it at its restart; raft/fsm.h).
//
// Thread-safety: thread-safe; any number of callers. The member must
// outlive the store; after Close (or the member's Stop) calls fail.
#ifndef REVKV_KVSTORE_DKV_DISTRIBUTED_STORE_H_
#define REVKV_KVSTORE_DKV_DISTRIBUTED_STORE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kvstore/dkv/istore.h"
#include "kvstore/dkv/log_applier.h"
#include "raft/cluster_member.h"
#include "server/proto/raft_internal.pb.h"
#include "util/close_gate.h"

namespace revkv::kvstore::dkv {

// A write's acknowledgement: the entry's raft index, the store's revision
// after it, and whether it changed anything.
struct WriteAck {
  uint64_t index = 0;
  int64_t revision = 0;
  bool changed = false;
};

class DistributedStore final : public IStore {
 public:
  // `member` is not owned and must outlive the store.
  explicit DistributedStore(cluster::ClusterMember* member) : member_(member) {}
  ~DistributedStore() override { Close(); }

  absl::Status Set(std::string_view key, std::string_view value) override;
  // expire_in / delete_in in log index steps (Millis(k): k steps).
  absl::Status SetE(std::string_view key, std::string_view value, Millis expire_in,
                    Millis delete_in) override;
  absl::Status SetEIfUnset(std::string_view key, std::string_view value, Millis expire_in,
                           Millis delete_in) override;
  absl::Status Expire(std::string_view key) override;
  absl::Status Delete(std::string_view key) override;
  absl::StatusOr<GetResult> Get(std::string_view key) override;
  absl::StatusOr<bool> Has(std::string_view key) override;
  absl::StatusOr<DatabaseInfo> GetDBInfo() override;

  // Proposes `req` as is and answers its acknowledgement: what the IStore
  // writes do, for callers that want the entry's index.
  absl::StatusOr<WriteAck> Write(revkvpb::DkvRequest req);
  // The entry this member has applied last (the reads' clock).
  uint64_t applied_index() const;

  // Later calls fail with kInvalidOperation; waits for calls in flight.
  // Idempotent. Does not stop the member.
  void Close();

 private:
  absl::StatusOr<WriteAck> WriteE(revkvpb::DkvRequest::Op op, std::string_view key,
                                  std::string_view value, Millis expire_in, Millis delete_in);
  // The entry under `key` at a linearizable point, and the applied index
  // it is to be judged at; nullopt-like (found = false) when absent.
  struct Read {
    bool found = false;
    Entry entry;
    int64_t at = 0;
  };
  absl::StatusOr<Read> ReadKey(std::string_view key);

  cluster::ClusterMember* const member_;
  util::CloseGate gate_;
};

}  // namespace revkv::kvstore::dkv

#endif  // REVKV_KVSTORE_DKV_DISTRIBUTED_STORE_H_
