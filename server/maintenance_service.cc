#include "server/maintenance_service.h"

#include <ostream>
#include <string>
#include <variant>

#include "absl/strings/str_cat.h"
#include "mvcc/etcd_hash.h"
#include "server/grpc_status.h"
#include "server/snapshot_stream.h"

namespace revkv::server {
namespace {

// Go's proto.CompactTextString of an AlarmMember, which etcd puts in
// Status.errors: each set field as name:value, each followed by a space.
std::string AlarmText(const etcdserverpb::AlarmMember& m) {
  std::string t;
  if (m.memberid() != 0) absl::StrAppend(&t, "memberID:", m.memberid(), " ");
  if (m.alarm() != etcdserverpb::NONE) {
    absl::StrAppend(&t, "alarm:", etcdserverpb::AlarmType_Name(m.alarm()), " ");
  }
  return t;
}

}  // namespace

grpc::Status MaintenanceService::Alarm(grpc::ServerContext*, const etcdserverpb::AlarmRequest* req,
                                       etcdserverpb::AlarmResponse* resp) {
  revkvpb::InternalRequest entry;
  *entry.mutable_alarm() = *req;
  absl::StatusOr<ApplyResult> r = proposer_->Propose(std::move(entry));
  if (!r.ok()) return ToGrpcStatus(r.status());
  etcdserverpb::AlarmResponse* a = std::get_if<etcdserverpb::AlarmResponse>(&*r);
  if (a == nullptr) return grpc::Status(grpc::INTERNAL, "server: an entry answered another request");
  // No header, as etcd 3.4 answers.
  *resp = std::move(*a);
  return grpc::Status::OK;
}

grpc::Status MaintenanceService::Status(grpc::ServerContext*, const etcdserverpb::StatusRequest*,
                                        etcdserverpb::StatusResponse* resp) {
  absl::StatusOr<backend::DbSizes> sizes = db_->backend()->Sizes();
  if (!sizes.ok()) return ToGrpcStatus(sizes.status());
  member_->Stamp(resp->mutable_header(), db_->Rev());
  resp->set_version(kEtcdVersion);
  resp->set_dbsize(int64_t(sizes->size));
  resp->set_dbsizeinuse(int64_t(sizes->in_use));
  if (member_->cluster != nullptr) {
    const RaftView raft = member_->cluster->Raft();
    resp->set_leader(raft.leader);
    resp->set_raftindex(raft.index);
    resp->set_raftterm(raft.term);
    resp->set_raftappliedindex(raft.applied);
    for (const etcdserverpb::Member& m : member_->cluster->Members()) {
      if (m.id() == member_->member_id) resp->set_islearner(m.islearner());
    }
  } else {
    resp->set_leader(member_->member_id);
    resp->set_raftindex(proposer_->last_index());
    resp->set_raftterm(member_->raft_term);
    resp->set_raftappliedindex(applier_->applied_index());
  }
  for (const etcdserverpb::AlarmMember& m : alarms_->Get(etcdserverpb::NONE)) {
    resp->add_errors(AlarmText(m));
  }
  return grpc::Status::OK;
}

grpc::Status MaintenanceService::MoveLeader(grpc::ServerContext*,
                                            const etcdserverpb::MoveLeaderRequest* req,
                                            etcdserverpb::MoveLeaderResponse* resp) {
  if (member_->cluster == nullptr) {
    return grpc::Status(grpc::UNIMPLEMENTED, "revkv: move-leader needs a cluster member");
  }
  if (absl::Status s = member_->cluster->MoveLeader(req->targetid()); !s.ok()) {
    return ToGrpcStatus(s);
  }
  member_->Stamp(resp->mutable_header(), db_->Rev());
  return grpc::Status::OK;
}

grpc::Status MaintenanceService::Defragment(grpc::ServerContext*,
                                            const etcdserverpb::DefragmentRequest*,
                                            etcdserverpb::DefragmentResponse* resp) {
  if (absl::Status s = db_->Defrag(); !s.ok()) return ToGrpcStatus(s);
  member_->Stamp(resp->mutable_header(), db_->Rev());
  return grpc::Status::OK;
}

grpc::Status MaintenanceService::Hash(grpc::ServerContext*, const etcdserverpb::HashRequest*,
                                      etcdserverpb::HashResponse* resp) {
  // etcd's store.Hash: commit, hash, then the current revision (read after
  // the hash, as etcd reads it: a write in between may be in one and not
  // the other, in etcd too).
  absl::StatusOr<uint32_t> h = db_->backend()->EtcdHash(mvcc::IsEtcdHashIgnored);
  if (!h.ok()) return ToGrpcStatus(h.status());
  member_->Stamp(resp->mutable_header(), db_->Rev());
  resp->set_hash(*h);
  return grpc::Status::OK;
}

grpc::Status MaintenanceService::HashKV(grpc::ServerContext*, const etcdserverpb::HashKVRequest* req,
                                        etcdserverpb::HashKVResponse* resp) {
  absl::StatusOr<mvcc::HashResult> h = db_->HashKV(req->revision() > 0 ? req->revision() : 0);
  if (!h.ok()) return ToGrpcStatus(h.status());
  member_->Stamp(resp->mutable_header(), h->rev);
  resp->set_hash(h->hash);
  resp->set_compact_revision(h->compact_rev);
  return grpc::Status::OK;
}

grpc::Status MaintenanceService::Snapshot(grpc::ServerContext*, const etcdserverpb::SnapshotRequest*,
                                          grpc::ServerWriter<etcdserverpb::SnapshotResponse>* writer) {
  absl::StatusOr<std::unique_ptr<backend::Snapshot>> snap = db_->backend()->NewSnapshot();
  if (!snap.ok()) return ToGrpcStatus(snap.status());
  SnapshotStream stream((*snap)->Size(), [writer](const etcdserverpb::SnapshotResponse& r) {
    return writer->Write(r);
  });
  absl::Status s;
  {
    std::ostream out(&stream);
    s = (*snap)->WriteTo(out);
  }
  // Release the pinned pages before the digest goes out.
  (*snap)->Close().IgnoreError();
  if (!s.ok() && !stream.failed()) return ToGrpcStatus(s);
  if (!s.ok() || !stream.Finish()) {
    return grpc::Status(grpc::UNAVAILABLE, "revkv: snapshot stream ended early");
  }
  return grpc::Status::OK;
}

}  // namespace revkv::server
