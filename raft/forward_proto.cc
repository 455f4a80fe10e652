#include "raft/forward_proto.h"

#include <string>
#include <utility>
#include <variant>

namespace revkv::cluster {

void StatusToProto(const absl::Status& s, revkvpb::StatusProto* out) {
  out->set_code(int(s.code()));
  out->set_message(std::string(s.message()));
  s.ForEachPayload([out](absl::string_view url, const absl::Cord& value) {
    revkvpb::StatusProto::Payload* p = out->add_payloads();
    p->set_type_url(std::string(url));
    p->set_value(std::string(value));
  });
}

absl::Status StatusFromProto(const revkvpb::StatusProto& p) {
  if (p.code() == 0) return absl::OkStatus();
  absl::Status s(absl::StatusCode(p.code()), p.message());
  for (const revkvpb::StatusProto::Payload& payload : p.payloads()) {
    s.SetPayload(payload.type_url(), absl::Cord(payload.value()));
  }
  return s;
}

void ResultToProto(absl::StatusOr<server::ApplyResult> result, revkvpb::ForwardResponse* out) {
  if (!result.ok()) {
    StatusToProto(result.status(), out->mutable_error());
    return;
  }
  std::visit(
      [out](auto&& r) {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, etcdserverpb::PutResponse>) {
          *out->mutable_put() = std::move(r);
        } else if constexpr (std::is_same_v<T, etcdserverpb::DeleteRangeResponse>) {
          *out->mutable_delete_range() = std::move(r);
        } else if constexpr (std::is_same_v<T, etcdserverpb::TxnResponse>) {
          *out->mutable_txn() = std::move(r);
        } else if constexpr (std::is_same_v<T, etcdserverpb::CompactionResponse>) {
          *out->mutable_compaction() = std::move(r);
        } else if constexpr (std::is_same_v<T, etcdserverpb::LeaseGrantResponse>) {
          *out->mutable_lease_grant() = std::move(r);
        } else if constexpr (std::is_same_v<T, etcdserverpb::LeaseRevokeResponse>) {
          *out->mutable_lease_revoke() = std::move(r);
        } else if constexpr (std::is_same_v<T, etcdserverpb::AlarmResponse>) {
          *out->mutable_alarm() = std::move(r);
        } else if constexpr (std::is_same_v<T, revkvpb::DkvResponse>) {
          *out->mutable_dkv() = std::move(r);
        } else {
          static_assert(std::is_same_v<T, etcdserverpb::MemberUpdateResponse>);
          *out->mutable_member_attr() = std::move(r);
        }
      },
      std::move(*result));
}

absl::StatusOr<server::ApplyResult> ResultFromProto(revkvpb::ForwardResponse in) {
  if (absl::Status s = StatusFromProto(in.error()); !s.ok()) return s;
  using R = server::ApplyResult;
  switch (in.result_case()) {
    case revkvpb::ForwardResponse::kPut:
      return R(std::in_place_type<etcdserverpb::PutResponse>, std::move(*in.mutable_put()));
    case revkvpb::ForwardResponse::kDeleteRange:
      return R(std::in_place_type<etcdserverpb::DeleteRangeResponse>,
               std::move(*in.mutable_delete_range()));
    case revkvpb::ForwardResponse::kTxn:
      return R(std::in_place_type<etcdserverpb::TxnResponse>, std::move(*in.mutable_txn()));
    case revkvpb::ForwardResponse::kCompaction:
      return R(std::in_place_type<etcdserverpb::CompactionResponse>,
               std::move(*in.mutable_compaction()));
    case revkvpb::ForwardResponse::kLeaseGrant:
      return R(std::in_place_type<etcdserverpb::LeaseGrantResponse>,
               std::move(*in.mutable_lease_grant()));
    case revkvpb::ForwardResponse::kLeaseRevoke:
      return R(std::in_place_type<etcdserverpb::LeaseRevokeResponse>,
               std::move(*in.mutable_lease_revoke()));
    case revkvpb::ForwardResponse::kAlarm:
      return R(std::in_place_type<etcdserverpb::AlarmResponse>, std::move(*in.mutable_alarm()));
    case revkvpb::ForwardResponse::kMemberAttr:
      return R(std::in_place_type<etcdserverpb::MemberUpdateResponse>,
               std::move(*in.mutable_member_attr()));
    case revkvpb::ForwardResponse::kDkv:
      return R(std::in_place_type<revkvpb::DkvResponse>, std::move(*in.mutable_dkv()));
    default:
      return absl::InternalError("raft: a forwarded proposal came back without a result");
  }
}

}  // namespace revkv::cluster
