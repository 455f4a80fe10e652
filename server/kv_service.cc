#include "server/kv_service.h"

#include <optional>
#include <utility>

#include "grpcpp/impl/codegen/proto_utils.h"
#include "server/grpc_status.h"
#include "server/kv_calls.h"

namespace revkv::server {
namespace {

// A physical compaction is answered once the compacted records are gone.
grpc::Status CompactAndWait(revkv::DB* db, Proposer* proposer, const Member& m,
                            const etcdserverpb::CompactionRequest& req,
                            etcdserverpb::CompactionResponse* resp) {
  revkvpb::InternalRequest entry;
  *entry.mutable_compaction() = req;
  grpc::Status s = kv_calls::Answer(proposer->Propose(std::move(entry)), m, resp);
  if (s.ok() && req.physical()) {
    if (absl::Status w = db->WaitCompaction(); !w.ok()) return ToGrpcStatus(w);
  }
  return s;
}

}  // namespace

grpc::Status KVService::Range(grpc::ServerContext*, const etcdserverpb::RangeRequest* req,
                              etcdserverpb::RangeResponse* resp) {
  return kv_calls::Range(db_, *member_, *req, resp);
}

grpc::Status KVService::Put(grpc::ServerContext*, const etcdserverpb::PutRequest* req,
                            etcdserverpb::PutResponse* resp) {
  absl::StatusOr<revkvpb::InternalRequest> entry = kv_calls::PutEntry(quota_, *req);
  if (!entry.ok()) return ToGrpcStatus(entry.status());
  return kv_calls::Answer(proposer_->Propose(std::move(*entry)), *member_, resp);
}

grpc::Status KVService::DeleteRange(grpc::ServerContext*,
                                    const etcdserverpb::DeleteRangeRequest* req,
                                    etcdserverpb::DeleteRangeResponse* resp) {
  absl::StatusOr<revkvpb::InternalRequest> entry = kv_calls::DeleteRangeEntry(*req);
  if (!entry.ok()) return ToGrpcStatus(entry.status());
  return kv_calls::Answer(proposer_->Propose(std::move(*entry)), *member_, resp);
}

grpc::Status KVService::Txn(grpc::ServerContext*, const etcdserverpb::TxnRequest* req,
                            etcdserverpb::TxnResponse* resp) {
  std::optional<revkvpb::InternalRequest> entry;
  grpc::Status s = kv_calls::Txn(db_, *member_, quota_, max_txn_ops_, *req, resp, &entry);
  if (!s.ok() || !entry.has_value()) return s;
  return kv_calls::Answer(proposer_->Propose(std::move(*entry)), *member_, resp);
}

grpc::Status KVService::Compact(grpc::ServerContext*, const etcdserverpb::CompactionRequest* req,
                                etcdserverpb::CompactionResponse* resp) {
  return CompactAndWait(db_, proposer_, *member_, *req, resp);
}

namespace {

// One raw call in flight: its parsed request and its response, until the
// response is serialized into gRPC's buffer and the call finished.
template <typename Req, typename Resp>
class RawCall {
 public:
  // Parses `in`; a request that does not parse finishes the call (null).
  static RawCall* Start(grpc::ServerUnaryReactor* reactor, const grpc::ByteBuffer* in,
                        grpc::ByteBuffer* out) {
    auto* c = new RawCall(reactor, out);
    grpc::ByteBuffer view(*in);  // shares the slices
    if (grpc::Status s = grpc::SerializationTraits<Req>::Deserialize(&view, &c->req); !s.ok()) {
      c->Finish(s);
      return nullptr;
    }
    return c;
  }

  // Serializes the response (when `s` is OK), finishes the call and
  // deletes this.
  void Finish(grpc::Status s) {
    if (s.ok()) {
      bool own = false;
      s = grpc::SerializationTraits<Resp>::Serialize(resp, out_, &own);
    }
    grpc::ServerUnaryReactor* reactor = reactor_;
    delete this;
    reactor->Finish(s);
  }

  // Proposes `entry` and finishes with the apply result's answer.
  void ProposeAndFinish(Proposer* proposer, const Member* m, revkvpb::InternalRequest entry) {
    proposer->ProposeAsync(std::move(entry), [this, m](absl::StatusOr<ApplyResult> r) {
      grpc::Status s = kv_calls::Answer(std::move(r), *m, &resp);
      Finish(s);
    });
  }

  Req req;
  Resp resp;

