#include "cmd/revkv/remote_kv.h"

#include <utility>

#include "cmd/revkv/exit_status.h"
#include "grpcpp/grpcpp.h"
#include "server/proto/rpc.grpc.pb.h"

namespace revkv::cli {
namespace {

namespace pb = etcdserverpb;

void ToProto(const RangeRequest& r, pb::RangeRequest* out) {
  out->set_key(r.key);
  out->set_range_end(r.end);
  out->set_limit(r.limit);
  out->set_revision(r.rev);
  out->set_keys_only(r.keys_only);
  out->set_count_only(r.count_only);
  switch (r.sort_target) {
    case SortTarget::kKey: out->set_sort_target(pb::RangeRequest::KEY); break;
    case SortTarget::kVersion: out->set_sort_target(pb::RangeRequest::VERSION); break;
    case SortTarget::kCreate: out->set_sort_target(pb::RangeRequest::CREATE); break;
    case SortTarget::kMod: out->set_sort_target(pb::RangeRequest::MOD); break;
    case SortTarget::kValue: out->set_sort_target(pb::RangeRequest::VALUE); break;
  }
  switch (r.sort_order) {
    case SortOrder::kNone: out->set_sort_order(pb::RangeRequest::NONE); break;
    case SortOrder::kAscend: out->set_sort_order(pb::RangeRequest::ASCEND); break;
    case SortOrder::kDescend: out->set_sort_order(pb::RangeRequest::DESCEND); break;
  }
  out->set_min_mod_revision(r.min_mod_revision);
  out->set_max_mod_revision(r.max_mod_revision);
  out->set_min_create_revision(r.min_create_revision);
  out->set_max_create_revision(r.max_create_revision);
}

void ToProto(const PutRequest& r, pb::PutRequest* out) {
  out->set_key(r.key);
  out->set_value(r.value);
  out->set_lease(r.lease);
  out->set_prev_kv(r.prev_kv);
  out->set_ignore_value(r.ignore_value);
  out->set_ignore_lease(r.ignore_lease);
}

void ToProto(const DeleteRequest& r, pb::DeleteRangeRequest* out) {
  out->set_key(r.key);
  out->set_range_end(r.end);
  out->set_prev_kv(r.prev_kv);
}

absl::Status ToProto(const Compare& c, pb::Compare* out) {
  out->set_key(c.key);
  switch (c.result) {
    case CompareResult::kEqual: out->set_result(pb::Compare::EQUAL); break;
    case CompareResult::kNotEqual: out->set_result(pb::Compare::NOT_EQUAL); break;
    case CompareResult::kGreater: out->set_result(pb::Compare::GREATER); break;
    case CompareResult::kLess: out->set_result(pb::Compare::LESS); break;
    case CompareResult::kGreaterEqual:
    case CompareResult::kLessEqual:
      // revkv's own extension: etcd's wire has no such result.
      return ExitError(kExitError, "revkv: a >= or <= compare works on a data directory only");
  }
  switch (c.target) {
    case CompareTarget::kVersion:
      out->set_target(pb::Compare::VERSION);
      out->set_version(c.number);
      break;
    case CompareTarget::kCreate:
      out->set_target(pb::Compare::CREATE);
      out->set_create_revision(c.number);
      break;
    case CompareTarget::kMod:
      out->set_target(pb::Compare::MOD);
      out->set_mod_revision(c.number);
      break;
    case CompareTarget::kValue:
      out->set_target(pb::Compare::VALUE);
      out->set_value(c.value);
      break;
    case CompareTarget::kLease:
      out->set_target(pb::Compare::LEASE);
      out->set_lease(c.number);
      break;
  }
  return absl::OkStatus();
}

void ToProto(const RequestOp& op, pb::RequestOp* out) {
  if (const auto* r = std::get_if<RangeRequest>(&op)) ToProto(*r, out->mutable_request_range());
  if (const auto* p = std::get_if<PutRequest>(&op)) ToProto(*p, out->mutable_request_put());
  if (const auto* d = std::get_if<DeleteRequest>(&op)) {
    ToProto(*d, out->mutable_request_delete_range());
  }
}

RangeResponse FromProto(const pb::RangeResponse& r) {
  RangeResponse out;
  out.revision = r.header().revision();
  for (const mvccpb::KeyValue& kv : r.kvs()) out.kvs.push_back(KeyValueFromProto(kv));
  out.more = r.more();
  out.count = r.count();
  return out;
}

PutResponse FromProto(const pb::PutResponse& r) {
  PutResponse out;
  out.revision = r.header().revision();
  if (r.has_prev_kv()) out.prev_kv = KeyValueFromProto(r.prev_kv());
  return out;
}

DeleteResponse FromProto(const pb::DeleteRangeResponse& r) {
  DeleteResponse out;
  out.revision = r.header().revision();
  out.deleted = r.deleted();
  for (const mvccpb::KeyValue& kv : r.prev_kvs()) out.prev_kvs.push_back(KeyValueFromProto(kv));
  return out;
}

absl::StatusOr<TxnResponse> FromProto(const pb::TxnResponse& r) {
  TxnResponse out;
  out.revision = r.header().revision();
  out.succeeded = r.succeeded();
  out.responses.reserve(size_t(r.responses_size()));
  for (const pb::ResponseOp& op : r.responses()) {
    if (op.has_response_range()) {
      out.responses.emplace_back(std::in_place_type<RangeResponse>, FromProto(op.response_range()));
    } else if (op.has_response_put()) {
      out.responses.emplace_back(std::in_place_type<PutResponse>, FromProto(op.response_put()));
    } else if (op.has_response_delete_range()) {
      out.responses.emplace_back(std::in_place_type<DeleteResponse>,
                                 FromProto(op.response_delete_range()));
    } else {
      // etcdctl's txn builds no nested txn, so no server answers one.
      return ExitError(kExitError, "revkv: the server answered a nested txn");
    }
  }
  return out;
}

}  // namespace

mvcc::KeyValue KeyValueFromProto(const mvccpb::KeyValue& kv) {
  mvcc::KeyValue out;
  out.key = kv.key();
  out.create_revision = kv.create_revision();
  out.mod_revision = kv.mod_revision();
  out.version = kv.version();
  out.value = kv.value();
  out.lease = kv.lease();
  return out;
}

struct RemoteKv::Impl {
  std::unique_ptr<RemoteChannel> conn;
  std::unique_ptr<pb::KV::Stub> kv;

