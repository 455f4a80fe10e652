// Forwarder: a cluster member's write path and linearizable-read wait,
// wherever the leader is.
//
// Propose (server::Proposer): on the leader, the entry goes to raft here
// (RaftProposer). On a follower it is forwarded to the leader's
// revkvpb.Internal/Propose (ProposeAsync: ProposeBatch, with the writes
// that queued while at most kForwardsInFlight earlier batches were in
// flight -- one call for many, and the leader's proposer appends them as
// one raft batch), at the first client URL the leader published
// (server/member_store.h); the leader answers the apply result and the
// entry's index, and the follower answers its client once its own DB has
// applied that index (so a serializable read after the write sees it, as
// in etcd). Retries, until `timeout` after the call: while no leader is
// known (waiting for one), when the leader refuses with not-leader (it
// proposed nothing), or when its address is unknown or unreachable before
// the request is sent. A failure after the request may have been sent is
// ambiguous and answered as etcd does: leader-changed (or timeout at the
// deadline); the entry may still commit. No second hop: a member asked to
// propose while it does not lead answers not-leader.
//
// ReadBarrier (for server::ClusterView): the leader's ReadIndex::Confirm
// (here, or through revkvpb.Internal/ReadIndex on the leader), then a wait
// until this member has applied the index it returned. Always safe to
// retry (nothing is written).
//
// Errors (server/errors.h): no-leader (none elected within the timeout),
// timeout, leader-changed, stopped, and whatever the entry's apply
// answered.
//
// LeaseRenew / LeaseTimeToLive (for server::ClusterView): a follower's
// keep-alive and time-to-live, answered by the leader's lessor (the
// primary: the only one tracking expiry) through revkvpb.Internal, or by
// `lessor` here once this member leads and its lessor is primary. Safe to
// retry, as a read barrier is.
//
// Calls to the leader go through a PeerTransport (peer_transport.h).
//
// Thread-safety: thread-safe. mu_ is a leaf.
#ifndef REVKV_RAFT_FORWARDER_H_
#define REVKV_RAFT_FORWARDER_H_

#include <chrono>
#include <deque>
#include <thread>
#include <utility>
#include <vector>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "lease/lessor.h"
#include "raft/applied_index.h"
#include "raft/node.h"
#include "raft/peer_transport.h"
#include "raft/proposer.h"
#include "raft/read_index.h"
#include "server/proposer.h"
#include "server/proto/raft_internal.grpc.pb.h"
#include "util/mutex.h"

namespace revkv::cluster {

struct ForwarderOptions {
  uint64_t self = 0;
  // Not owned; must outlive the forwarder.
  PeerTransport* transport = nullptr;
  // etcd's request timeout: 5 s plus two election timeouts.
  std::chrono::milliseconds timeout{7000};
  // A forwarded batch's requests hold at most this many bytes (one
  // request at least): the leader takes the call within its request limit.
  size_t max_batch_bytes = 1 << 20;
};

class Forwarder : public server::Proposer {
 public:
  // None owned; all must outlive the forwarder.
  Forwarder(RaftNode* node, RaftProposer* local, ReadIndex* read_index, AppliedIndex* applied,
            ForwarderOptions options)
      : node_(node),
        local_(local),
        read_index_(read_index),
        applied_(applied),
        options_(std::move(options)) {}

  absl::StatusOr<server::ApplyResult> Propose(revkvpb::InternalRequest req) override;
  // Propose's answer without holding the caller's thread where it need not:
  // on the leader through RaftProposer::ProposeAsync, on a follower through
  // the transport's ProposeAsync and then AppliedIndex::WhenAtLeast. What
  // Propose would retry (no leader known, not-leader, the leader not
  // connected) is queued for a few retry threads running Propose (at most
  // kRetryThreads: an election must not start a thread per call in
  // flight); the destructor lets them finish the queue. `done` runs on the
  // raft loop, gRPC's or a retry thread.
  void ProposeAsync(revkvpb::InternalRequest req, Done done) override ABSL_LOCKS_EXCLUDED(mu_);
  bool answers_async() const override { return true; }
  // Waits until the retry threads have answered everything queued.
  ~Forwarder() override ABSL_LOCKS_EXCLUDED(mu_);
  static constexpr int kRetryThreads = 8;
  uint64_t last_index() const override { return node_->status().last_index; }

  absl::Status ReadBarrier();
  absl::StatusOr<int64_t> LeaseRenew(int64_t id, lease::Lessor* lessor);
  absl::StatusOr<etcdserverpb::LeaseTimeToLiveResponse> LeaseTimeToLive(
      const etcdserverpb::LeaseTimeToLiveRequest& req, lease::Lessor* lessor);

  // Proposals this member forwarded to another (tests check followers do),
  // and the ProposeBatch calls that carried ProposeAsync's.
  uint64_t forwarded() const ABSL_LOCKS_EXCLUDED(mu_);
  uint64_t forward_batches() const ABSL_LOCKS_EXCLUDED(mu_);
  static constexpr int kForwardsInFlight = 2;
  static constexpr int kMaxForwardBatch = 256;

 private:
  using Clock = std::chrono::steady_clock;
  // Waits (bounded by `deadline`) for a leader other than `not_this`
  // (0: any); the leader known then (0: none).
  uint64_t AwaitLeader(uint64_t not_this, Clock::time_point deadline);
  // Calls ask(leader, deadline) on whoever leads, again while it fails
  // with an error `retry` accepts (then it waits for another leader, or
  // for this one a step), until `deadline`.
  template <typename Ask, typename Retry>
  auto AskLeader(Clock::time_point deadline, Ask ask, Retry retry)
      -> decltype(ask(uint64_t{}, deadline));
  // ProposeAsync's slow path: queued for a retry thread's Propose.
  void ProposeOnThread(revkvpb::InternalRequest req, Done done) ABSL_LOCKS_EXCLUDED(mu_);
  // A retry thread: answers the queue until it is empty and the
  // forwarder is being destroyed.
  void RetryLoop() ABSL_LOCKS_EXCLUDED(mu_);
  // Queues a follower's write for the leader; sends a batch if fewer than
  // kForwardsInFlight are in flight.
  void Forward(revkvpb::InternalRequest req, Done done) ABSL_LOCKS_EXCLUDED(mu_);
  // Holding one in-flight slot: sends what is queued as one batch (the
  // slot is freed once the queue is empty), and again when it is answered.
  void SendForwards() ABSL_LOCKS_EXCLUDED(mu_);
  // A follower's forwarded proposal, once the transport answered.
  void Forwarded(CallOutcome sent, revkvpb::InternalRequest req, revkvpb::ForwardResponse resp,
                 Done done);

  RaftNode* const node_;
  RaftProposer* const local_;
  ReadIndex* const read_index_;
  AppliedIndex* const applied_;
  const ForwarderOptions options_;

  mutable util::Mutex mu_;
  util::CondVar retry_cv_;  // work queued, or closing
  uint64_t forwarded_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<std::pair<revkvpb::InternalRequest, Done>> retries_ ABSL_GUARDED_BY(mu_);
  int idle_threads_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<std::pair<revkvpb::InternalRequest, Done>> forwards_ ABSL_GUARDED_BY(mu_);
  int forwards_in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t forward_batches_ ABSL_GUARDED_BY(mu_) = 0;
  bool closing_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;  // started under mu_, joined by the destructor
};

}  // namespace revkv::cluster

#endif  // REVKV_RAFT_FORWARDER_H_
