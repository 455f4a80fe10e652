#include "raft/forwarder.h"

#include <algorithm>
#include <memory>
#include <thread>
#include <utility>

#include "raft/forward_proto.h"
#include "lease/errors.h"
#include "server/errors.h"
#include "server/lease_service.h"

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

uint64_t Forwarder::forward_batches() const {
  util::MutexLock l(mu_);
  return forward_batches_;
}

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

Forwarder::~Forwarder() {
  std::vector<std::thread> threads;
  {
    util::MutexLock l(mu_);
    closing_ = true;
    retry_cv_.NotifyAll();
    threads.swap(threads_);
  }
  for (std::thread& t : threads) t.join();
  // Writes still queued for a batch that will not be sent.
  std::deque<std::pair<revkvpb::InternalRequest, Done>> left;
  {
    util::MutexLock l(mu_);
    left.swap(forwards_);
  }
  for (auto& [req, done] : left) std::move(done)(server::ErrStopped());
}

void Forwarder::ProposeAsync(revkvpb::InternalRequest req, Done done) {
  const NodeStatus status = node_->status();
  if (status.stopped) {
    std::move(done)(server::ErrStopped());
    return;
  }
  if (status.leader_id == options_.self) {
    // Kept for the retry: raft refuses a proposal at once if leadership
    // moved, having proposed nothing.
    auto again = std::make_shared<revkvpb::InternalRequest>(req);
    local_->ProposeAsync(std::move(req), [this, again, done = std::move(done)](
                                             absl::StatusOr<server::ApplyResult> r) mutable {
      if (r.ok() || !Retriable(r.status())) {
        std::move(done)(std::move(r));
      } else {
        ProposeOnThread(std::move(*again), std::move(done));
      }
    });
    return;
  }
  if (status.leader_id == 0) {
    ProposeOnThread(std::move(req), std::move(done));
    return;
  }
  Forward(std::move(req), std::move(done));
}

void Forwarder::Forward(revkvpb::InternalRequest req, Done done) {
  bool send;
  {
    util::MutexLock l(mu_);
    forwards_.emplace_back(std::move(req), std::move(done));
    send = forwards_in_flight_ < kForwardsInFlight;
    if (send) ++forwards_in_flight_;
  }
  if (send) SendForwards();
}

void Forwarder::SendForwards() {
  // The batch and its answers live here until the transport is done.
  struct Batch {
    revkvpb::ForwardBatch req;
    revkvpb::ForwardBatchResponse resp;
    std::vector<Done> done;
  };
  auto b = std::make_shared<Batch>();
  {
    util::MutexLock l(mu_);
    size_t bytes = 0;
    while (!forwards_.empty() && int(b->done.size()) < kMaxForwardBatch) {
      const size_t n = forwards_.front().first.ByteSizeLong();
      if (!b->done.empty() && bytes + n > options_.max_batch_bytes) break;
      bytes += n;
      *b->req.add_requests() = std::move(forwards_.front().first);
      b->done.push_back(std::move(forwards_.front().second));
      forwards_.pop_front();
    }
    if (b->done.empty()) {
      --forwards_in_flight_;  // nothing queued: the slot is free
      return;
    }
    ++forward_batches_;
  }
  const NodeStatus status = node_->status();
  if (status.stopped || status.leader_id == 0 || status.leader_id == options_.self) {
    // Leadership moved since these were queued: each goes the way
    // ProposeAsync sends it now.
    for (size_t i = 0; i < b->done.size(); ++i) {
      ProposeAsync(std::move(*b->req.mutable_requests(int(i))), std::move(b->done[i]));
    }
    return SendForwards();
  }
  options_.transport->ProposeBatchAsync(
      status.leader_id, b->req, Clock::now() + options_.timeout, &b->resp,
      [this, b](CallOutcome sent) {
        const int answered = b->resp.responses_size();
        for (size_t i = 0; i < b->done.size(); ++i) {
          revkvpb::ForwardResponse resp;
          CallOutcome outcome = sent;
          if (sent == CallOutcome::kAnswered) {
            if (int(i) < answered) {
              resp = std::move(*b->resp.mutable_responses(int(i)));
            } else {
              outcome = CallOutcome::kLost;  // a leader that answered short
            }
          }
          Forwarded(outcome, std::move(*b->req.mutable_requests(int(i))), std::move(resp),
                    std::move(b->done[i]));
        }
        SendForwards();
      });
}

