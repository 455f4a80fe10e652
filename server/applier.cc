#include "server/applier.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "server/errors.h"
#include "server/quota.h"
#include "server/txn_apply.h"

namespace revkv::server {

absl::StatusOr<ApplyResult> Applier::Apply(uint64_t index, std::string_view data) {
  if (index <= applied_index()) {
    return absl::FailedPreconditionError(
        absl::StrCat("server: entry ", index, " is already applied"));
  }
  revkvpb::InternalRequest req;
  if (!req.ParseFromArray(data.data(), int(data.size()))) {
    return absl::DataLossError(absl::StrCat("server: entry ", index, " does not decode"));
  }
  // The entry's writes carry its index into whichever backend commit holds
  // them (Store::SetApplyIndex): indexes may skip (raft's own entries).
  db_->store()->SetApplyIndex(int64_t(index));
  // Due dKV keys go first, in this entry's commit: at index N a key whose
  // deletion index is <= N is gone, whatever the entry does.
  absl::Status swept = SweepDkv(index);
  absl::StatusOr<ApplyResult> result =
      swept.ok() ? ApplyRequest(index, req) : absl::StatusOr<ApplyResult>(swept);
  // Applied whatever the request answered: the answer is part of the entry's
  // outcome, the same on every member. An entry that changed nothing raises
  // the consistent index here, saved with the next commit.
  db_->store()->RaiseConsistentIndex(int64_t(index));
  applied_index_.store(index, std::memory_order_release);
  return result;
}

absl::Status Applier::SweepDkv(uint64_t index) {
  // A corrupt member writes nothing (the keys stay due and read as gone).
  if (alarms_ != nullptr && alarms_->Has(etcdserverpb::CORRUPT)) return absl::OkStatus();
  return dkv_.Sweep(int64_t(index));
}

absl::Status Applier::Refusal(const revkvpb::InternalRequest& req) const {
  if (alarms_ == nullptr || req.has_alarm() || req.has_member_attr() ||
      req.has_member_change()) {
    return absl::OkStatus();
  }
  if (alarms_->Has(etcdserverpb::CORRUPT)) return ErrCorrupt();
  if (!alarms_->Has(etcdserverpb::NOSPACE)) return absl::OkStatus();
  const bool dkv_set = req.has_dkv() && (req.dkv().op() == revkvpb::DkvRequest::SET ||
                                         req.dkv().op() == revkvpb::DkvRequest::SET_IF_UNSET);
  if (req.has_put() || req.has_lease_grant() || dkv_set ||
      (req.has_txn() && QuotaCost(req.txn()) > 0)) {
    return ErrNoSpace();
  }
  return absl::OkStatus();
}

absl::StatusOr<ApplyResult> Applier::ApplyAlarm(const etcdserverpb::AlarmRequest& req) {
  if (alarms_ == nullptr) return absl::InvalidArgumentError("server: no alarm store");
  etcdserverpb::AlarmResponse resp;
  switch (req.action()) {
    case etcdserverpb::AlarmRequest::GET:
      for (etcdserverpb::AlarmMember& m : alarms_->Get(req.alarm())) {
        *resp.add_alarms() = std::move(m);
      }
      break;
    case etcdserverpb::AlarmRequest::ACTIVATE: {
      absl::StatusOr<etcdserverpb::AlarmMember> m = alarms_->Activate(req.memberid(), req.alarm());
      if (!m.ok()) return m.status();
      *resp.add_alarms() = std::move(*m);
      break;
    }
    case etcdserverpb::AlarmRequest::DEACTIVATE: {
      absl::StatusOr<std::optional<etcdserverpb::AlarmMember>> m =
          alarms_->Deactivate(req.memberid(), req.alarm());
      if (!m.ok()) return m.status();
      if (m->has_value()) *resp.add_alarms() = std::move(**m);
      break;
    }
    default:
      break;  // etcd answers an unknown action with nothing
  }
  // etcd 3.4's alarm answer carries no header.
  return ApplyResult(std::move(resp));
}

absl::StatusOr<ApplyResult> Applier::ApplyRequest(uint64_t index,
                                                  const revkvpb::InternalRequest& req) {
  mvcc::Store* store = db_->store();
  if (absl::Status s = Refusal(req); !s.ok()) return s;
  if (req.has_alarm()) return ApplyAlarm(req.alarm());
  if (req.has_member_attr()) {
    if (members_ == nullptr) return absl::InvalidArgumentError("server: no member store");
    if (absl::Status s = members_->Publish(req.member_attr()); !s.ok()) return s;
    // etcd's cluster answers carry no revision.
    return ApplyResult(etcdserverpb::MemberUpdateResponse());
  }
  if (req.has_member_change()) {
    if (members_ == nullptr) return absl::InvalidArgumentError("server: no member store");
    if (absl::Status s = members_->Change(req.member_change()); !s.ok()) return s;
    return ApplyResult(etcdserverpb::MemberUpdateResponse());
  }
  if (req.has_put()) {
    absl::StatusOr<etcdserverpb::PutResponse> r = ApplyPut(store, req.put());
    if (!r.ok()) return r.status();
    return ApplyResult(std::move(*r));
  }
  if (req.has_delete_range()) {
    absl::StatusOr<etcdserverpb::DeleteRangeResponse> r = ApplyDelete(store, req.delete_range());
    if (!r.ok()) return r.status();
    return ApplyResult(std::move(*r));
  }
  if (req.has_txn()) {
    absl::StatusOr<etcdserverpb::TxnResponse> r = ApplyTxn(store, req.txn());
    if (!r.ok()) return r.status();
    return ApplyResult(std::move(*r));
  }
  if (req.has_compaction()) {
    // Only the index's compaction happens here; the records go in the
    // background, and a physical compaction's caller waits for them
    // (the apply loop must not).
    if (absl::Status s = db_->Compact(req.compaction().revision()); !s.ok()) return s;
    etcdserverpb::CompactionResponse resp;
    resp.mutable_header()->set_revision(db_->Rev());
    return ApplyResult(std::move(resp));
  }
  if (req.has_lease_grant()) {
    absl::StatusOr<lease::LeaseStatus> l =
        db_->lessor()->Grant(req.lease_grant().id(), req.lease_grant().ttl());
    if (!l.ok()) return l.status();
    etcdserverpb::LeaseGrantResponse resp;
    resp.mutable_header()->set_revision(db_->Rev());
    resp.set_id(l->id);
    resp.set_ttl(l->granted_ttl);
    return ApplyResult(std::move(resp));
  }
  if (req.has_lease_revoke()) {
    absl::StatusOr<int64_t> rev = db_->lessor()->Revoke(req.lease_revoke().id());
    if (!rev.ok()) return rev.status();
    etcdserverpb::LeaseRevokeResponse resp;
    resp.mutable_header()->set_revision(*rev);
    return ApplyResult(std::move(resp));
  }
  if (req.has_dkv()) {
    absl::StatusOr<revkvpb::DkvResponse> r = dkv_.Apply(int64_t(index), req.dkv());
    if (!r.ok()) return r.status();
    return ApplyResult(std::move(*r));
  }
  return absl::InvalidArgumentError("server: an entry without a request");
}

}  // namespace revkv::server
