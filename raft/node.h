// RaftNode: one revkv member on canonical raft's libuv I/O (raft/uv.h): the
// on-disk raft log and snapshots in `raft_dir`, the TCP transport on
// `address`, and the member's Fsm (fsm.h) applying committed entries to its
// DB -- all driven by one libuv loop on a thread the node owns.
//
// canonical raft is single-threaded: every raft_* call must run on the loop
// thread. Other threads reach it through Post (a mutex-protected task queue
// and a uv_async_t that wakes the loop); RunOnLoop posts and waits.
//
// The loop publishes the member's raft status (state, leader, term, last,
// commit and applied index) under the node's mutex after every task and
// every `status_interval` (a uv timer), so other threads can read it
// (status()) and wait for a condition on it (WaitFor) without polling.
//
// Start bootstraps the raft log with `initial_cluster` when the raft
// directory is pristine (raft_bootstrap refuses otherwise, which is how a
// restart keeps its log), then starts raft: at start raft restores its
// latest snapshot into the Fsm and replays the log past it (the Fsm skips
// what its DB already holds).
//
// Stop (and the destructor) refuses new tasks, runs those queued, waits
// (at most 5 s) for raft's log appends in flight -- raft 0.15 crashes when
// closed under them -- then closes raft, which fails the proposals it
// holds (leader-changed), answers the Fsm's awaited entries (stopped),
// closes the I/O, transport and handles, and joins the loop thread.
//
// Start sets SIGPIPE to ignored if the process left it at its default:
// raft's TCP transport writes with write(2), and a peer that goes away must
// be an error, not the end of the process.
//
// Lock order: stop_mu_ (Stop) before mu_. mu_ is a leaf: nothing of ours
// is called while it is held (tasks run after it is released); Post holds
// it across uv_async_send, which takes no lock of ours.
//
// Thread-safety: thread-safe, except that Start's Fsm belongs to the loop
// thread from Start to Stop (reach it through RunOnLoop).
#ifndef REVKV_RAFT_NODE_H_
#define REVKV_RAFT_NODE_H_

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "raft/c_raft.h"
#include "raft/fsm.h"
#include "util/mutex.h"

namespace revkv::cluster {

struct NodeOptions {
  uint64_t id = 0;       // > 0, unique in the cluster
  std::string address;   // "IP:port" this member listens on (IPv4)
  std::string raft_dir;  // raft's log and snapshots; must exist
  // Every voter (id, address), this member included: bootstraps a new
  // cluster's log. Empty: join or restart with the log in raft_dir.
  std::vector<std::pair<uint64_t, std::string>> initial_cluster;
  unsigned election_timeout_ms = 1000;
  unsigned heartbeat_timeout_ms = 100;
  unsigned snapshot_threshold = 1024;  // entries between snapshots
  unsigned snapshot_trailing = 128;    // entries kept after one
  std::chrono::milliseconds status_interval{10};
};

// The member's raft status as the loop last published it.
struct NodeStatus {
  int state = RAFT_UNAVAILABLE;  // RAFT_FOLLOWER, RAFT_CANDIDATE, RAFT_LEADER
  uint64_t leader_id = 0;        // 0: none known
  uint64_t term = 0;
  uint64_t last_index = 0;
  uint64_t commit_index = 0;
  uint64_t applied_index = 0;    // raft's last_applied
  bool stopped = false;
};

class RaftNode {
 public:
  // `fsm` is not owned; it must outlive the node.
  static absl::StatusOr<std::unique_ptr<RaftNode>> Start(const NodeOptions& options, Fsm* fsm);
  RaftNode(const RaftNode&) = delete;
  RaftNode& operator=(const RaftNode&) = delete;
  ~RaftNode() { Stop(); }

  // Closes raft and joins the loop thread. Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  // Queues `task` to run on the loop thread with the raft instance; false
  // (and `task` dropped unrun) once the node is stopping.
  bool Post(std::function<void(raft*)> task) ABSL_LOCKS_EXCLUDED(mu_);
  // Runs `fn` on the loop thread and waits for it; ErrStopped (server/
  // errors.h) once the node is stopping. Never from the loop thread (a
  // task): it would wait for itself.
  absl::Status RunOnLoop(const std::function<void(raft*)>& fn) ABSL_LOCKS_EXCLUDED(mu_);

  NodeStatus status() const ABSL_LOCKS_EXCLUDED(mu_);
  // Waits until `pred` holds for the published status (true), the status
  // is stopped, or `deadline` passes (false for both).
  bool WaitFor(const std::function<bool(const NodeStatus&)>& pred,
               std::chrono::steady_clock::time_point deadline) ABSL_LOCKS_EXCLUDED(mu_);

  uint64_t id() const { return id_; }
  // The loop, for objects that live on it (RaftProposer).
  uv_loop_t* loop() { return &loop_; }
  // The Fsm, for tasks on the loop thread only (RaftProposer awaits its
  // entries' results there).
  Fsm* fsm() { return fsm_; }

 private:
  explicit RaftNode(uint64_t id) : id_(id) {}
  static void OnAsync(uv_async_t* handle);
  static void OnTimer(uv_timer_t* handle);
  static void OnRaftClosed(raft* r);
  // On the loop thread:
  void RunTasks() ABSL_LOCKS_EXCLUDED(mu_);
  void Publish() ABSL_LOCKS_EXCLUDED(mu_);
  // Closes raft once its log appends are done (or after 5 s).
  void MaybeClose() ABSL_LOCKS_EXCLUDED(mu_);
  void BeginClose() ABSL_LOCKS_EXCLUDED(mu_);
  // Frees raft's I/O and transport, once the loop has returned.
  void ReleaseIo();

  const uint64_t id_;
  Fsm* fsm_ = nullptr;
  // The loop thread's alone once it runs (set up before it starts).
  uv_loop_t loop_{};
  uv_async_t async_{};
  uv_timer_t timer_{};
  raft_io io_{};
  raft_uv_transport transport_{};
  raft raft_{};
  bool closing_ = false;        // the loop thread's
  bool stop_seen_ = false;      // the loop thread's: Stop asked, draining
  uint64_t drain_deadline_ms_ = 0;  // the loop thread's (uv_now)
  std::thread thread_;

  mutable util::Mutex mu_;
  util::CondVar changed_;  // status_ published, or a RunOnLoop task done
  std::deque<std::function<void(raft*)>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  NodeStatus status_ ABSL_GUARDED_BY(mu_);
  // Stop's caller joins; one at a time.
  util::Mutex stop_mu_ ABSL_ACQUIRED_BEFORE(mu_);
};

}  // namespace revkv::cluster

#endif  // REVKV_RAFT_NODE_H_