void Forwarder::Forwarded(CallOutcome sent, revkvpb::InternalRequest req,
                          revkvpb::ForwardResponse resp, Done done) {
  if (sent == CallOutcome::kNotSent) {
    // Nothing reached the leader: Propose's loop finds one and connects.
    ProposeOnThread(std::move(req), std::move(done));
    return;
  }
  {
    util::MutexLock l(mu_);
    ++forwarded_;
  }
  // Sent, perhaps proposed: not safe to send again.
  if (sent == CallOutcome::kTimedOut) return std::move(done)(server::ErrTimeout());
  if (sent == CallOutcome::kLost) return std::move(done)(server::ErrLeaderChanged());
  absl::Status error = StatusFromProto(resp.error());
  if (Retriable(error)) {
    ProposeOnThread(std::move(req), std::move(done));
    return;
  }
  if (!error.ok()) return std::move(done)(ResultFromProto(std::move(resp)));
  // Answered once this member's DB holds the write, as Propose does.
  const uint64_t index = resp.index();
  auto answer = std::make_shared<revkvpb::ForwardResponse>(std::move(resp));
  applied_->WhenAtLeast(index, [answer, done = std::move(done)](bool reached) mutable {
    std::move(done)(reached ? ResultFromProto(std::move(*answer))
                            : absl::StatusOr<server::ApplyResult>(server::ErrStopped()));
  });
}

void Forwarder::ProposeOnThread(revkvpb::InternalRequest req, Done done) {
  util::MutexLock l(mu_);
  retries_.emplace_back(std::move(req), std::move(done));
  if (idle_threads_ > 0) {
    retry_cv_.NotifyOne();
  } else if (threads_.size() < size_t(kRetryThreads)) {
    threads_.emplace_back([this] { RetryLoop(); });
  }
}

void Forwarder::RetryLoop() {
  while (true) {
    std::pair<revkvpb::InternalRequest, Done> work;
    {
      util::MutexLock l(mu_);
      ++idle_threads_;
      while (retries_.empty() && !closing_) retry_cv_.Wait(mu_);
      --idle_threads_;
      if (retries_.empty()) return;  // closing, nothing left
      work = std::move(retries_.front());
      retries_.pop_front();
    }
    std::move(work.second)(Propose(std::move(work.first)));
  }
}

template <typename Ask, typename Retry>
auto Forwarder::AskLeader(Clock::time_point deadline, Ask ask, Retry retry)
    -> decltype(ask(uint64_t{}, deadline)) {
  absl::Status last = server::ErrNoLeader();
  while (Clock::now() < deadline) {
    const NodeStatus status = node_->status();
    if (status.stopped) return server::ErrStopped();
    const uint64_t leader = status.leader_id;
    if (leader == 0) {
      AwaitLeader(0, deadline);
      continue;
    }
    auto answer = ask(leader, deadline);
    if (answer.ok() || !retry(answer.status())) return answer;
    last = answer.status();
    // Not leader, leader changed, unreachable: ask whoever leads next.
    AwaitLeader(leader, deadline);
  }
  return server::IsEtcdError(last, "no-leader") ? last : server::ErrTimeout();
}

