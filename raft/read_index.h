// ReadIndex: the leader's half of a linearizable read (etcd's
// linearizableReadLoop, done with canonical raft's barrier). Confirm
// returns an index R such that the leader's commit index when Confirm was
// called is covered: every command entry committed by then is at or below
// R, and this member has applied up to R. A member that applied R may
// answer the read from its DB.
//
// How: a barrier entry (raft_barrier) appended after the call. Its
// callback runs once it is committed -- in this leader's term, so a
// majority still followed this leader after the call -- and applied, with
// every entry before it. R is the Fsm's applied index at that moment
// (barriers are not commands: a follower's Fsm never counts them, so the
// command index is what a follower can wait for).
//
// Shared: callers arriving while a barrier is in flight wait together for
// the next one, which starts when the one in flight ends (a barrier
// appended before a call does not cover it). So one barrier round serves
// every read that arrived during the previous round.
//
// Errors (server/errors.h): not-leader, leader-changed, stopped, timeout.
//
// Thread-safety: thread-safe. Lock order: mu_ before RaftNode::mu_ (Post
// runs under it); the barrier callback runs on the loop thread and takes
// mu_ (it holds no lock of the node's).
#ifndef REVKV_RAFT_READ_INDEX_H_
#define REVKV_RAFT_READ_INDEX_H_

#include <chrono>
#include <cstdint>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "raft/fsm.h"
#include "raft/node.h"
#include "util/mutex.h"

namespace revkv::cluster {

class ReadIndex {
 public:
  // Neither owned; both must outlive every Confirm. `fsm` is read on the
  // loop thread only. A round in flight longer than `stale_after` is given
  // up (its callers answered timeout) and the next one starts, so that a
  // barrier raft never answers cannot stop every later read.
  ReadIndex(RaftNode* node, Fsm* fsm,
            std::chrono::milliseconds stale_after = std::chrono::seconds(3))
      : node_(node), fsm_(fsm), stale_after_(stale_after) {}

  absl::StatusOr<uint64_t> Confirm(std::chrono::steady_clock::time_point deadline)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Makes sure a barrier round starts after this call, without waiting for
  // it. canonical raft tells followers the commit index only with its next
  // message (a heartbeat, up to two heartbeat intervals away); a barrier's
  // append goes out at once and carries it, so a follower waiting to apply
  // an entry the leader has committed gets it within a round trip.
  void Nudge() ABSL_LOCKS_EXCLUDED(mu_);
  // Barrier rounds started so far, and callers waiting in Confirm now
  // (tests check reads share rounds).
  uint64_t rounds() const ABSL_LOCKS_EXCLUDED(mu_);
  int waiting() const ABSL_LOCKS_EXCLUDED(mu_);
  // Rounds given up as stale.
  uint64_t abandoned() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Round;
  // The round a caller arriving now joins (next_, made if need be); starts
  // it if none is in flight.
  std::shared_ptr<Round> Join() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Moves next_ in flight and posts its barrier.
  void Launch() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // On the loop thread: a round ended with `result`.
  void Finish(const std::shared_ptr<Round>& round, absl::StatusOr<uint64_t> result)
      ABSL_LOCKS_EXCLUDED(mu_);
  static void OnBarrier(struct raft_barrier* req, int status);

  RaftNode* const node_;
  Fsm* const fsm_;
  const std::chrono::milliseconds stale_after_;
  mutable util::Mutex mu_;
  util::CondVar done_;  // a round ended
  std::shared_ptr<Round> in_flight_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<Round> next_ ABSL_GUARDED_BY(mu_);
  uint64_t rounds_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t abandoned_ ABSL_GUARDED_BY(mu_) = 0;
  int waiting_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace revkv::cluster

#endif  // REVKV_RAFT_READ_INDEX_H_
