#include "server/kv_calls.h"

#include <utility>

#include "etcdkv/apply.h"
#include "server/convert.h"
#include "server/txn_apply.h"
#include "server/validate.h"

namespace revkv::server::kv_calls {
namespace {

// etcd's isTxnReadonly: no put, delete or writing nested txn on any branch.
bool IsReadOnly(const etcdserverpb::TxnRequest& r) {
  for (const auto* ops : {&r.success(), &r.failure()}) {
    for (const etcdserverpb::RequestOp& op : *ops) {
      if (op.has_request_put() || op.has_request_delete_range()) return false;
      if (op.has_request_txn() && !IsReadOnly(op.request_txn())) return false;
    }
  }
  return true;
}

// etcd's isTxnSerializable: every range in it asks for a serializable read.
bool IsSerializable(const etcdserverpb::TxnRequest& r) {
  for (const auto* ops : {&r.success(), &r.failure()}) {
    for (const etcdserverpb::RequestOp& op : *ops) {
      if (op.has_request_range() && !op.request_range().serializable()) return false;
      if (op.has_request_txn() && !IsSerializable(op.request_txn())) return false;
    }
  }
  return true;
}

// A linearizable read on a cluster member first waits until the member
// has applied the leader's commit index as of now (cluster_view.h). A
// single member reads its own applied state either way.
absl::Status Linearize(const Member& m) {
  return m.cluster != nullptr ? m.cluster->ReadBarrier() : absl::OkStatus();
}

}  // namespace

grpc::Status Range(revkv::DB* db, const Member& m, const etcdserverpb::RangeRequest& req,
                   etcdserverpb::RangeResponse* resp) {
  if (absl::Status s = CheckRange(req); !s.ok()) return ToGrpcStatus(s);
  if (!req.serializable()) {
    if (absl::Status s = Linearize(m); !s.ok()) return ToGrpcStatus(s);
  }
  absl::StatusOr<etcdkv::RangeResponse> r = etcdkv::Range(db->store(), FromProto(req));
  if (!r.ok()) return ToGrpcStatus(r.status());
  ToProto(std::move(*r), resp);
  m.Stamp(resp->mutable_header(), resp->header().revision());
  return grpc::Status::OK;
}

absl::StatusOr<revkvpb::InternalRequest> PutEntry(QuotaGuard* quota,
                                                  const etcdserverpb::PutRequest& req) {
  if (absl::Status s = quota->Check(QuotaCost(req)); !s.ok()) return s;
  if (absl::Status s = CheckPut(req); !s.ok()) return s;
  revkvpb::InternalRequest entry;
  *entry.mutable_put() = req;
  return entry;
}

absl::StatusOr<revkvpb::InternalRequest> DeleteRangeEntry(
    const etcdserverpb::DeleteRangeRequest& req) {
  if (absl::Status s = CheckDelete(req); !s.ok()) return s;
  revkvpb::InternalRequest entry;
  *entry.mutable_delete_range() = req;
  return entry;
}

grpc::Status Txn(revkv::DB* db, const Member& m, QuotaGuard* quota, int64_t max_txn_ops,
                 const etcdserverpb::TxnRequest& req, etcdserverpb::TxnResponse* resp,
                 std::optional<revkvpb::InternalRequest>* entry) {
  // Read-only txns too (cost 0), as etcd's quotaKVServer.
  if (absl::Status s = quota->Check(QuotaCost(req)); !s.ok()) return ToGrpcStatus(s);
  if (absl::Status s = CheckTxn(req, max_txn_ops); !s.ok()) return ToGrpcStatus(s);
  if (!IsReadOnly(req)) {
    entry->emplace();
    *(*entry)->mutable_txn() = req;
    return grpc::Status::OK;
  }
  if (!IsSerializable(req)) {
    if (absl::Status s = Linearize(m); !s.ok()) return ToGrpcStatus(s);
  }
  absl::StatusOr<etcdserverpb::TxnResponse> r = ApplyTxn(db->store(), req);
  if (!r.ok()) return ToGrpcStatus(r.status());
  *resp = std::move(*r);
  m.Stamp(resp->mutable_header(), resp->header().revision());
  return grpc::Status::OK;
}

}  // namespace revkv::server::kv_calls
