// Applier: applies committed log entries (revkvpb.InternalRequest bytes) to
// the DB in index order, with etcd 3.4's apply semantics
// (etcdserver/apply.go): Put, DeleteRange, Txn (nested txns, all compare
// targets and results, etcd's check order, puts attaching leases),
// Compaction, LeaseGrant and LeaseRevoke (the DB's lessor; a revoke deletes
// the lease's keys in one revision), MemberAttr (member_store.h), Alarm
// (GET, ACTIVATE, DEACTIVATE on the AlarmStore), and dKV's distributed-store
// writes (kvstore/dkv/log_applier.h, which holds their logic; before every
// entry it removes the dKV keys whose deletion index has come, so each
// member deletes them at the same entry). While a NOSPACE alarm is raised,
// puts, dKV sets, txns with
// top-level puts and lease grants are refused with ErrNoSpace (etcd's
// applierV3Capped); deletes, compactions and revokes still apply. While a
// CORRUPT alarm is raised, every write is refused with ErrCorrupt (etcd's
// applierV3Corrupt; it wins over NOSPACE, where etcd keeps whichever alarm
// was raised last). A write entry is one mvcc write
// transaction, all or nothing (etcdkv/execution.h plans every op before
// writing any).
//
// The applier is the half of the write path Raft will not change: the local
// proposer (proposer.h) calls it once the entry is in its log, a Raft
// proposer once the entry commits. Apply records the entry's index as the
// store's consistent index (saved with the entry's writes in one backend
// commit, so a restart knows which entries to replay); an entry whose
// request fails (compacted,
// key not found, ...) is applied too -- it changes nothing, and every
// member answers the same error.
//
// Thread-safety: Apply is called by one thread at a time (the proposer's
// apply order); applied_index() may be read from any thread.
#ifndef REVKV_SERVER_APPLIER_H_
#define REVKV_SERVER_APPLIER_H_

#include <atomic>
#include <cstdint>
#include <string_view>
#include <variant>

#include "absl/status/statusor.h"
#include "kvstore/dkv/log_applier.h"
#include "revkv/db.h"
#include "server/alarm_store.h"
#include "server/member_store.h"
#include "server/proto/raft_internal.pb.h"
#include "server/proto/rpc.pb.h"

namespace revkv::server {

// What applying an entry answers; headers carry the revision only.
using ApplyResult = std::variant<etcdserverpb::PutResponse, etcdserverpb::DeleteRangeResponse,
                                 etcdserverpb::TxnResponse, etcdserverpb::CompactionResponse,
                                 etcdserverpb::LeaseGrantResponse,
                                 etcdserverpb::LeaseRevokeResponse, etcdserverpb::AlarmResponse,
                                 etcdserverpb::MemberUpdateResponse, revkvpb::DkvResponse>;

class Applier {
 public:
  // Neither is owned; both must outlive the applier. The DB holds the
  // entries up to its store's consistent index (they are not applied
  // again). Without `alarms`, alarm entries are refused (InvalidArgument)
  // and writes are never capped. Without `members`, member_attr entries
  // (a cluster member publishing its client URLs) are refused likewise.
  explicit Applier(revkv::DB* db, AlarmStore* alarms = nullptr, MemberStore* members = nullptr)
      : db_(db),
        alarms_(alarms),
        members_(members),
        dkv_(db->store()),
        applied_index_(uint64_t(db->store()->ConsistentIndex())) {}

  // Applies entry `index` holding `data` (a serialized InternalRequest).
  // Entries at or below applied_index() are skipped (FailedPrecondition).
  // An undecodable entry is DataLoss; a request error is the request's
  // answer (server/errors.h, mvcc/errors.h).
  absl::StatusOr<ApplyResult> Apply(uint64_t index, std::string_view data);

  uint64_t applied_index() const { return applied_index_.load(std::memory_order_acquire); }
  // Starts again from the DB's consistent index, its dKV queue rebuilt:
  // the DB's data was replaced (revkv::DB::InstallSnapshot). Called by the
  // thread that applies.
  void Reload() {
    dkv_.Reset();
    applied_index_.store(uint64_t(db_->store()->ConsistentIndex()), std::memory_order_release);
  }
  // The dKV state; its counters may be read from any thread.
  const kvstore::dkv::LogApplier& dkv() const { return dkv_; }

 private:
  absl::StatusOr<ApplyResult> ApplyRequest(uint64_t index, const revkvpb::InternalRequest& req);
  // Removes the dKV keys due at entry `index` (log_applier.h).
  absl::Status SweepDkv(uint64_t index);
  absl::StatusOr<ApplyResult> ApplyAlarm(const etcdserverpb::AlarmRequest& req);
  // Why a raised alarm refuses `req` (OK: it does not).
  absl::Status Refusal(const revkvpb::InternalRequest& req) const;

  revkv::DB* db_;
  AlarmStore* alarms_;
  MemberStore* members_;
  // Its queue of deletion indexes is rebuilt with each new Applier (a
  // restart) and by Reload (a raft snapshot restore).
  kvstore::dkv::LogApplier dkv_;
  std::atomic<uint64_t> applied_index_;
};

}  // namespace revkv::server

#endif  // REVKV_SERVER_APPLIER_H_
