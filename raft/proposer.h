// RaftProposer: step 13's server::Proposer. Propose serializes the request
// (revkvpb.InternalRequest, refused past max_request_bytes as etcd refuses
// it), hands it to the member's loop thread (RaftNode::Post), which
// appends it to the replicated log with raft_apply; the caller is answered
// once the entry is committed by a majority and applied on this member
// (its ApplyResult, through Fsm::TakeResult).
//
// Errors, recognised by server::IsEtcdError (never by message):
//   "not-leader"      this member does not lead (etcd forwards; revkv's
//                     callers must go to the leader for now)
//   "leader-changed"  leadership was lost before the entry was applied here
//                     (it may still commit: etcd answers the same)
//   "stopped"         the node is stopping or stopped
//   request-too-large as LocalProposer
// Other raft failures are Internal, naming raft's error.
//
// Thread-safety: thread-safe (Propose from any number of threads). Each
// call's answer is handed over under that call's own mutex, a leaf; the
// proposer's mu_ guards only the id counter (a leaf too).
#ifndef REVKV_RAFT_PROPOSER_H_
#define REVKV_RAFT_PROPOSER_H_

#include <cstdint>
#include <functional>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "raft/fsm.h"
#include "raft/node.h"
#include "server/proposer.h"
#include "util/mutex.h"

namespace revkv::cluster {

class RaftProposer : public server::Proposer {
 public:
  // Neither `node` nor the Fsm it applies to is owned; the node must
  // outlive the proposer.
  RaftProposer(RaftNode* node, int64_t max_request_bytes)
      : node_(node), max_request_bytes_(max_request_bytes) {}

  absl::StatusOr<server::ApplyResult> Propose(revkvpb::InternalRequest req) override
      ABSL_LOCKS_EXCLUDED(mu_) {
    return Propose(std::move(req), nullptr);
  }
  // The same; `*index` (if not null) is set to the entry's raft index once
  // raft took it (0 if it did not).
  absl::StatusOr<server::ApplyResult> Propose(revkvpb::InternalRequest req, uint64_t* index)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Answers through `done`, on the loop thread (or on this one when the
  // proposal is refused before it reaches raft).
  void ProposeAsync(revkvpb::InternalRequest req, Done done) override ABSL_LOCKS_EXCLUDED(mu_);
  bool answers_async() const override { return true; }
  // The same, also answering the entry's raft index (0 if raft never took
  // it), as Propose(req, index) does.
  using DoneAt = absl::AnyInvocable<void(absl::StatusOr<server::ApplyResult>, uint64_t) &&>;
  void ProposeAsync(revkvpb::InternalRequest req, DoneAt done) ABSL_LOCKS_EXCLUDED(mu_);

  // A check run on the loop thread, on the leader, before a membership
  // change is appended (with raft's leader state at hand: is a learner in
  // sync?); an error answers the call instead. Set it before the first
  // Propose.
  using Check = std::function<absl::Status(raft*, const revkvpb::MemberChangeRequest&)>;
  void set_check(Check check) { check_ = std::move(check); }
  // The member's last log index as its loop last published it.
  uint64_t last_index() const override { return node_->status().last_index; }

 // One proposal in flight (proposer.cc).
  struct Call;

 private:
  // Hands `req` to the loop thread; an error if it never gets there.
  absl::Status Submit(const std::shared_ptr<Call>& call, revkvpb::InternalRequest req)
      ABSL_LOCKS_EXCLUDED(mu_);

  RaftNode* const node_;
  const int64_t max_request_bytes_;
  Check check_;
  util::Mutex mu_;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace revkv::cluster

#endif  // REVKV_RAFT_PROPOSER_H_