 private:
  RawCall(grpc::ServerUnaryReactor* reactor, grpc::ByteBuffer* out)
      : reactor_(reactor), out_(out) {}

  grpc::ServerUnaryReactor* const reactor_;
  grpc::ByteBuffer* const out_;
};

}  // namespace

grpc::ServerUnaryReactor* KVCallbackService::Range(grpc::CallbackServerContext* ctx,
                                                   const grpc::ByteBuffer* in,
                                                   grpc::ByteBuffer* out) {
  using Call = RawCall<etcdserverpb::RangeRequest, etcdserverpb::RangeResponse>;
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  if (Call* c = Call::Start(reactor, in, out)) c->Finish(kv_calls::Range(db_, *member_, c->req, &c->resp));
  return reactor;
}

namespace {

grpc::ServerUnaryReactor* AsyncPut(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* in,
                                   grpc::ByteBuffer* out, Proposer* proposer, QuotaGuard* quota,
                                   const Member* member) {
  using Call = RawCall<etcdserverpb::PutRequest, etcdserverpb::PutResponse>;
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  if (Call* c = Call::Start(reactor, in, out)) {
    absl::StatusOr<revkvpb::InternalRequest> entry = kv_calls::PutEntry(quota, c->req);
    if (!entry.ok()) {
      c->Finish(ToGrpcStatus(entry.status()));
    } else {
      c->ProposeAndFinish(proposer, member, std::move(*entry));
    }
  }
  return reactor;
}

grpc::ServerUnaryReactor* AsyncDeleteRange(grpc::CallbackServerContext* ctx,
                                           const grpc::ByteBuffer* in, grpc::ByteBuffer* out,
                                           Proposer* proposer, const Member* member) {
  using Call = RawCall<etcdserverpb::DeleteRangeRequest, etcdserverpb::DeleteRangeResponse>;
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  if (Call* c = Call::Start(reactor, in, out)) {
    absl::StatusOr<revkvpb::InternalRequest> entry = kv_calls::DeleteRangeEntry(c->req);
    if (!entry.ok()) {
      c->Finish(ToGrpcStatus(entry.status()));
    } else {
      c->ProposeAndFinish(proposer, member, std::move(*entry));
    }
  }
  return reactor;
}

}  // namespace

grpc::ServerUnaryReactor* KVCallbackService::Put(grpc::CallbackServerContext* ctx,
                                                 const grpc::ByteBuffer* in,
                                                 grpc::ByteBuffer* out) {
  return AsyncPut(ctx, in, out, proposer_, quota_, member_);
}

grpc::ServerUnaryReactor* KVCallbackService::DeleteRange(grpc::CallbackServerContext* ctx,
                                                         const grpc::ByteBuffer* in,
                                                         grpc::ByteBuffer* out) {
  return AsyncDeleteRange(ctx, in, out, proposer_, member_);
}

grpc::ServerUnaryReactor* KVClusterService::Put(grpc::CallbackServerContext* ctx,
                                                const grpc::ByteBuffer* in,
                                                grpc::ByteBuffer* out) {
  return AsyncPut(ctx, in, out, proposer_, quota_, member_);
}

grpc::ServerUnaryReactor* KVClusterService::DeleteRange(grpc::CallbackServerContext* ctx,
                                                        const grpc::ByteBuffer* in,
                                                        grpc::ByteBuffer* out) {
  return AsyncDeleteRange(ctx, in, out, proposer_, member_);
}

grpc::ServerUnaryReactor* KVCallbackService::Txn(grpc::CallbackServerContext* ctx,
                                                 const grpc::ByteBuffer* in,
                                                 grpc::ByteBuffer* out) {
  using Call = RawCall<etcdserverpb::TxnRequest, etcdserverpb::TxnResponse>;
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  if (Call* c = Call::Start(reactor, in, out)) {
    std::optional<revkvpb::InternalRequest> entry;
    grpc::Status s = kv_calls::Txn(db_, *member_, quota_, max_txn_ops_, c->req, &c->resp, &entry);
    if (!s.ok() || !entry.has_value()) {
      c->Finish(s);
    } else {
      c->ProposeAndFinish(proposer_, member_, std::move(*entry));
    }
  }
  return reactor;
}

grpc::Status KVCallbackService::Compact(grpc::ServerContext*,
                                        const etcdserverpb::CompactionRequest* req,
                                        etcdserverpb::CompactionResponse* resp) {
  return CompactAndWait(db_, proposer_, *member_, *req, resp);
}

}  // namespace revkv::server
