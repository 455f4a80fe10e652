// Lessor: etcd 3.4's leases (lease/lessor.go) over an mvcc::Store.
//
// A lease has an id, a granted TTL in seconds and an expiry on the lessor's
// monotonic clock; keys are attached to it by the store's writes, not by
// calls here: a put naming lease L attaches the key to L (and detaches it
// from its previous lease), a delete detaches it, and a put naming a lease
// that does not exist is refused with ErrLeaseNotFound before anything is
// written (the lessor is the store's mvcc::LeaseHook, consulted inside the
// write transaction, so attachments and records never disagree).
//
// Revoke deletes every attached key in one write transaction (one
// revision, none if no key is attached) and removes the lease from the
// "lease" bucket in the same backend batch. Grant writes the bucket in one
// batch too. Neither is durable before the backend commits (DB::Sync).
//
// Time never changes state by itself: ExpiredLeases reports the leases
// whose expiry passed, and the caller (the server's proposer) proposes a
// revoke that its applier applies through Revoke, so replicas stay
// deterministic. A reported lease is reported again only after
// retry_interval, if it is still there.
//
// Primary: only the primary lessor (the leader) tracks expiry. Open
// restores every lease from the bucket without expiry, then DB makes the
// lessor primary with Promote, which gives each lease a full TTL from now
// (etcd's Promote on a new leader). Demote stops the clock again.
//
// Thread-safety: thread-safe. Lessor::mu_ is a leaf lock, taken inside the
// store's write_mu_ and BatchTx lock (mvcc/README.md).
#ifndef REVKV_LEASE_LESSOR_H_
#define REVKV_LEASE_LESSOR_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "lease/clock.h"
#include "lease/errors.h"
#include "lease/lease_record.h"
#include "mvcc/store.h"
#include "util/mutex.h"

namespace revkv::lease {

using LeaseId = int64_t;
inline constexpr LeaseId kNoLease = 0;
// etcd's MaxLeaseTTL, in seconds.
inline constexpr int64_t kMaxLeaseTTL = 9'000'000'000;
// etcd's default minimum: ceil(1.5 election timeouts) with its default
// 1000 ms election timeout and 100 ms heartbeat, in seconds.
inline constexpr int64_t kDefaultMinLeaseTTL = 2;

struct LessorOptions {
  // A TTL below it is raised to it, at grant and at restore.
  int64_t min_ttl = kDefaultMinLeaseTTL;
  // etcd's expiredLeaseRetryInterval.
  std::chrono::nanoseconds retry_interval = std::chrono::seconds(3);
  // Not owned; null: SystemClock(). Must outlive the lessor.
  Clock* clock = nullptr;
};

struct LeaseStatus {
  LeaseId id = kNoLease;
  int64_t granted_ttl = 0;  // seconds
  // Until expiry; negative once expired; nanoseconds::max() when the
  // lessor is not primary (no expiry is tracked).
  std::chrono::nanoseconds remaining{0};
  std::vector<std::string> keys;  // sorted; only when asked for

  // etcd's LeaseTimeToLiveResponse.TTL: whole seconds, truncated.
  int64_t RemainingSeconds() const {
    return std::chrono::duration_cast<std::chrono::seconds>(remaining).count();
  }
};

class Lessor : public mvcc::LeaseHook {
 public:
  // Restores the leases of `store`'s backend (the "lease" bucket) and
  // re-attaches every live key whose record names one; a key naming a
  // lease that is gone stays, unattached (etcd does the same), and is
  // counted in open_notes(). Installs itself as the store's lease hook.
  // A damaged record fails with DataLoss (IsBadLeaseRecord). The lessor
  // starts not primary. `store` must outlive it.
  static absl::StatusOr<std::unique_ptr<Lessor>> Open(mvcc::Store* store,
                                                      const LessorOptions& options = {});
  // Removes the hook. Every call must have returned: Close first wakes
  // the Renews that wait.
  ~Lessor() override;
  Lessor(const Lessor&) = delete;
  Lessor& operator=(const Lessor&) = delete;

  // Grants lease `id` (the server chooses an id for a request's 0). Errors:
  // ErrLeaseNotFound for id 0 (etcd's), ErrLeaseTTLTooLarge above
  // kMaxLeaseTTL, ErrLeaseExists. A TTL below the minimum is raised to it;
  // the answer says the TTL granted.
  absl::StatusOr<LeaseStatus> Grant(LeaseId id, int64_t ttl) ABSL_LOCKS_EXCLUDED(mu_);
  // Revokes `id`: see above. Returns the store's revision after it.
  // ErrLeaseNotFound if there is no such lease.
  absl::StatusOr<int64_t> Revoke(LeaseId id) ABSL_LOCKS_EXCLUDED(mu_);
  // KeepAlive: a full TTL from now; returns the TTL. ErrLeaseNotFound if
  // there is no such lease; ErrNotPrimary if not primary. A lease that has
  // expired but is not yet revoked is not renewed: as etcd's, the call
  // waits until it is revoked (then ErrLeaseNotFound) or the lessor is
  // demoted or closed (ErrNotPrimary).
  absl::StatusOr<int64_t> Renew(LeaseId id) ABSL_LOCKS_EXCLUDED(mu_);
  // TimeToLive / Lookup; keys only if `with_keys`. ErrLeaseNotFound.
  absl::StatusOr<LeaseStatus> TimeToLive(LeaseId id, bool with_keys) ABSL_LOCKS_EXCLUDED(mu_);
  // Every lease's id, ascending.
  std::vector<LeaseId> Leases() ABSL_LOCKS_EXCLUDED(mu_);
  // The lease `key` is attached to, or kNoLease.
  LeaseId GetLease(std::string_view key) ABSL_LOCKS_EXCLUDED(mu_);

