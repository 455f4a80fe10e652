// KVService: etcd's etcdserverpb.KV over a revkv::DB. Reads (Range, and
// txns that write nothing on either branch) are served from the DB
// directly -- on a cluster member, a linearizable one (not serializable)
// after the member's ReadBarrier (cluster_view.h); writes are validated (validate.h), then proposed (proposer.h)
// and answered with their apply result once durable. A physical Compact
// also waits until the compacted records are gone. Put and Txn pass the
// backend quota first (quota.h), before their other checks, as in etcd.
//
// Thread-safety: thread-safe (gRPC calls it from its thread pool).
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

}  // namespace revkv::server

#endif  // REVKV_SERVER_KV_SERVICE_H_
