// etcd's etcdserverpb.KV over a revkv::DB, in two forms with the same
// answers (kv_calls.h). Reads (Range, and txns that write nothing on either
// branch) are served from the DB directly -- on a cluster member, a
// linearizable one (not serializable) after the member's ReadBarrier
// (cluster_view.h); writes are validated (validate.h), then proposed
// (proposer.h) and answered with their apply result once durable. Put and
// Txn pass the backend quota first (quota.h), before their other checks,
// as in etcd. A physical Compact also waits until the compacted records
// are gone.
//
// KVService is gRPC's synchronous form: a thread per call in flight, which
// may block (a cluster member's forwarding and read barrier do).
// KVCallbackService is the callback form for a proposer that answers
// asynchronously (Proposer::answers_async, a single member): a write's
// call is finished from the proposer's answer, so hundreds of calls in
// flight cost no threads. Its reads are served on gRPC's callback threads,
// so it must not be used where a read waits (a cluster member).
// KVClusterService mixes the two for a cluster member whose proposer
// answers asynchronously (raft/forwarder.h): Put and DeleteRange are
// callbacks, finished from the proposer's answer; Range and Txn (whose
// reads wait for the read barrier) stay synchronous. Compact stays
// synchronous in all three (it waits for the compaction).
//
// Thread-safety: both thread-safe (gRPC calls them from its threads).
#ifndef REVKV_SERVER_KV_SERVICE_H_
#define REVKV_SERVER_KV_SERVICE_H_

#include <cstdint>

#include "revkv/db.h"
#include "server/member.h"
#include "server/proposer.h"
#include "server/quota.h"
#include "server/proto/rpc.grpc.pb.h"

namespace revkv::server {

class KVService final : public etcdserverpb::KV::Service {
 public:
  // None owned; all must outlive the service.
  KVService(revkv::DB* db, Proposer* proposer, QuotaGuard* quota, const Member* member,
            int64_t max_txn_ops)
      : db_(db), proposer_(proposer), quota_(quota), member_(member), max_txn_ops_(max_txn_ops) {}

  grpc::Status Range(grpc::ServerContext*, const etcdserverpb::RangeRequest* req,
                     etcdserverpb::RangeResponse* resp) override;
  grpc::Status Put(grpc::ServerContext*, const etcdserverpb::PutRequest* req,
                   etcdserverpb::PutResponse* resp) override;
  grpc::Status DeleteRange(grpc::ServerContext*, const etcdserverpb::DeleteRangeRequest* req,
                           etcdserverpb::DeleteRangeResponse* resp) override;
  grpc::Status Txn(grpc::ServerContext*, const etcdserverpb::TxnRequest* req,
                   etcdserverpb::TxnResponse* resp) override;
  grpc::Status Compact(grpc::ServerContext*, const etcdserverpb::CompactionRequest* req,
                       etcdserverpb::CompactionResponse* resp) override;

 private:
  revkv::DB* db_;
  Proposer* proposer_;
  QuotaGuard* quota_;
  const Member* member_;
  const int64_t max_txn_ops_;
};

// Its four calls take raw bytes and parse them here: gRPC 1.51's typed
// callback handler answers a request that does not parse with UNIMPLEMENTED,
// the synchronous one (and etcd) with INTERNAL, which this keeps.
class KVCallbackService final
    : public etcdserverpb::KV::WithRawCallbackMethod_Range<
          etcdserverpb::KV::WithRawCallbackMethod_Put<etcdserverpb::KV::WithRawCallbackMethod_DeleteRange<
              etcdserverpb::KV::WithRawCallbackMethod_Txn<etcdserverpb::KV::Service>>>> {
 public:
  // As KVService's; `proposer` answers asynchronously.
  KVCallbackService(revkv::DB* db, Proposer* proposer, QuotaGuard* quota, const Member* member,
                    int64_t max_txn_ops)
      : db_(db), proposer_(proposer), quota_(quota), member_(member), max_txn_ops_(max_txn_ops) {}

  grpc::ServerUnaryReactor* Range(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* req,
                                  grpc::ByteBuffer* resp) override;
  grpc::ServerUnaryReactor* Put(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* req,
                                grpc::ByteBuffer* resp) override;
  grpc::ServerUnaryReactor* DeleteRange(grpc::CallbackServerContext* ctx,
                                        const grpc::ByteBuffer* req,
                                        grpc::ByteBuffer* resp) override;
  grpc::ServerUnaryReactor* Txn(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* req,
                                grpc::ByteBuffer* resp) override;
  grpc::Status Compact(grpc::ServerContext*, const etcdserverpb::CompactionRequest* req,
                       etcdserverpb::CompactionResponse* resp) override;

 private:
  revkv::DB* db_;
  Proposer* proposer_;
  QuotaGuard* quota_;
  const Member* member_;
  const int64_t max_txn_ops_;
};

class KVClusterService final
    : public etcdserverpb::KV::WithRawCallbackMethod_Put<
          etcdserverpb::KV::WithRawCallbackMethod_DeleteRange<etcdserverpb::KV::Service>> {
 public:
  // As KVService's; `proposer` answers asynchronously.
  KVClusterService(revkv::DB* db, Proposer* proposer, QuotaGuard* quota, const Member* member,
                   int64_t max_txn_ops)
      : sync_(db, proposer, quota, member, max_txn_ops),
        proposer_(proposer),
        quota_(quota),
        member_(member) {}

  grpc::Status Range(grpc::ServerContext* ctx, const etcdserverpb::RangeRequest* req,
                     etcdserverpb::RangeResponse* resp) override {
    return sync_.Range(ctx, req, resp);
  }
  grpc::ServerUnaryReactor* Put(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* req,
                                grpc::ByteBuffer* resp) override;
  grpc::ServerUnaryReactor* DeleteRange(grpc::CallbackServerContext* ctx,
                                        const grpc::ByteBuffer* req,
                                        grpc::ByteBuffer* resp) override;
  grpc::Status Txn(grpc::ServerContext* ctx, const etcdserverpb::TxnRequest* req,
                   etcdserverpb::TxnResponse* resp) override {
    return sync_.Txn(ctx, req, resp);
  }
  grpc::Status Compact(grpc::ServerContext* ctx, const etcdserverpb::CompactionRequest* req,
                       etcdserverpb::CompactionResponse* resp) override {
    return sync_.Compact(ctx, req, resp);
  }

 private:
  KVService sync_;  // the synchronous calls' answers
  Proposer* proposer_;
  QuotaGuard* quota_;
  const Member* member_;
};

}  // namespace revkv::server

#endif  // REVKV_SERVER_KV_SERVICE_H_
