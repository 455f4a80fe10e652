// ClusterService: etcd's etcdserverpb.Cluster. MemberList lists a single
// member alone (its client URLs; it has no peers), a cluster member every
// member of its ClusterView (the same ids and URLs on every member);
// membership changes answer UNIMPLEMENTED (not yet).
//
// Thread-safety: thread-safe (immutable state).
#ifndef REVKV_SERVER_CLUSTER_SERVICE_H_
#define REVKV_SERVER_CLUSTER_SERVICE_H_

#include "server/member.h"
#include "server/proto/rpc.grpc.pb.h"

namespace revkv::server {

class ClusterService final : public etcdserverpb::Cluster::Service {
 public:
  // Not owned; must outlive the service.
  explicit ClusterService(const Member* member) : member_(member) {}

  grpc::Status MemberList(grpc::ServerContext*, const etcdserverpb::MemberListRequest*,
                          etcdserverpb::MemberListResponse* resp) override {
    // etcd's cluster headers carry no revision.
    member_->Stamp(resp->mutable_header(), 0);
    if (member_->cluster != nullptr) {
      for (etcdserverpb::Member& m : member_->cluster->Members()) *resp->add_members() = std::move(m);
      return grpc::Status::OK;
    }
    etcdserverpb::Member* m = resp->add_members();
    m->set_id(member_->member_id);
    m->set_name(member_->name);
    for (const std::string& u : member_->client_urls) m->add_clienturls(u);
    return grpc::Status::OK;
  }

 private:
  const Member* member_;
};

}  // namespace revkv::server

#endif  // REVKV_SERVER_CLUSTER_SERVICE_H_
