#include "server/quota.h"

#include <algorithm>

#include "server/errors.h"

namespace revkv::server {
namespace {

// etcd's estimates of what a key's and a lease's metadata take.
constexpr int64_t kKvOverhead = 256;
constexpr int64_t kLeaseOverhead = 64;

int64_t BranchCost(const google::protobuf::RepeatedPtrField<etcdserverpb::RequestOp>& ops) {
  int64_t c = 0;
  for (const etcdserverpb::RequestOp& op : ops) {
    if (op.has_request_put()) c += QuotaCost(op.request_put());
  }
  return c;
}

}  // namespace

int64_t QuotaCost(const etcdserverpb::PutRequest& r) {
  return kKvOverhead + int64_t(r.key().size()) + int64_t(r.value().size());
}

int64_t QuotaCost(const etcdserverpb::TxnRequest& r) {
  return std::max(BranchCost(r.success()), BranchCost(r.failure()));
}

int64_t QuotaCost(const etcdserverpb::LeaseGrantRequest&) { return kLeaseOverhead; }

QuotaGuard::QuotaGuard(backend::Backend* backend, Proposer* proposer, const AlarmStore* alarms,
                       uint64_t member_id, int64_t quota_bytes)
    : backend_(backend),
      proposer_(proposer),
      alarms_(alarms),
      member_id_(member_id),
      quota_bytes_(quota_bytes == 0 ? kDefaultQuotaBytes : quota_bytes) {}

absl::Status QuotaGuard::Check(int64_t cost) {
  if (quota_bytes_ < 0) return absl::OkStatus();
  if (int64_t(backend_->Size()) + cost < quota_bytes_) return absl::OkStatus();
  if (!alarms_->Has(etcdserverpb::NOSPACE)) {
    revkvpb::InternalRequest entry;
    etcdserverpb::AlarmRequest* a = entry.mutable_alarm();
    a->set_action(etcdserverpb::AlarmRequest::ACTIVATE);
    a->set_memberid(member_id_);
    a->set_alarm(etcdserverpb::NOSPACE);
    // The outcome is ignored, as etcd does: the request is refused either
    // way, and a log that failed fails the next write too.
    proposer_->Propose(std::move(entry)).status().IgnoreError();
  }
  return ErrNoSpace();
}

}  // namespace revkv::server