namespace {

// What a call that reached no member, or got no answer, says.
absl::Status Unanswered(CallOutcome sent) {
  switch (sent) {
    case CallOutcome::kTimedOut:
      return server::ErrTimeout();
    case CallOutcome::kNotSent:
      return server::ErrNoLeader();
    case CallOutcome::kLost:
    case CallOutcome::kAnswered:
      break;
  }
  return server::ErrLeaderChanged();
}

// The lease calls change nothing that a second try would change twice.
bool LeaderMoved(const absl::Status& s) {
  return server::IsEtcdError(s, "not-leader") || server::IsEtcdError(s, "no-leader") ||
         server::IsEtcdError(s, "leader-changed");
}

absl::Status NotLeaderIfNotPrimary(const absl::Status& s) {
  return lease::IsNotPrimary(s) ? server::ErrNotLeader() : s;
}

}  // namespace

absl::Status Forwarder::ReadBarrier() {
  const Clock::time_point deadline = Clock::now() + options_.timeout;
  absl::StatusOr<uint64_t> index = AskLeader(
      deadline,
      [&](uint64_t leader, Clock::time_point deadline) -> absl::StatusOr<uint64_t> {
        if (leader == options_.self) return read_index_->Confirm(deadline);
        revkvpb::ReadIndexResponse resp;
        const CallOutcome sent = options_.transport->ReadIndex(leader, deadline, &resp);
        if (sent != CallOutcome::kAnswered) return Unanswered(sent);
        if (absl::Status s = StatusFromProto(resp.error()); !s.ok()) return s;
        return resp.index();
      },
      [](const absl::Status& s) {
        return !server::IsEtcdError(s, "stopped") && !server::IsEtcdError(s, "timeout");
      });
  if (!index.ok()) return index.status();
  return applied_->WaitAtLeast(*index, deadline) ? absl::OkStatus() : server::ErrTimeout();
}

absl::StatusOr<int64_t> Forwarder::LeaseRenew(int64_t id, lease::Lessor* lessor) {
  return AskLeader(
      Clock::now() + options_.timeout,
      [&](uint64_t leader, Clock::time_point deadline) -> absl::StatusOr<int64_t> {
        if (leader == options_.self) {
          // Its lessor is promoted a moment after it wins (cluster_member.h).
          absl::StatusOr<int64_t> ttl = lessor->Renew(id);
          if (!ttl.ok()) return NotLeaderIfNotPrimary(ttl.status());
          return ttl;
        }
        revkvpb::LeaseRenewRequest req;
        req.set_id(id);
        revkvpb::LeaseRenewResponse resp;
        const CallOutcome sent = options_.transport->LeaseRenew(leader, req, deadline, &resp);
        if (sent != CallOutcome::kAnswered) return Unanswered(sent);
        if (absl::Status s = StatusFromProto(resp.error()); !s.ok()) return s;
        return resp.ttl();
      },
      LeaderMoved);
}

absl::StatusOr<etcdserverpb::LeaseTimeToLiveResponse> Forwarder::LeaseTimeToLive(
    const etcdserverpb::LeaseTimeToLiveRequest& req, lease::Lessor* lessor) {
  using Answer = absl::StatusOr<etcdserverpb::LeaseTimeToLiveResponse>;
  return AskLeader(
      Clock::now() + options_.timeout,
      [&](uint64_t leader, Clock::time_point deadline) -> Answer {
        if (leader == options_.self) {
          etcdserverpb::LeaseTimeToLiveResponse resp;
          absl::Status s = server::TimeToLiveFromLessor(lessor, req, &resp);
          if (!s.ok()) return NotLeaderIfNotPrimary(s);
          return resp;
        }
        revkvpb::LeaseTimeToLiveForward resp;
        const CallOutcome sent = options_.transport->LeaseTimeToLive(leader, req, deadline, &resp);
        if (sent != CallOutcome::kAnswered) return Unanswered(sent);
        if (absl::Status s = StatusFromProto(resp.error()); !s.ok()) return s;
        return std::move(*resp.mutable_response());
      },
      LeaderMoved);
}

}  // namespace revkv::cluster
