// LeaseExpirer: the server's loop that turns expired leases into revokes.
// Every `interval` (or at once after Kick) it asks the DB's lessor for the
// leases whose expiry passed (lessor.ExpiredLeases, the lessor's own
// monotonic clock) and proposes a LeaseRevoke entry for each, like any
// client write: the applier revokes, so every member of a future Raft
// group deletes the same keys at the same revision, and time alone never
// changes a member's state. A revoke that finds the lease gone (a client
// revoked it first) is fine; one that fails otherwise is retried when the
// lessor reports the lease again (its retry interval).
//
// At most kBatch leases are revoked per pass (etcd rate-limits revokes the
// same way), so a mass expiry cannot monopolise the proposer.
//
// Thread-safety: thread-safe. Start once; Stop (idempotent) waits for the
// pass in progress and must be called before the lessor or the proposer
// go (the destructor calls it).
#ifndef REVKV_SERVER_LEASE_EXPIRER_H_
#define REVKV_SERVER_LEASE_EXPIRER_H_

#include <chrono>
#include <cstdint>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "lease/lessor.h"
#include "server/proposer.h"
#include "util/mutex.h"

namespace revkv::server {

class LeaseExpirer {
 public:
  static constexpr size_t kBatch = 500;

  // Neither owned; both must outlive the expirer (or its Stop).
  LeaseExpirer(lease::Lessor* lessor, Proposer* proposer, std::chrono::milliseconds interval)
      : lessor_(lessor), proposer_(proposer), interval_(interval) {}
  ~LeaseExpirer() { Stop(); }
  LeaseExpirer(const LeaseExpirer&) = delete;
  LeaseExpirer& operator=(const LeaseExpirer&) = delete;

  void Start() ABSL_LOCKS_EXCLUDED(mu_);
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);
  // Runs a pass now instead of at the next interval (tests moving a fake
  // clock need not wait for the tick).
  void Kick() ABSL_LOCKS_EXCLUDED(mu_);

  // Revokes this expirer's proposals applied so far.
  uint64_t revoked() const ABSL_LOCKS_EXCLUDED(mu_);
  // Waits until revoked() >= n or `timeout` passed; whether it got there.
  bool WaitRevoked(uint64_t n, std::chrono::milliseconds timeout) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Loop() ABSL_LOCKS_EXCLUDED(mu_);
  // Proposes the revokes of one batch; returns how many applied.
  uint64_t Pass();

  lease::Lessor* const lessor_;
  Proposer* const proposer_;
  const std::chrono::milliseconds interval_;

  mutable util::Mutex mu_;
  util::CondVar changed_;  // kicked, stopping, or revoked_ moved
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool kicked_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t revoked_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;  // written by Start, joined by Stop (one caller each)
};

}  // namespace revkv::server

#endif  // REVKV_SERVER_LEASE_EXPIRER_H_
