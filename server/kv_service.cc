#include "server/kv_service.h"

#include <utility>
#include <variant>

#include "etcdkv/apply.h"
#include "server/convert.h"
#include "server/grpc_status.h"
#include "server/txn_apply.h"
#include "server/validate.h"

namespace revkv::server {
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
// has applied the leader's commit index as of now (cluster_view.h).
absl::Status Linearize(const Member& m) {
  return m.cluster != nullptr ? m.cluster->ReadBarrier() : absl::OkStatus();
}

// Stamps the member's ids on the top header only: etcd leaves a txn's
// inner headers with the revision alone.
template <typename Resp>
grpc::Status Answer(absl::StatusOr<ApplyResult> result, const Member& m, Resp* resp) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  Resp* r = std::get_if<Resp>(&*result);
  if (r == nullptr) return grpc::Status(grpc::INTERNAL, "server: an entry answered another request");
  *resp = std::move(*r);
  m.Stamp(resp->mutable_header(), resp->header().revision());
  return grpc::Status::OK;
}

}  // namespace

grpc::Status KVService::Range(grpc::ServerContext*, const etcdserverpb::RangeRequest* req,
                              etcdserverpb::RangeResponse* resp) {
  if (absl::Status s = CheckRange(*req); !s.ok()) return ToGrpcStatus(s);
  // A single member reads its own applied state either way.
  if (!req->serializable()) {
    if (absl::Status s = Linearize(*member_); !s.ok()) return ToGrpcStatus(s);
  }
  absl::StatusOr<etcdkv::RangeResponse> r = etcdkv::Range(db_->store(), FromProto(*req));
  if (!r.ok()) return ToGrpcStatus(r.status());
  ToProto(std::move(*r), resp);
  member_->Stamp(resp->mutable_header(), resp->header().revision());
  return grpc::Status::OK;
}

grpc::Status KVService::Put(grpc::ServerContext*, const etcdserverpb::PutRequest* req,
                            etcdserverpb::PutResponse* resp) {
  if (absl::Status s = quota_->Check(QuotaCost(*req)); !s.ok()) return ToGrpcStatus(s);
  if (absl::Status s = CheckPut(*req); !s.ok()) return ToGrpcStatus(s);
  revkvpb::InternalRequest entry;
  *entry.mutable_put() = *req;
  return Answer(proposer_->Propose(std::move(entry)), *member_, resp);
}

grpc::Status KVService::DeleteRange(grpc::ServerContext*,
                                    const etcdserverpb::DeleteRangeRequest* req,
                                    etcdserverpb::DeleteRangeResponse* resp) {
  if (absl::Status s = CheckDelete(*req); !s.ok()) return ToGrpcStatus(s);
  revkvpb::InternalRequest entry;
  *entry.mutable_delete_range() = *req;
  return Answer(proposer_->Propose(std::move(entry)), *member_, resp);
}

grpc::Status KVService::Txn(grpc::ServerContext*, const etcdserverpb::TxnRequest* req,
                            etcdserverpb::TxnResponse* resp) {
  // Read-only txns too (cost 0), as etcd's quotaKVServer.
  if (absl::Status s = quota_->Check(QuotaCost(*req)); !s.ok()) return ToGrpcStatus(s);
  if (absl::Status s = CheckTxn(*req, max_txn_ops_); !s.ok()) return ToGrpcStatus(s);
  if (IsReadOnly(*req)) {
    // As etcd: a txn that cannot write is not proposed.
    if (!IsSerializable(*req)) {
      if (absl::Status s = Linearize(*member_); !s.ok()) return ToGrpcStatus(s);
    }
    absl::StatusOr<etcdserverpb::TxnResponse> r = ApplyTxn(db_->store(), *req);
    if (!r.ok()) return ToGrpcStatus(r.status());
    *resp = std::move(*r);
    member_->Stamp(resp->mutable_header(), resp->header().revision());
    return grpc::Status::OK;
  }
  revkvpb::InternalRequest entry;
  *entry.mutable_txn() = *req;
  return Answer(proposer_->Propose(std::move(entry)), *member_, resp);
}

grpc::Status KVService::Compact(grpc::ServerContext*, const etcdserverpb::CompactionRequest* req,
                                etcdserverpb::CompactionResponse* resp) {
  revkvpb::InternalRequest entry;
  *entry.mutable_compaction() = *req;
  grpc::Status s = Answer(proposer_->Propose(std::move(entry)), *member_, resp);
  if (s.ok() && req->physical()) {
    if (absl::Status w = db_->WaitCompaction(); !w.ok()) return ToGrpcStatus(w);
  }
  return s;
}

}  // namespace revkv::server
