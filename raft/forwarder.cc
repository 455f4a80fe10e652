#include "raft/forwarder.h"

#include <algorithm>
#include <utility>

#include "raft/forward_proto.h"
#include "server/errors.h"

namespace revkv::cluster {
namespace {

// How long one wait for a new leader, or for a connection, may last
// before the loop looks again (each is bounded by the call's deadline).
constexpr std::chrono::milliseconds kStep(200);

bool Retriable(const absl::Status& s) {
  // Refused before anything was proposed.
  return server::IsEtcdError(s, "not-leader");
}

}  // namespace

uint64_t Forwarder::AwaitLeader(uint64_t not_this, Clock::time_point deadline) {
  uint64_t leader = 0;
  node_->WaitFor(
      [&](const NodeStatus& s) {
        leader = s.leader_id;
        return s.leader_id != 0 && s.leader_id != not_this;
      },
      std::min(deadline, Clock::now() + kStep));
  return leader;
}

uint64_t Forwarder::forwarded() const {
  util::MutexLock l(mu_);
  return forwarded_;
}

absl::StatusOr<server::ApplyResult> Forwarder::Propose(revkvpb::InternalRequest req) {
  const Clock::time_point deadline = Clock::now() + options_.timeout;
  absl::Status last = server::ErrNoLeader();
  while (Clock::now() < deadline) {
    const NodeStatus status = node_->status();
    if (status.stopped) return server::ErrStopped();
    const uint64_t leader = status.leader_id;
    if (leader == 0) {
      AwaitLeader(0, deadline);
      continue;
    }
    if (leader == options_.self) {
      absl::StatusOr<server::ApplyResult> r = local_->Propose(req, nullptr);
      if (r.ok() || !Retriable(r.status())) return r;
      last = r.status();
      AwaitLeader(options_.self, deadline);
      continue;
    }
    revkvpb::ForwardResponse resp;
    const CallOutcome sent = options_.transport->Propose(leader, req, deadline, &resp);
    if (sent == CallOutcome::kNotSent) {
      // Nothing sent: the leader's address is not known yet, or it does
      // not answer (it may be gone; a new leader may come).
      last = server::ErrNoLeader();
      AwaitLeader(leader, deadline);
      continue;
    }
    {
      util::MutexLock l(mu_);
      ++forwarded_;
    }
    // Sent, perhaps proposed: not safe to send again.
    if (sent == CallOutcome::kTimedOut) return server::ErrTimeout();
    if (sent == CallOutcome::kLost) return server::ErrLeaderChanged();
    absl::Status error = StatusFromProto(resp.error());
    if (Retriable(error)) {
      last = error;
      AwaitLeader(leader, deadline);
      continue;
    }
    if (error.ok() && !applied_->WaitAtLeast(resp.index(), deadline)) {
      return server::ErrTimeout();
    }
    return ResultFromProto(std::move(resp));
  }
  return server::IsEtcdError(last, "no-leader") ? last : server::ErrTimeout();
}

absl::Status Forwarder::ReadBarrier() {
  const Clock::time_point deadline = Clock::now() + options_.timeout;
  absl::Status last = server::ErrNoLeader();
  while (Clock::now() < deadline) {
    const NodeStatus status = node_->status();
    if (status.stopped) return server::ErrStopped();
    const uint64_t leader = status.leader_id;
    if (leader == 0) {
      AwaitLeader(0, deadline);
      continue;
    }
    absl::StatusOr<uint64_t> index = server::ErrNoLeader();
    if (leader == options_.self) {
      index = read_index_->Confirm(deadline);
    } else {
      revkvpb::ReadIndexResponse resp;
      switch (options_.transport->ReadIndex(leader, deadline, &resp)) {
        case CallOutcome::kAnswered:
          if (absl::Status s = StatusFromProto(resp.error()); !s.ok()) {
            index = s;
          } else {
            index = resp.index();
          }
          break;
        case CallOutcome::kTimedOut:
          index = server::ErrTimeout();
          break;
        case CallOutcome::kNotSent:
          index = server::ErrNoLeader();
          break;
        case CallOutcome::kLost:
          index = server::ErrLeaderChanged();
          break;
      }
    }
    if (index.ok()) {
      return applied_->WaitAtLeast(*index, deadline) ? absl::OkStatus() : server::ErrTimeout();
    }
    last = index.status();
    if (server::IsEtcdError(last, "stopped") || server::IsEtcdError(last, "timeout")) return last;
    // Not leader, leader changed, unreachable: ask whoever leads next.
    AwaitLeader(leader, deadline);
  }
  return server::IsEtcdError(last, "no-leader") ? last : server::ErrTimeout();
}

}  // namespace revkv::cluster