  void Prepare(grpc::ClientContext* ctx) const { conn->Prepare(ctx); }
};

absl::StatusOr<std::unique_ptr<RemoteKv>> RemoteKv::Open(const RemoteOptions& o) {
  absl::StatusOr<std::unique_ptr<RemoteChannel>> conn = RemoteChannel::Open(o);
  if (!conn.ok()) return conn.status();
  auto impl = std::make_unique<Impl>();
  impl->conn = *std::move(conn);
  impl->kv = pb::KV::NewStub(impl->conn->channel());
  return std::unique_ptr<RemoteKv>(new RemoteKv(std::move(impl)));
}

RemoteKv::RemoteKv(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RemoteKv::~RemoteKv() = default;

absl::StatusOr<RangeResponse> RemoteKv::Range(const RangeRequest& r) {
  pb::RangeRequest req;
  ToProto(r, &req);
  pb::RangeResponse resp;
  grpc::ClientContext ctx;
  impl_->Prepare(&ctx);
  grpc::Status s = impl_->kv->Range(&ctx, req, &resp);
  if (!s.ok()) return FromGrpc(s);
  return FromProto(resp);
}

absl::StatusOr<PutResponse> RemoteKv::Put(const PutRequest& r) {
  pb::PutRequest req;
  ToProto(r, &req);
  pb::PutResponse resp;
  grpc::ClientContext ctx;
  impl_->Prepare(&ctx);
  grpc::Status s = impl_->kv->Put(&ctx, req, &resp);
  if (!s.ok()) return FromGrpc(s);
  return FromProto(resp);
}

absl::StatusOr<DeleteResponse> RemoteKv::Delete(const DeleteRequest& r) {
  pb::DeleteRangeRequest req;
  ToProto(r, &req);
  pb::DeleteRangeResponse resp;
  grpc::ClientContext ctx;
  impl_->Prepare(&ctx);
  grpc::Status s = impl_->kv->DeleteRange(&ctx, req, &resp);
  if (!s.ok()) return FromGrpc(s);
  return FromProto(resp);
}

absl::StatusOr<TxnResponse> RemoteKv::Txn(const TxnRequest& r) {
  pb::TxnRequest req;
  for (const Compare& c : r.compares) {
    if (absl::Status s = ToProto(c, req.add_compare()); !s.ok()) return s;
  }
  for (const RequestOp& op : r.success) ToProto(op, req.add_success());
  for (const RequestOp& op : r.failure) ToProto(op, req.add_failure());
  pb::TxnResponse resp;
  grpc::ClientContext ctx;
  impl_->Prepare(&ctx);
  grpc::Status s = impl_->kv->Txn(&ctx, req, &resp);
  if (!s.ok()) return FromGrpc(s);
  return FromProto(resp);
}

absl::Status RemoteKv::Compact(int64_t rev, bool physical) {
  pb::CompactionRequest req;
  req.set_revision(rev);
  req.set_physical(physical);
  pb::CompactionResponse resp;
  grpc::ClientContext ctx;
  impl_->Prepare(&ctx);
  grpc::Status s = impl_->kv->Compact(&ctx, req, &resp);
  if (!s.ok()) return FromGrpc(s);
  return absl::OkStatus();
}

const std::string& RemoteKv::endpoint() const { return impl_->conn->endpoint(); }

}  // namespace revkv::cli
