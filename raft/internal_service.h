// InternalService: revkvpb.Internal, what a member serves its peers on its
// client listener: Propose and ProposeBatch (a follower's forwarded
// writes, proposed here if this member leads -- not-leader otherwise,
// never forwarded again),
// ReadIndex (ReadIndex::Confirm on the leader), and a follower's lease
// keep-alive and time-to-live (LeaseRenew, LeaseTimeToLive: this member's
// lessor answers if it is primary, not-leader otherwise). The first two nudge the followers
// (ReadIndex::Nudge) before answering, since the caller then waits to
// apply what the leader committed. Errors travel in the
// response's StatusProto, payloads included; the gRPC status is OK
// whenever the call was answered.
//
// Thread-safety: thread-safe (gRPC's pool calls it).
#ifndef REVKV_RAFT_INTERNAL_SERVICE_H_
#define REVKV_RAFT_INTERNAL_SERVICE_H_

#include <atomic>
#include <chrono>
#include <memory>

#include "absl/synchronization/notification.h"
#include "raft/forward_proto.h"
#include "raft/proposer.h"
#include "raft/read_index.h"
#include "lease/errors.h"
#include "revkv/db.h"
#include "server/errors.h"
#include "server/lease_service.h"
#include "server/proto/raft_internal.grpc.pb.h"

namespace revkv::cluster {

class InternalService final
    : public revkvpb::Internal::WithCallbackMethod_Propose<
          revkvpb::Internal::WithCallbackMethod_ProposeBatch<revkvpb::Internal::Service>> {
 public:
  // None owned; all must outlive the service.
  InternalService(RaftProposer* proposer, cluster::ReadIndex* read_index, revkv::DB* db,
                  std::chrono::milliseconds timeout)
      : proposer_(proposer), read_index_(read_index), db_(db), timeout_(timeout) {}

  // A callback method: the call is finished from the proposal's answer, so
  // the followers' writes in flight hold no threads here.
  grpc::ServerUnaryReactor* Propose(grpc::CallbackServerContext* ctx,
                                    const revkvpb::InternalRequest* req,
                                    revkvpb::ForwardResponse* resp) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    proposer_->ProposeAsync(*req, [this, reactor, resp](absl::StatusOr<server::ApplyResult> r,
                                                        uint64_t index) {
      Answer(std::move(r), index, resp);
      reactor->Finish(grpc::Status::OK);
    });
    return reactor;
  }
  // The same, waiting for the answer (an in-process transport's call).
  void ProposeNow(const revkvpb::InternalRequest& req, revkvpb::ForwardResponse* resp) {
    uint64_t index = 0;
    absl::StatusOr<server::ApplyResult> r = proposer_->Propose(req, &index);
    Answer(std::move(r), index, resp);
  }

  // Every request proposed at once (the proposer appends what queues
  // together in one raft batch); finished when the last is answered.
  grpc::ServerUnaryReactor* ProposeBatch(grpc::CallbackServerContext* ctx,
                                         const revkvpb::ForwardBatch* req,
                                         revkvpb::ForwardBatchResponse* resp) override {
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    ProposeEach(*req, resp, [reactor] { reactor->Finish(grpc::Status::OK); });
    return reactor;
  }
  // The same, waiting for the answers (an in-process transport's call).
  void ProposeBatchNow(const revkvpb::ForwardBatch& req, revkvpb::ForwardBatchResponse* resp) {
    absl::Notification all;
    ProposeEach(req, resp, [&all] { all.Notify(); });
    all.WaitForNotification();
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

  grpc::Status LeaseRenew(grpc::ServerContext*, const revkvpb::LeaseRenewRequest* req,
                          revkvpb::LeaseRenewResponse* resp) override {
    absl::StatusOr<int64_t> ttl = db_->lessor()->Renew(req->id());
    if (ttl.ok()) {
      resp->set_ttl(*ttl);
    } else {
      StatusToProto(NotLeaderIfNotPrimary(ttl.status()), resp->mutable_error());
    }
    return grpc::Status::OK;
  }

  grpc::Status LeaseTimeToLive(grpc::ServerContext*,
                               const etcdserverpb::LeaseTimeToLiveRequest* req,
                               revkvpb::LeaseTimeToLiveForward* resp) override {
    absl::Status s = server::TimeToLiveFromLessor(db_->lessor(), *req, resp->mutable_response());
    if (!s.ok()) StatusToProto(NotLeaderIfNotPrimary(s), resp->mutable_error());
    return grpc::Status::OK;
  }

 private:
  // Proposes each request of `req`; `finish` runs once every answer is in
  // `resp` (one per request, in order). Answers may come on several
  // threads, each into its own element, which none adds or removes.
  template <typename Finish>
  void ProposeEach(const revkvpb::ForwardBatch& req, revkvpb::ForwardBatchResponse* resp,
                   Finish finish) {
    const int n = req.requests_size();
    if (n == 0) return finish();
    for (int i = 0; i < n; ++i) resp->add_responses();
    auto left = std::make_shared<std::atomic<int>>(n);
    for (int i = 0; i < n; ++i) {
      revkvpb::ForwardResponse* slot = resp->mutable_responses(i);
      proposer_->ProposeAsync(req.requests(i), [this, slot, left, finish](
                                                   absl::StatusOr<server::ApplyResult> r,
                                                   uint64_t index) mutable {
        Answer(std::move(r), index, slot);
        if (left->fetch_sub(1) == 1) finish();
      });
    }
  }
  void Answer(absl::StatusOr<server::ApplyResult> r, uint64_t index,
              revkvpb::ForwardResponse* resp) {
    // The caller waits until it has applied the entry itself: tell the
    // followers the commit index now (read_index.h).
    if (r.ok()) read_index_->Nudge();
    resp->set_index(index);
    ResultToProto(std::move(r), resp);
  }
  // A lessor that is not primary does not lead (yet, or any more): the
  // caller asks whoever leads next.
  static absl::Status NotLeaderIfNotPrimary(absl::Status s) {
    return lease::IsNotPrimary(s) ? server::ErrNotLeader() : s;
  }

  RaftProposer* const proposer_;
  cluster::ReadIndex* const read_index_;
  revkv::DB* const db_;
  const std::chrono::milliseconds timeout_;
};

}  // namespace revkv::cluster

#endif  // REVKV_RAFT_INTERNAL_SERVICE_H_
