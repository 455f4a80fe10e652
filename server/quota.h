// Quota: etcd 3.4's backend quota (etcdserver/quota.go) and the check its
// gRPC layer makes before a Put, a Txn or a LeaseGrant (api/v3rpc/quota.go).
//
// A request is admitted while the backend's size plus the request's
// estimated cost stays below the quota. The size is etcd's backend.Size():
// the btree's high-water mark as of the last commit (Backend::Size), free
// pages included, so compaction alone never lowers it and defrag does; not
// the file's length, which runs ahead of it by at least 1 MiB (a quota
// under that would otherwise refuse the first write, where etcd takes
// writes until the mark reaches it). Costs, as etcd's: a put is its key
// and value plus 256 bytes of overhead; a txn the larger of its branches'
// top-level puts (etcd does not count puts inside nested txns, nor does
// this); a lease grant 64 bytes. Every Txn is checked, read-only ones too
// (cost 0: refused once the size has reached the quota), as etcd does.
//
// A request refused here raises the NOSPACE alarm: QuotaGuard proposes an
// ACTIVATE entry through the write path (so every member applies it; the
// Applier then refuses puts, txns with puts and lease grants until it is
// disarmed) and answers ErrNoSpace. etcd proposes that entry on every
// refusal; QuotaGuard skips it while the alarm is already raised (the
// entry would change nothing).
//
// Thread-safety: thread-safe.
#ifndef REVKV_SERVER_QUOTA_H_
#define REVKV_SERVER_QUOTA_H_

#include <cstdint>

#include "absl/status/status.h"
#include "backend/backend.h"
#include "server/alarm_store.h"
#include "server/proposer.h"
#include "server/proto/rpc.pb.h"

namespace revkv::server {

// etcd's DefaultQuotaBytes: the quota when --quota-backend-bytes is 0.
inline constexpr int64_t kDefaultQuotaBytes = int64_t{2} << 30;

int64_t QuotaCost(const etcdserverpb::PutRequest& r);
int64_t QuotaCost(const etcdserverpb::TxnRequest& r);
int64_t QuotaCost(const etcdserverpb::LeaseGrantRequest& r);

class QuotaGuard {
 public:
  // `quota_bytes`: 0 means kDefaultQuotaBytes, negative no quota (etcd's
  // --quota-backend-bytes). None owned; all must outlive the guard.
  QuotaGuard(backend::Backend* backend, Proposer* proposer, const AlarmStore* alarms,
             uint64_t member_id, int64_t quota_bytes);

  // OK if a request costing `cost` fits; else raises NOSPACE (above) and
  // returns ErrNoSpace.
  absl::Status Check(int64_t cost);

  // The quota in force; negative: none.
  int64_t quota_bytes() const { return quota_bytes_; }

 private:
  backend::Backend* backend_;
  Proposer* proposer_;
  const AlarmStore* alarms_;
  const uint64_t member_id_;
  const int64_t quota_bytes_;
};

}  // namespace revkv::server

#endif  // REVKV_SERVER_QUOTA_H_
