#include "lease/lessor.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "backend/batch_tx.h"

namespace revkv::lease {
namespace {

// now + d, saturating at TimePoint::max(): a TTL near kMaxLeaseTTL (in
// nanoseconds, close to INT64_MAX) must not wrap into the past.
Clock::TimePoint Plus(Clock::TimePoint now, std::chrono::nanoseconds d) {
  if (d.count() <= 0) return now;
  const auto room = Clock::TimePoint::max() - now;
  if (d >= room) return Clock::TimePoint::max();
  return now + d;
}

std::chrono::nanoseconds Seconds(int64_t s) {
  // Saturates: a TTL past INT64_MAX nanoseconds expires at max().
  if (s > std::chrono::nanoseconds::max().count() / 1'000'000'000) {
    return std::chrono::nanoseconds::max();
  }
  return std::chrono::seconds(s);
}

constexpr size_t kRestorePage = 1000;

// Debian's Abseil has its own string_view, which the hash containers'
// heterogeneous lookup takes.
absl::string_view AV(std::string_view s) { return absl::string_view(s.data(), s.size()); }

}  // namespace

Clock* SystemClock() {
  class Steady : public Clock {
   public:
    TimePoint Now() override { return std::chrono::steady_clock::now(); }
  };
  static Steady* clock = new Steady();
  return clock;
}

Lessor::Lessor(mvcc::Store* store, const LessorOptions& options)
    : store_(store),
      options_([&] {
        LessorOptions o = options;
        // A zero interval would re-report a lease at the time it is
        // reported: ExpiredLeases would never finish.
        o.retry_interval = std::max(o.retry_interval, std::chrono::nanoseconds(1));
        return o;
      }()),
      clock_(options.clock != nullptr ? options.clock : SystemClock()) {}

absl::StatusOr<std::unique_ptr<Lessor>> Lessor::Open(mvcc::Store* store,
                                                     const LessorOptions& options) {
  std::unique_ptr<Lessor> l(new Lessor(store, options));
  if (absl::Status s = l->Restore(); !s.ok()) return s;
  store->SetLeaseHook(l.get());
  return l;
}

Lessor::~Lessor() { store_->SetLeaseHook(nullptr); }

absl::Status Lessor::Restore() {
  Loaded loaded;
  if (absl::Status s = Load(&loaded); !s.ok()) return s;
  bucket_exists_ = loaded.bucket_exists;  // (nothing else runs at open)
  if (loaded.orphans > 0) {
    open_notes_.push_back(absl::StrCat(loaded.orphans,
                                       " key(s) name a lease that no longer exists; ",
                                       "they stay, attached to no lease"));
  }
  util::MutexLock l(mu_);
  InstallLocked(std::move(loaded));
  return absl::OkStatus();
}

absl::Status Lessor::Reload() {
  Loaded loaded;
  if (absl::Status s = Load(&loaded); !s.ok()) return s;
  backend::BatchTx& tx = store_->backend()->batch_tx();
  tx.Lock();
  bucket_exists_ = loaded.bucket_exists;
  tx.Unlock();
  util::MutexLock l(mu_);
  leases_.clear();
  key_lease_.clear();
  expiry_queue_.clear();
  InstallLocked(std::move(loaded));
  // As Promote does, without extension: the new data's leases from now.
  if (primary_) ArmAllLocked(clock_->Now());
  // A Renew waiting on a lease of the old data gives up.
  demotions_++;
  changed_.NotifyAll();
  return absl::OkStatus();
}

absl::Status Lessor::Load(Loaded* out) {
  std::vector<LeaseRecord>& records = out->records;
  {
    absl::StatusOr<std::unique_ptr<backend::ConcurrentReadTx>> view =
        store_->backend()->NewConcurrentReadTx();
    if (!view.ok()) return view.status();
    bool any = false;
    absl::Status s = (*view)->UnsafeForEach(
        kLeaseBucket, [&](std::string_view k, std::string_view v) -> absl::Status {
          any = true;
          LeaseRecord r;
          if (absl::Status d = DecodeLeaseRecord(k, v, &r); !d.ok()) return d;
          records.push_back(r);
          return absl::OkStatus();
        });
    // No bucket: a store that never had a lease.
    if (!s.ok() && !(absl::IsNotFound(s) && !any)) return s;
    // Without records, Grant makes sure of the bucket (creating is a no-op
    // for one that exists).
    out->bucket_exists = any;
  }
  if (records.empty()) return absl::OkStatus();
  absl::flat_hash_set<LeaseId> ids;
  for (const LeaseRecord& r : records) ids.insert(r.id);
  // Keys find their leases again from their records' lease field (etcd's
  // store restore does this after the lessor restored its leases). Read
  // before mu_ is taken: it stays a leaf.
  absl::StatusOr<std::unique_ptr<mvcc::TxnRead>> txn = store_->Read();
  if (!txn.ok()) return txn.status();
  std::string from;
  for (;;) {
    mvcc::RangeOptions o;
    o.limit = int64_t(kRestorePage);
    absl::StatusOr<mvcc::RangeResult> r = (*txn)->Range(from, std::string_view("\0", 1), o);
    if (!r.ok()) return r.status();
    if (r->kvs.size() == kRestorePage) from = r->kvs.back().key + '\0';  // before the moves
    for (mvcc::KeyValue& kv : r->kvs) {
      if (kv.lease == kNoLease) continue;
      if (!ids.contains(kv.lease)) {
        out->orphans++;
        continue;
      }
      out->attached.emplace_back(std::move(kv.key), kv.lease);
    }
    if (r->kvs.size() < kRestorePage) break;
  }
  return absl::OkStatus();
}

void Lessor::InstallLocked(Loaded loaded) {
  for (const LeaseRecord& r : loaded.records) {
    Lease& lease = leases_[r.id];
    lease.ttl = std::max(r.ttl, options_.min_ttl);
    lease.remaining_ttl = r.remaining_ttl;
    lease.serial = ++next_serial_;
  }
  for (auto& [key, id] : loaded.attached) {
    leases_[id].keys.insert(key);
    key_lease_[std::move(key)] = id;
  }
  attached_.store(key_lease_.size(), std::memory_order_relaxed);
}

absl::StatusOr<LeaseStatus> Lessor::Grant(LeaseId id, int64_t ttl) {
  if (id == kNoLease) return ErrLeaseNotFound();
  if (ttl > kMaxLeaseTTL) return ErrLeaseTTLTooLarge();
  ttl = std::max(ttl, options_.min_ttl);
  // The BatchTx lock, then mu_ (the order a write transaction takes them
  // in): the record and the map change together, and no other Grant or
  // Revoke (which hold the same lock) comes between the check and the
  // insert.
  backend::BatchTx& tx = store_->backend()->batch_tx();
  tx.Lock();
  absl::StatusOr<LeaseStatus> result = [&]() -> absl::StatusOr<LeaseStatus> {
    {
      util::MutexLock l(mu_);
      if (leases_.contains(id)) return ErrLeaseExists();
    }
    if (!bucket_exists_) {
      if (absl::Status s = tx.UnsafeCreateBucket(kLeaseBucket); !s.ok()) return s;
      bucket_exists_ = true;
    }
    if (absl::Status s =
            tx.UnsafePut(kLeaseBucket, EncodeLeaseKey(id), EncodeLeaseRecord({id, ttl, 0}));
        !s.ok()) {
      return s;
    }
    util::MutexLock l(mu_);
    Lease& lease = leases_[id];
    lease.ttl = ttl;
    lease.serial = ++next_serial_;
    const TimePoint now = clock_->Now();
    if (primary_) {
      lease.expiry = Plus(now, Seconds(ttl));
      Queue(id, lease, lease.expiry);
    }
    return StatusOf(id, lease, false, now);
  }();
  tx.Unlock();
  return result;
}

absl::StatusOr<int64_t> Lessor::Revoke(LeaseId id) {
  absl::StatusOr<std::unique_ptr<mvcc::TxnWrite>> w = store_->Write();
  if (!w.ok()) return w.status();
  mvcc::TxnWrite& txn = **w;
  std::vector<std::string> keys;
  {
    util::MutexLock l(mu_);
    auto it = leases_.find(id);
    if (it == leases_.end()) return ErrLeaseNotFound();
    keys.assign(it->second.keys.begin(), it->second.keys.end());
  }
  // In key order, as etcd deletes them: the events of the revision are the
  // same on every replica.
  std::sort(keys.begin(), keys.end());
  for (const std::string& k : keys) {
    if (absl::StatusOr<int64_t> n = txn.DeleteRange(k, ""); !n.ok()) return n.status();
  }
  // The transaction holds the BatchTx lock: this delete joins its batch.
  if (absl::Status s =
          store_->backend()->batch_tx().UnsafeDelete(kLeaseBucket, EncodeLeaseKey(id));
      !s.ok()) {
    return s;
  }
  {
    util::MutexLock l(mu_);
    auto it = leases_.find(id);
    Unqueue(id, it->second);
    leases_.erase(it);
    changed_.NotifyAll();
  }
  if (absl::Status s = txn.End(); !s.ok()) return s;
  return txn.Rev();
}

absl::StatusOr<int64_t> Lessor::Renew(LeaseId id) {
  util::MutexLock l(mu_);
  if (!primary_) return ErrNotPrimary();
  auto it = leases_.find(id);
  if (it == leases_.end()) return ErrLeaseNotFound();
  const TimePoint now = clock_->Now();
  if (it->second.expiry <= now) {
    // Expired, its revoke maybe on its way through the log: renewing now
    // would answer a TTL for keys about to go.
    const uint64_t serial = it->second.serial;
    const uint64_t demotions = demotions_;
    for (;;) {
      changed_.Wait(mu_);
      if (demotions_ != demotions) return ErrNotPrimary();
      it = leases_.find(id);
      if (it == leases_.end() || it->second.serial != serial) return ErrLeaseNotFound();
    }
  }
  Lease& lease = it->second;
  lease.remaining_ttl = 0;
  lease.expiry = Plus(now, Seconds(lease.ttl));
  Queue(id, lease, lease.expiry);
  return lease.ttl;
}

absl::StatusOr<LeaseStatus> Lessor::TimeToLive(LeaseId id, bool with_keys) {
  util::MutexLock l(mu_);
  auto it = leases_.find(id);
  if (it == leases_.end()) return ErrLeaseNotFound();
  return StatusOf(id, it->second, with_keys, clock_->Now());
}

std::vector<LeaseId> Lessor::Leases() {
  std::vector<LeaseId> ids;
  {
    util::MutexLock l(mu_);
    ids.reserve(leases_.size());
    for (const auto& [id, lease] : leases_) ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

LeaseId Lessor::GetLease(std::string_view key) {
  util::MutexLock l(mu_);
  auto it = key_lease_.find(AV(key));
  return it == key_lease_.end() ? kNoLease : it->second;
}

std::vector<LeaseId> Lessor::ExpiredLeases(size_t limit) {
  std::vector<LeaseId> out;
  util::MutexLock l(mu_);
  if (!primary_) return out;
  const TimePoint now = clock_->Now();
  const TimePoint again = Plus(now, options_.retry_interval);
  while (out.size() < limit && !expiry_queue_.empty() && expiry_queue_.begin()->first <= now) {
    const LeaseId id = expiry_queue_.begin()->second;
    Queue(id, leases_.at(id), again);
    out.push_back(id);
  }
  return out;
}

void Lessor::Promote(std::chrono::nanoseconds extend) {
  util::MutexLock l(mu_);
  if (closed_) return;
  primary_ = true;
  ArmAllLocked(Plus(clock_->Now(), extend));
}

void Lessor::ArmAllLocked(TimePoint start) {
  for (auto& [id, lease] : leases_) {
    const int64_t ttl = lease.remaining_ttl > 0 ? lease.remaining_ttl : lease.ttl;
    lease.expiry = Plus(start, Seconds(ttl));
    Queue(id, lease, lease.expiry);
  }
}

void Lessor::Demote() {
  util::MutexLock l(mu_);
  primary_ = false;
  for (auto& [id, lease] : leases_) {
    lease.expiry = TimePoint::max();
    lease.queued = TimePoint::max();
  }
  expiry_queue_.clear();
  demotions_++;
  changed_.NotifyAll();
}

void Lessor::Close() {
  Demote();
  util::MutexLock l(mu_);
  closed_ = true;
}

absl::Status Lessor::CheckPut(int64_t lease) {
  if (lease == kNoLease) return absl::OkStatus();
  util::MutexLock l(mu_);
  return leases_.contains(lease) ? absl::OkStatus() : ErrLeaseNotFound();
}

void Lessor::OnPut(std::string_view key, int64_t lease) {
  if (lease == kNoLease && attached_.load(std::memory_order_relaxed) == 0) return;
  util::MutexLock l(mu_);
  Detach(key);
  if (lease == kNoLease) return;
  // CheckPut found it in this write transaction, and only a write
  // transaction (Revoke's) removes a lease.
  auto it = leases_.find(lease);
  if (it == leases_.end()) return;
  it->second.keys.emplace(std::string(key));
  key_lease_.emplace(std::string(key), lease);
  attached_.store(key_lease_.size(), std::memory_order_relaxed);
}

void Lessor::OnDelete(std::string_view key) {
  if (attached_.load(std::memory_order_relaxed) == 0) return;
  util::MutexLock l(mu_);
  Detach(key);
}

void Lessor::Detach(std::string_view key) {
  auto it = key_lease_.find(AV(key));
  if (it == key_lease_.end()) return;
  auto lease = leases_.find(it->second);
  if (lease != leases_.end()) lease->second.keys.erase(AV(key));
  key_lease_.erase(it);
  attached_.store(key_lease_.size(), std::memory_order_relaxed);
}

void Lessor::Queue(LeaseId id, Lease& l, TimePoint when) {
  Unqueue(id, l);
  if (when == TimePoint::max()) return;  // never due
  l.queued = when;
  expiry_queue_.emplace(when, id);
}

void Lessor::Unqueue(LeaseId id, Lease& l) {
  if (l.queued != TimePoint::max()) expiry_queue_.erase({l.queued, id});
  l.queued = TimePoint::max();
}

LeaseStatus Lessor::StatusOf(LeaseId id, const Lease& l, bool with_keys, TimePoint now) {
  LeaseStatus st;
  st.id = id;
  st.granted_ttl = l.ttl;
  st.remaining = l.expiry == TimePoint::max() ? std::chrono::nanoseconds::max()
                                              : std::chrono::nanoseconds(l.expiry - now);
  if (with_keys) {
    st.keys.assign(l.keys.begin(), l.keys.end());
    std::sort(st.keys.begin(), st.keys.end());
  }
  return st;
}

}  // namespace revkv::lease
