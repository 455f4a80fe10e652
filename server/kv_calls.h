// What the two KV services (kv_service.h) share: each call's checks, the
// log entry a write proposes, the reads a member serves itself, and the
// answer built from an entry's apply result. Free functions over their
// arguments; thread-safe as those are.
#ifndef REVKV_SERVER_KV_CALLS_H_
#define REVKV_SERVER_KV_CALLS_H_

#include <cstdint>
#include <optional>
#include <utility>
#include <variant>

#include "absl/status/statusor.h"
#include "revkv/db.h"
#include "server/applier.h"
#include "server/grpc_status.h"
#include "server/member.h"
#include "server/quota.h"
#include "server/proto/raft_internal.pb.h"
#include "server/proto/rpc.pb.h"

namespace revkv::server::kv_calls {

// Range: the checks, a cluster member's read barrier (linearizable reads
// only), the read itself, the member's header.
grpc::Status Range(revkv::DB* db, const Member& m, const etcdserverpb::RangeRequest& req,
                   etcdserverpb::RangeResponse* resp);

// The entry a Put proposes, after the quota and the request's checks.
absl::StatusOr<revkvpb::InternalRequest> PutEntry(QuotaGuard* quota,
                                                  const etcdserverpb::PutRequest& req);
absl::StatusOr<revkvpb::InternalRequest> DeleteRangeEntry(
    const etcdserverpb::DeleteRangeRequest& req);

// A Txn: the quota and the checks. Then, as etcd, a txn that cannot write
// is served by the member itself (`*entry` left empty, `resp` filled, the
// status its answer); any other is proposed as `*entry`.
grpc::Status Txn(revkv::DB* db, const Member& m, QuotaGuard* quota, int64_t max_txn_ops,
                 const etcdserverpb::TxnRequest& req, etcdserverpb::TxnResponse* resp,
                 std::optional<revkvpb::InternalRequest>* entry);

// The answer to a proposed write (the lease service's too): its apply
// result's response, with the member's ids on the top header only (etcd
// leaves a txn's inner headers with the revision alone).
template <typename Resp>
grpc::Status Answer(absl::StatusOr<ApplyResult> result, const Member& m, Resp* resp) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  Resp* r = std::get_if<Resp>(&*result);
  if (r == nullptr) return grpc::Status(grpc::INTERNAL, "server: an entry answered another request");
  *resp = std::move(*r);
  m.Stamp(resp->mutable_header(), resp->header().revision());
  return grpc::Status::OK;
}

}  // namespace revkv::server::kv_calls

#endif  // REVKV_SERVER_KV_CALLS_H_
