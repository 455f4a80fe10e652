#include "raft/read_index.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "server/errors.h"
#include "util/status_payload.h"

namespace revkv::cluster {

struct ReadIndex::Round {
  struct raft_barrier req {};
  ReadIndex* owner = nullptr;
  std::chrono::steady_clock::time_point started;
  // Holds the round while raft holds `req` (the loop thread's).
  std::shared_ptr<Round> self;
  // Guarded by the owner's mu_.
  bool done = false;
  absl::StatusOr<uint64_t> result = absl::UnknownError("raft: read index unanswered");
};

namespace {

absl::Status BarrierError(int rv) {
  switch (rv) {
    case RAFT_NOTLEADER:
      return server::ErrNotLeader();
    case RAFT_LEADERSHIPLOST:
      return server::ErrLeaderChanged();
    case RAFT_SHUTDOWN:
      return server::ErrStopped();
    default:
      return absl::InternalError(absl::StrCat("raft: barrier: ", raft_strerror(rv)));
  }
}

}  // namespace

std::shared_ptr<ReadIndex::Round> ReadIndex::Join() {
  if (next_ == nullptr) {
    next_ = std::make_shared<Round>();
    next_->owner = this;
  }
  std::shared_ptr<Round> mine = next_;
  if (in_flight_ != nullptr && std::chrono::steady_clock::now() - in_flight_->started > stale_after_) {
    // raft has not answered it: its callers time out, the next round goes.
    in_flight_->done = true;
    in_flight_->result = server::ErrTimeout();
    in_flight_.reset();
    ++abandoned_;
    done_.NotifyAll();
  }
  if (in_flight_ == nullptr) Launch();
  return mine;
}

uint64_t ReadIndex::abandoned() const {
  util::MutexLock l(mu_);
  return abandoned_;
}

void ReadIndex::Nudge() {
  util::MutexLock l(mu_);
  Join();
}

absl::StatusOr<uint64_t> ReadIndex::Confirm(std::chrono::steady_clock::time_point deadline) {
  util::MutexLock l(mu_);
  std::shared_ptr<Round> mine = Join();
  ++waiting_;
  while (!mine->done) {
    if (done_.WaitUntil(mu_, deadline) == std::cv_status::timeout && !mine->done) {
      --waiting_;
      return server::ErrTimeout();
    }
  }
  --waiting_;
  // Every waiter of the round gets the result: an error is copied whole
  // (util::UnsharedCopy), a shared one would be freed by whichever waiter
  // is last, unseen by TSan.
  if (!mine->result.ok()) return util::UnsharedCopy(mine->result.status());
  return *mine->result;
}

int ReadIndex::waiting() const {
  util::MutexLock l(mu_);
  return waiting_;
}

uint64_t ReadIndex::rounds() const {
  util::MutexLock l(mu_);
  return rounds_;
}

void ReadIndex::Launch() {
  in_flight_ = std::move(next_);
  in_flight_->started = std::chrono::steady_clock::now();
  ++rounds_;
  std::shared_ptr<Round> round = in_flight_;
  const bool posted = node_->Post([this, round](raft* r) {
    if (raft_state(r) != RAFT_LEADER) {
      Finish(round, server::ErrNotLeader());
      return;
    }
    round->req.data = round.get();
    round->self = round;
    if (int rv = raft_barrier(r, &round->req, &ReadIndex::OnBarrier); rv != 0) {
      round->self.reset();
      Finish(round, BarrierError(rv));
    }
  });
  if (!posted) {
    in_flight_->done = true;
    in_flight_->result = server::ErrStopped();
    in_flight_.reset();
    done_.NotifyAll();
    // Waiters of next_ (none yet: it was just moved) would launch again.
  }
}

void ReadIndex::OnBarrier(struct raft_barrier* req, int status) {
  Round* round = static_cast<Round*>(req->data);
  std::shared_ptr<Round> keep = std::move(round->self);
  ReadIndex* owner = round->owner;
  // Every entry before the barrier is applied: the Fsm's index covers the
  // commands among them.
  owner->Finish(keep, status == 0 ? absl::StatusOr<uint64_t>(owner->fsm_->applied_index())
                                  : absl::StatusOr<uint64_t>(BarrierError(status)));
}

void ReadIndex::Finish(const std::shared_ptr<Round>& round, absl::StatusOr<uint64_t> result) {
  util::MutexLock l(mu_);
  if (!round->done) round->result = std::move(result);  // not abandoned
  round->done = true;
  if (in_flight_ == round) in_flight_.reset();
  // Reads that arrived meanwhile get a barrier of their own.
  if (in_flight_ == nullptr && next_ != nullptr) Launch();
  done_.NotifyAll();
}

}  // namespace revkv::cluster