  // Up to `limit` leases whose expiry has passed, earliest first (etcd's
  // expiredLeaseC batch; its revoke rate limits how many the caller asks
  // for). Empty when not primary.
  std::vector<LeaseId> ExpiredLeases(size_t limit) ABSL_LOCKS_EXCLUDED(mu_);

  // Becomes primary: every lease expires a full TTL (its checkpointed
  // remaining TTL if it has one) plus `extend` from now.
  void Promote(std::chrono::nanoseconds extend) ABSL_LOCKS_EXCLUDED(mu_);
  // Stops tracking expiry; waiting Renews fail with ErrNotPrimary.
  void Demote() ABSL_LOCKS_EXCLUDED(mu_);
  // Replaces every lease and key attachment with what the store holds now
  // (its data was replaced: mvcc::Store::Reload, which calls this with
  // writers held off). A primary lessor gives each lease its TTL from now;
  // a Renew waiting meanwhile gives up.
  absl::Status Reload() ABSL_LOCKS_EXCLUDED(mu_);
  // Demotes for good: Promote no longer promotes. The DB calls it before
  // closing the store. Idempotent.
  void Close() ABSL_LOCKS_EXCLUDED(mu_);

  // What Open found and worked around, one line each (the library never
  // prints). Set by Open, unchanged after.
  const std::vector<std::string>& open_notes() const { return open_notes_; }

  // mvcc::LeaseHook: called inside the store's write transactions.
  absl::Status CheckPut(int64_t lease) override ABSL_LOCKS_EXCLUDED(mu_);
  void OnPut(std::string_view key, int64_t lease) override ABSL_LOCKS_EXCLUDED(mu_);
  void OnDelete(std::string_view key) override ABSL_LOCKS_EXCLUDED(mu_);

 private:
  using TimePoint = Clock::TimePoint;
  struct Lease {
    int64_t ttl = 0;
    int64_t remaining_ttl = 0;  // etcd's checkpoint; used once, by Promote
    TimePoint expiry = TimePoint::max();  // max: not tracked (not primary)
    TimePoint queued = TimePoint::max();  // its place in expiry_queue_
    uint64_t serial = 0;  // tells a re-grant of the id from the lease a Renew waits on
    absl::flat_hash_set<std::string> keys;
  };

  Lessor(mvcc::Store* store, const LessorOptions& options);
  // What the store holds of the leases: the lease bucket's records, and the
  // keys that name one of them.
  struct Loaded {
    std::vector<LeaseRecord> records;
    std::vector<std::pair<std::string, LeaseId>> attached;
    int64_t orphans = 0;  // keys naming a lease that is not there
    bool bucket_exists = false;
  };
  absl::Status Load(Loaded* out) ABSL_LOCKS_EXCLUDED(mu_);
  void InstallLocked(Loaded loaded) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Restore();
  // Puts (or moves) `id`'s entry in the expiry queue to `when`: its expiry,
  // or, once reported, when to report it again.
  void Queue(LeaseId id, Lease& l, TimePoint when) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Unqueue(LeaseId id, Lease& l) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Gives every lease its checkpointed remaining TTL (else its TTL) from
  // `start`, and queues it (Promote, and Reload of a primary lessor).
  void ArmAllLocked(TimePoint start) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Detach(std::string_view key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  LeaseStatus StatusOf(LeaseId id, const Lease& l, bool with_keys, TimePoint now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mvcc::Store* const store_;
  const LessorOptions options_;
  Clock* const clock_;

  util::Mutex mu_;  // a leaf: see the header comment
  // Woken when a lease is revoked, or the lessor demoted or closed.
  util::CondVar changed_;
  absl::flat_hash_map<LeaseId, Lease> leases_ ABSL_GUARDED_BY(mu_);
  // key -> its lease (etcd's itemMap).
  absl::flat_hash_map<std::string, LeaseId> key_lease_ ABSL_GUARDED_BY(mu_);
  // (time to report, id), earliest first (etcd's LeaseExpiredNotifier).
  std::set<std::pair<TimePoint, LeaseId>> expiry_queue_ ABSL_GUARDED_BY(mu_);
  bool primary_ ABSL_GUARDED_BY(mu_) = false;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  // Bumped by Demote and close: a waiting Renew that sees it move gives up.
  uint64_t demotions_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t next_serial_ ABSL_GUARDED_BY(mu_) = 0;
  // key_lease_.size(), read without mu_ by the hook: it changes only inside
  // write transactions (and at Open), which the hook runs in, so a put or
  // delete with no lease skips mu_ when no key has one.
  std::atomic<size_t> attached_{0};
  // Whether the lease bucket exists; read and written with the BatchTx lock
  // held (Grant creates the bucket on first use, so a store without leases
  // keeps etcd's bucket set untouched).
  bool bucket_exists_ = false;
  std::vector<std::string> open_notes_;
};

}  // namespace revkv::lease

#endif  // REVKV_LEASE_LESSOR_H_
