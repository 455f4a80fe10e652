// MaintenanceService: etcd's etcdserverpb.Maintenance over a revkv::DB --
// Status, HashKV, Hash, Defragment and Alarm. Alarm requests (GET too) are
// proposed and answered by the Applier from the AlarmStore, as etcd 3.4
// does; Status lists the raised alarms in `errors`, in etcd's text form
// ("memberID:<id> alarm:NOSPACE ").
// Snapshot streams a consistent copy of the backend (a btree file) in
// etcd's chunks, ending with its SHA-256 (snapshot_stream.h); writes go on
// meanwhile. MoveLeader goes to a cluster member's ClusterView (a single
// member answers UNIMPLEMENTED).
//
// Status reports etcd's API version "3.4.23" (clients gate features on
// it), etcd's dbSize and dbSizeInUse (Backend::Sizes: the high-water mark
// and the pages in use below it, as of one commit; not the file's length),
// this member as leader, and
// the proposer's last index as raft index and applied index. Hash is
// etcd 3.4's backend hash (Backend::EtcdHash: CRC-32C over bucket names,
// keys and values) over what mvcc/etcd_hash.h keeps: etcd's data less the
// consistent index; revkv's own buckets are left out, so members holding
// the same data answer the same hash.
//
// Thread-safety: thread-safe.
#ifndef REVKV_SERVER_MAINTENANCE_SERVICE_H_
#define REVKV_SERVER_MAINTENANCE_SERVICE_H_

#include "revkv/db.h"
#include "server/alarm_store.h"
#include "server/applier.h"
#include "server/member.h"
#include "server/proposer.h"
#include "server/proto/rpc.grpc.pb.h"

namespace revkv::server {

inline constexpr char kEtcdVersion[] = "3.4.23";

class MaintenanceService final : public etcdserverpb::Maintenance::Service {
 public:
  // None owned; all must outlive the service.
  MaintenanceService(revkv::DB* db, Proposer* proposer, const Applier* applier,
                     const AlarmStore* alarms, const Member* member)
      : db_(db), proposer_(proposer), applier_(applier), alarms_(alarms), member_(member) {}

  grpc::Status Alarm(grpc::ServerContext*, const etcdserverpb::AlarmRequest* req,
                     etcdserverpb::AlarmResponse* resp) override;
  grpc::Status Status(grpc::ServerContext*, const etcdserverpb::StatusRequest* req,
                      etcdserverpb::StatusResponse* resp) override;
  grpc::Status Defragment(grpc::ServerContext*, const etcdserverpb::DefragmentRequest* req,
                          etcdserverpb::DefragmentResponse* resp) override;
  grpc::Status Hash(grpc::ServerContext*, const etcdserverpb::HashRequest* req,
                    etcdserverpb::HashResponse* resp) override;
  grpc::Status HashKV(grpc::ServerContext*, const etcdserverpb::HashKVRequest* req,
                      etcdserverpb::HashKVResponse* resp) override;
  grpc::Status MoveLeader(grpc::ServerContext*, const etcdserverpb::MoveLeaderRequest* req,
                          etcdserverpb::MoveLeaderResponse* resp) override;
  grpc::Status Snapshot(grpc::ServerContext*, const etcdserverpb::SnapshotRequest* req,
                        grpc::ServerWriter<etcdserverpb::SnapshotResponse>* writer) override;

 private:
  revkv::DB* db_;
  Proposer* proposer_;
  const Applier* applier_;
  const AlarmStore* alarms_;
  const Member* member_;
};

}  // namespace revkv::server

#endif  // REVKV_SERVER_MAINTENANCE_SERVICE_H_
