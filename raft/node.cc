#include "raft/node.h"

#include <signal.h>

#include "absl/strings/str_cat.h"
#include "raft/install_snapshot_timeout.h"
#include "raft/leader_contact.h"
#include "raft/peer_liveness.h"
#include "server/errors.h"

namespace revkv::cluster {
namespace {

absl::Status RaftError(const char* what, int rv, const char* detail) {
  return absl::InternalError(
      absl::StrCat("raft: ", what, ": ", raft_strerror(rv), detail[0] ? ": " : "", detail));
}

}  // namespace

absl::StatusOr<std::unique_ptr<RaftNode>> RaftNode::Start(const NodeOptions& o, Fsm* fsm) {
  if (o.id == 0) return absl::InvalidArgumentError("raft: a member id must be positive");
  // libuv writes to peers with plain write(2): a peer that went away would
  // end the process with SIGPIPE. Ignored unless the process handles it.
  struct sigaction old {};
  if (::sigaction(SIGPIPE, nullptr, &old) == 0 && old.sa_handler == SIG_DFL) {
    ::signal(SIGPIPE, SIG_IGN);
  }
  std::unique_ptr<RaftNode> n(new RaftNode(o.id));
  n->fsm_ = fsm;
  if (int rv = uv_loop_init(&n->loop_); rv != 0) {
    return absl::InternalError(absl::StrCat("raft: uv_loop_init: ", uv_strerror(rv)));
  }
  n->async_.data = n.get();
  n->timer_.data = n.get();
  uv_async_init(&n->loop_, &n->async_, &RaftNode::OnAsync);
  uv_timer_init(&n->loop_, &n->timer_);

  // What failed after this point is undone by running the loop here until
  // the handles (and raft, once initialised) are closed.
  bool io_ready = false, raft_ready = false;
  absl::Status s;
  if (int rv = raft_uv_tcp_init(&n->transport_, &n->loop_); rv != 0) {
    s = RaftError("raft_uv_tcp_init", rv, n->transport_.errmsg);
  } else if (rv = raft_uv_init(&n->io_, &n->loop_, o.raft_dir.c_str(), &n->transport_);
             rv != 0) {
    s = RaftError("raft_uv_init", rv, n->io_.errmsg);
    raft_uv_tcp_close(&n->transport_);
  } else {
    io_ready = true;
    // A vote must not be lost to a peer that restarted (peer_liveness.h).
    WatchPeerConnections(&n->transport_);
    ResendFailedVotes(&n->io_);
    CloseCallbackOnce(&n->io_);
    if (rv = raft_init(&n->raft_, &n->io_, fsm->fsm(), o.id, o.address.c_str()); rv != 0) {
      s = RaftError("raft_init", rv, n->raft_.errmsg);
    } else {
      raft_ready = true;
      n->raft_.data = n.get();  // OnRaftClosed finds the node by it
    }
  }
  if (s.ok()) {
    fsm->Attach(&n->raft_);
    if (!o.initial_cluster.empty()) {
      raft_configuration conf;
      raft_configuration_init(&conf);
      int rv = 0;
      for (const auto& [id, address] : o.initial_cluster) {
        if (rv == 0) rv = raft_configuration_add(&conf, id, address.c_str(), RAFT_VOTER);
      }
      if (rv == 0) rv = raft_bootstrap(&n->raft_, &conf);
      raft_configuration_close(&conf);
      // CANTBOOTSTRAP: the directory holds a log already (a restart).
      if (rv != 0 && rv != RAFT_CANTBOOTSTRAP) s = RaftError("raft_bootstrap", rv, n->raft_.errmsg);
    }
  }
  if (s.ok()) {
    raft_set_election_timeout(&n->raft_, o.election_timeout_ms);
    raft_set_heartbeat_timeout(&n->raft_, o.heartbeat_timeout_ms);
    // Not raft's 30 s: a follower that dropped the leader's snapshot waits
    // this long for it again (install_snapshot_timeout.h). The Fsm raises
    // it with the size of each snapshot it takes or restores, the first at
    // raft_start.
    raft_set_install_snapshot_timeout(&n->raft_, InstallSnapshotTimeoutMs(o.election_timeout_ms, 0));
    raft_set_snapshot_threshold(&n->raft_, o.snapshot_threshold);
    raft_set_snapshot_trailing(&n->raft_, o.snapshot_trailing);
    if (int rv = raft_start(&n->raft_); rv != 0) s = RaftError("raft_start", rv, n->raft_.errmsg);
  }
  if (!s.ok()) {
    if (raft_ready) {
      raft_close(&n->raft_, &RaftNode::OnRaftClosed);  // closes io, transport, handles
    } else {
      if (io_ready) {
        raft_uv_close(&n->io_);
        raft_uv_tcp_close(&n->transport_);
      }
      uv_close(reinterpret_cast<uv_handle_t*>(&n->async_), nullptr);
      uv_close(reinterpret_cast<uv_handle_t*>(&n->timer_), nullptr);
    }
    uv_run(&n->loop_, UV_RUN_DEFAULT);
    if (raft_ready) n->ReleaseIo();
    uv_loop_close(&n->loop_);
    {
      util::MutexLock l(n->mu_);
      n->stopping_ = true;
    }
    return s;
  }
  const uint64_t interval = uint64_t(o.status_interval.count());
  uv_timer_start(&n->timer_, &RaftNode::OnTimer, interval, interval > 0 ? interval : 10);
  n->Publish();
  // The thread starts after every set-up write: it sees them all.
  n->thread_ = std::thread([raw = n.get()] { uv_run(&raw->loop_, UV_RUN_DEFAULT); });
  return n;
}

void RaftNode::Stop() {
  util::MutexLock stop(stop_mu_);
  {
    util::MutexLock l(mu_);
    stopping_ = true;
  }
  if (!thread_.joinable()) return;
  uv_async_send(&async_);  // the loop runs what is queued, then closes
  thread_.join();
  ReleaseIo();
  uv_loop_close(&loop_);
  util::MutexLock l(mu_);
  status_.stopped = true;
  status_.state = RAFT_UNAVAILABLE;
  changed_.NotifyAll();
}

bool RaftNode::Post(std::function<void(raft*)> task) {
  util::MutexLock l(mu_);
  if (stopping_) return false;
  tasks_.push_back(std::move(task));
  // libuv's one thread-safe call; several coalesce into one callback that
  // runs every task queued before it. Sent under mu_: once Stop has set
  // stopping_ no Post sends, so none reaches a handle the loop has closed.
  uv_async_send(&async_);
  return true;
}

absl::Status RaftNode::RunOnLoop(const std::function<void(raft*)>& fn) {
  bool done = false;  // under mu_
  const bool posted = Post([this, &fn, &done](raft* r) {
    fn(r);
    util::MutexLock l(mu_);
    done = true;
    changed_.NotifyAll();
  });
  if (!posted) return server::ErrStopped();
  util::MutexLock l(mu_);
  // Every task accepted runs before the loop closes (RunTasks).
  while (!done) changed_.Wait(mu_);
  return absl::OkStatus();
}

NodeStatus RaftNode::status() const {
  util::MutexLock l(mu_);
  return status_;
}

bool RaftNode::WaitFor(const std::function<bool(const NodeStatus&)>& pred,
                       std::chrono::steady_clock::time_point deadline) {
  util::MutexLock l(mu_);
  for (;;) {
    if (pred(status_)) return true;
    if (status_.stopped) return false;
    if (changed_.WaitUntil(mu_, deadline) == std::cv_status::timeout) return pred(status_);
  }
}

void RaftNode::OnAsync(uv_async_t* handle) {
  static_cast<RaftNode*>(handle->data)->RunTasks();
}

void RaftNode::OnTimer(uv_timer_t* handle) {
  RaftNode* n = static_cast<RaftNode*>(handle->data);
  if (!n->closing_) ForgetSilentLeader(&n->raft_);
  n->Publish();
  if (n->stop_seen_) n->MaybeClose();
}

void RaftNode::RunTasks() {
  std::deque<std::function<void(raft*)>> tasks;
  bool stopping;
  {
    util::MutexLock l(mu_);
    tasks.swap(tasks_);
    stopping = stopping_;
  }
  for (auto& t : tasks) t(&raft_);
  Publish();
  if (stopping) {
    stop_seen_ = true;
    MaybeClose();
  }
}

void RaftNode::MaybeClose() {
  if (closing_) return;
  const uint64_t now = uv_now(&loop_);
  if (drain_deadline_ms_ == 0) drain_deadline_ms_ = now + 5000;
  // raft 0.15 crashes when closed with log appends in flight (their
  // cancelled callbacks truncate the log, then release entries it no
  // longer holds: a NULL dereference in its reference table). No proposal
  // is accepted any more, so wait (the status timer comes back) until the
  // log is stored, for a bounded time.
  if (raft_.last_stored < raft_last_index(&raft_) && now < drain_deadline_ms_) return;
  BeginClose();
}

void RaftNode::Publish() {
  if (closing_) return;
  NodeStatus s;
  s.state = raft_state(&raft_);
  raft_id leader = 0;
  const char* address = nullptr;
  raft_leader(&raft_, &leader, &address);
  s.leader_id = leader;
  s.term = raft_.current_term;
  s.last_index = raft_last_index(&raft_);
  s.commit_index = raft_.commit_index;
  s.applied_index = raft_last_applied(&raft_);
  util::MutexLock l(mu_);
  status_ = s;
  changed_.NotifyAll();
}

void RaftNode::BeginClose() {
  if (closing_) return;
  closing_ = true;
  uv_timer_stop(&timer_);
  // Fails the proposals raft holds (their callbacks run), closes its I/O.
  raft_close(&raft_, &RaftNode::OnRaftClosed);
}

void RaftNode::ReleaseIo() {
  raft_uv_close(&io_);
  raft_uv_tcp_close(&transport_);
}

void RaftNode::OnRaftClosed(raft* r) {
  RaftNode* n = static_cast<RaftNode*>(r->data);
  // Not raft_uv_close here, as raft's example does: raft's I/O may report
  // itself closed a second time, after this callback (peer_liveness.h,
  // CloseCallbackOnce). ReleaseIo frees it once the loop has run out of
  // callbacks.
  // raft failed the requests it held; entries the proposer awaits past a
  // batch's first are ours to answer (fsm.h).
  n->fsm_->AbandonAwaited(server::ErrStopped());
  uv_close(reinterpret_cast<uv_handle_t*>(&n->async_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&n->timer_), nullptr);
}

}  // namespace revkv::cluster
