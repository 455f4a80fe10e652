// ClusterService: etcd's etcdserverpb.Cluster. MemberList lists a single
// member alone (its client URLs; it has no peers), a cluster member every
// member of its ClusterView (the same ids, URLs and learner flags on every
// member). MemberAdd, MemberRemove, MemberUpdate and MemberPromote go to
// the ClusterView (through the log) and answer with the members as this
// member then lists them; a single member answers UNIMPLEMENTED.
//
// Thread-safety: thread-safe (immutable state).
#ifndef REVKV_SERVER_CLUSTER_SERVICE_H_
#define REVKV_SERVER_CLUSTER_SERVICE_H_

#include <string>
#include <vector>

#include "server/grpc_status.h"
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
      ListInto(resp->mutable_members());
      return grpc::Status::OK;
    }
    etcdserverpb::Member* m = resp->add_members();
    m->set_id(member_->member_id);
    m->set_name(member_->name);
    for (const std::string& u : member_->client_urls) m->add_clienturls(u);
    return grpc::Status::OK;
  }

  grpc::Status MemberAdd(grpc::ServerContext*, const etcdserverpb::MemberAddRequest* req,
                         etcdserverpb::MemberAddResponse* resp) override {
    if (member_->cluster == nullptr) return NotClustered();
    absl::StatusOr<etcdserverpb::Member> added = member_->cluster->AddMember(
        std::vector<std::string>(req->peerurls().begin(), req->peerurls().end()),
        req->islearner());
    if (!added.ok()) return ToGrpcStatus(added.status());
    *resp->mutable_member() = *added;
    return Answer(resp);
  }

  grpc::Status MemberRemove(grpc::ServerContext*, const etcdserverpb::MemberRemoveRequest* req,
                            etcdserverpb::MemberRemoveResponse* resp) override {
    if (member_->cluster == nullptr) return NotClustered();
    if (absl::Status s = member_->cluster->RemoveMember(req->id()); !s.ok()) return ToGrpcStatus(s);
    return Answer(resp);
  }

  grpc::Status MemberUpdate(grpc::ServerContext*, const etcdserverpb::MemberUpdateRequest* req,
                            etcdserverpb::MemberUpdateResponse* resp) override {
    if (member_->cluster == nullptr) return NotClustered();
    absl::Status s = member_->cluster->UpdateMember(
        req->id(), std::vector<std::string>(req->peerurls().begin(), req->peerurls().end()));
    if (!s.ok()) return ToGrpcStatus(s);
    return Answer(resp);
  }

  grpc::Status MemberPromote(grpc::ServerContext*, const etcdserverpb::MemberPromoteRequest* req,
                             etcdserverpb::MemberPromoteResponse* resp) override {
    if (member_->cluster == nullptr) return NotClustered();
    if (absl::Status s = member_->cluster->PromoteMember(req->id()); !s.ok()) return ToGrpcStatus(s);
    return Answer(resp);
  }

 private:
  static grpc::Status NotClustered() {
    return grpc::Status(grpc::UNIMPLEMENTED,
                        "revkv: membership changes need a cluster member (--initial-cluster)");
  }

  template <typename Members>
  void ListInto(Members* out) const {
    for (etcdserverpb::Member& m : member_->cluster->Members()) *out->Add() = std::move(m);
  }

  template <typename Response>
  grpc::Status Answer(Response* resp) const {
    member_->Stamp(resp->mutable_header(), 0);
    ListInto(resp->mutable_members());
    return grpc::Status::OK;
  }

  const Member* member_;
};

}  // namespace revkv::server

#endif  // REVKV_SERVER_CLUSTER_SERVICE_H_
