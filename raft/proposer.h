// RaftProposer: step 13's server::Proposer. Propose serializes the request
// (revkvpb.InternalRequest, refused past max_request_bytes as etcd refuses
// it) and queues it for the member's loop thread (RaftNode::Post). The
// loop takes every request queued by then and appends them with one
// raft_apply per batch (at most kMaxBatchEntries entries, kMaxBatchBytes
// bytes): one log write and one AppendEntries per follower for the batch
// instead of one per request. Each request is still its own log entry, so
// the log, the apply path and the consistent index are unchanged. raft
// 0.15 answers only a batch's first entry, so each entry's caller is
// answered by the Fsm when that entry is applied here (Fsm::Await), once
// it is committed by a majority. Membership changes go one per raft_apply,
// after the leader's check.
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
// proposer's mu_ guards the id counter and the queue (a leaf too).
#ifndef REVKV_RAFT_PROPOSER_H_
#define REVKV_RAFT_PROPOSER_H_

#include <cstdint>
#include <functional>
#include <atomic>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
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

  static constexpr size_t kMaxBatchEntries = 256;
  static constexpr size_t kMaxBatchBytes = 4 << 20;
  // Entries appended, and the loop's turns that appended any (their ratio
  // is the mean batch), for tests and the bench.
  uint64_t entries_appended() const { return entries_.load(std::memory_order_relaxed); }
  uint64_t drains() const { return batches_.load(std::memory_order_relaxed); }

 // One proposal in flight, and one batch raft holds (proposer.cc).
  struct Call;
  struct Batch;

 private:
  // Queues `req` for the loop thread; an error if it is refused before.
  absl::Status Submit(const std::shared_ptr<Call>& call, revkvpb::InternalRequest req)
      ABSL_LOCKS_EXCLUDED(mu_);
  // A membership change: its own raft_apply, after check_.
  absl::Status SubmitChange(const std::shared_ptr<Call>& call, revkvpb::MemberChangeRequest change);
  // On the loop thread: appends what is queued, batch by batch.
  void Drain(raft* r) ABSL_LOCKS_EXCLUDED(mu_);
  void AppendBatch(raft* r, absl::Span<const std::shared_ptr<Call>> calls);

  RaftNode* const node_;
  const int64_t max_request_bytes_;
  Check check_;
  util::Mutex mu_;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::shared_ptr<Call>> queue_ ABSL_GUARDED_BY(mu_);
  bool drain_posted_ ABSL_GUARDED_BY(mu_) = false;  // a Drain task is queued
  std::atomic<uint64_t> entries_{0};
  std::atomic<uint64_t> batches_{0};
};

}  // namespace revkv::cluster

#endif  // REVKV_RAFT_PROPOSER_H_
