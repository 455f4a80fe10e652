// ClusterService: etcd's etcdserverpb.Cluster for a single member.
// MemberList lists this member (its client URLs; no peer URLs: revkv has no
// peer listener yet); membership changes answer UNIMPLEMENTED until Raft.
//
// Thread-safety: thread-safe (immutable state).
#ifndef REVKV_SERVER_CLUSTER_SERVICE_H_
#define REVKV_SERVER_CLUSTER_SERVICE_H_

#include "revkv/db.h"
#include "server/member.h"
#include "server/proto/rpc.grpc.pb.h"

namespace revkv::server {

class ClusterService final : public etcdserverpb::Cluster::Service {
 public:
  // Neither owned; both must outlive the service.
  ClusterService(revkv::DB* db, const Member* member) : db_(db), member_(member) {}

  grpc::Status MemberList(grpc::ServerContext*, const etcdserverpb::MemberListRequest*,
                          etcdserverpb::MemberListResponse* resp) override {
    member_->Stamp(resp->mutable_header(), db_->Rev());
    etcdserverpb::Member* m = resp->add_members();
    m->set_id(member_->member_id);
    m->set_name(member_->name);
    for (const std::string& u : member_->client_urls) m->add_clienturls(u);
    return grpc::Status::OK;
  }

 private:
  revkv::DB* db_;
  const Member* member_;
};

}  // namespace revkv::server

#endif  // REVKV_SERVER_CLUSTER_SERVICE_H_
