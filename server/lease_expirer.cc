#include "server/lease_expirer.h"

#include <vector>

#include "lease/errors.h"
#include "server/proto/raft_internal.pb.h"

namespace revkv::server {

void LeaseExpirer::Start() {
  util::MutexLock l(mu_);
  if (started_ || stopping_) return;
  started_ = true;
  thread_ = std::thread([this] { Loop(); });
}

void LeaseExpirer::Stop() {
  {
    util::MutexLock l(mu_);
    if (stopping_) return;
    stopping_ = true;
    changed_.NotifyAll();
  }
  if (thread_.joinable()) thread_.join();
}

void LeaseExpirer::Kick() {
  util::MutexLock l(mu_);
  kicked_ = true;
  changed_.NotifyAll();
}

uint64_t LeaseExpirer::revoked() const {
  util::MutexLock l(mu_);
  return revoked_;
}

bool LeaseExpirer::WaitRevoked(uint64_t n, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  util::MutexLock l(mu_);
  while (revoked_ < n) {
    if (changed_.WaitUntil(mu_, deadline) == std::cv_status::timeout) return revoked_ >= n;
  }
  return true;
}

void LeaseExpirer::Loop() {
  for (;;) {
    {
      util::MutexLock l(mu_);
      if (!kicked_ && !stopping_) {
        // A steady deadline: a wall-clock step neither skips nor repeats a
        // pass.
        changed_.WaitUntil(mu_, std::chrono::steady_clock::now() + interval_);
      }
      if (stopping_) return;
      kicked_ = false;
    }
    // Without mu_: the proposals wait for the proposer and the store.
    const uint64_t n = Pass();
    if (n > 0) {
      util::MutexLock l(mu_);
      revoked_ += n;
      changed_.NotifyAll();
    }
  }
}

uint64_t LeaseExpirer::Pass() {
  uint64_t n = 0;
  for (lease::LeaseId id : lessor_->ExpiredLeases(kBatch)) {
    revkvpb::InternalRequest req;
    req.mutable_lease_revoke()->set_id(id);
    // Not found: revoked by a client in between. Any other failure (the
    // store failing, closing) leaves the lease to be reported again.
    if (proposer_->Propose(std::move(req)).ok()) n++;
  }
  return n;
}

}  // namespace revkv::server
