// InternalService: revkvpb.Internal, what a member serves its peers on its
// client listener: Propose (a follower's forwarded write, proposed here
// if this member leads -- not-leader otherwise, never forwarded again) and
// ReadIndex (ReadIndex::Confirm on the leader). Both nudge the followers
// (ReadIndex::Nudge) before answering, since the caller then waits to
// apply what the leader committed. Errors travel in the
// response's StatusProto, payloads included; the gRPC status is OK
// whenever the call was answered.
//
// Thread-safety: thread-safe (gRPC's pool calls it).
#ifndef REVKV_RAFT_INTERNAL_SERVICE_H_
#define REVKV_RAFT_INTERNAL_SERVICE_H_

#include <chrono>

#include "raft/forward_proto.h"
#include "raft/proposer.h"
#include "raft/read_index.h"
#include "server/proto/raft_internal.grpc.pb.h"

namespace revkv::cluster {

class InternalService final : public revkvpb::Internal::Service {
 public:
  // Neither owned; both must outlive the service.
  InternalService(RaftProposer* proposer, cluster::ReadIndex* read_index, std::chrono::milliseconds timeout)
      : proposer_(proposer), read_index_(read_index), timeout_(timeout) {}

  grpc::Status Propose(grpc::ServerContext*, const revkvpb::InternalRequest* req,
                       revkvpb::ForwardResponse* resp) override {
    uint64_t index = 0;
    absl::StatusOr<server::ApplyResult> r = proposer_->Propose(*req, &index);
    // The caller waits until it has applied the entry itself: tell the
    // followers the commit index now (read_index.h).
    if (r.ok()) read_index_->Nudge();
    resp->set_index(index);
    ResultToProto(std::move(r), resp);
    return grpc::Status::OK;
  }

  grpc::Status ReadIndex(grpc::ServerContext*, const revkvpb::ReadIndexRequest*,
                         revkvpb::ReadIndexResponse* resp) override {
    absl::StatusOr<uint64_t> index =
        read_index_->Confirm(std::chrono::steady_clock::now() + timeout_);
    if (index.ok()) {
      resp->set_index(*index);
      read_index_->Nudge();
    } else {
      StatusToProto(index.status(), resp->mutable_error());
    }
    return grpc::Status::OK;
  }

 private:
  RaftProposer* const proposer_;
  cluster::ReadIndex* const read_index_;
  const std::chrono::milliseconds timeout_;
};

}  // namespace revkv::cluster

#endif  // REVKV_RAFT_INTERNAL_SERVICE_H_
