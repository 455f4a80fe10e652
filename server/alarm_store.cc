#include "server/alarm_store.h"

#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"

namespace revkv::server {
namespace {

etcdserverpb::AlarmMember Member(uint64_t member, int type) {
  etcdserverpb::AlarmMember m;
  m.set_memberid(member);
  m.set_alarm(etcdserverpb::AlarmType(type));
  return m;
}

std::string BucketKey(const etcdserverpb::AlarmMember& m) {
  std::string k;
  m.SerializeToString(&k);
  return k;
}

}  // namespace

absl::StatusOr<std::unique_ptr<AlarmStore>> AlarmStore::Open(backend::Backend* backend) {
  std::unique_ptr<AlarmStore> a(new AlarmStore(backend));
  if (absl::Status s = a->Reload(); !s.ok()) return s;
  return a;
}

absl::Status AlarmStore::Reload() {
  absl::StatusOr<std::unique_ptr<backend::ConcurrentReadTx>> view = backend_->NewConcurrentReadTx();
  if (!view.ok()) return view.status();
  std::set<Key> loaded;
  bool any = false;
  absl::Status s = (*view)->UnsafeForEach(
      kAlarmBucket, [&](std::string_view k, std::string_view) -> absl::Status {
        any = true;
        etcdserverpb::AlarmMember m;
        if (!m.ParseFromArray(k.data(), int(k.size()))) {
          return absl::DataLossError(
              absl::StrCat("server: an entry of the alarm bucket does not decode (", k.size(),
                           " bytes)"));
        }
        loaded.insert({int(m.alarm()), m.memberid()});
        return absl::OkStatus();
      });
  // No bucket: a store that never raised an alarm.
  if (!s.ok() && !(absl::IsNotFound(s) && !any)) return s;
  util::MutexLock l(mu_);
  alarms_ = std::move(loaded);
  return absl::OkStatus();
}

absl::StatusOr<etcdserverpb::AlarmMember> AlarmStore::Activate(uint64_t member,
                                                               etcdserverpb::AlarmType type) {
  const etcdserverpb::AlarmMember m = Member(member, type);
  backend::BatchTx& tx = backend_->batch_tx();
  tx.Lock();
  absl::Status s = [&]() -> absl::Status {
    {
      util::MutexLock l(mu_);
      if (alarms_.contains({int(type), member})) return absl::OkStatus();
    }
    if (absl::Status c = tx.UnsafeCreateBucket(kAlarmBucket); !c.ok()) return c;
    if (absl::Status p = tx.UnsafePut(kAlarmBucket, BucketKey(m), ""); !p.ok()) return p;
    util::MutexLock l(mu_);
    alarms_.insert({int(type), member});
    return absl::OkStatus();
  }();
  tx.Unlock();
  if (!s.ok()) return s;
  return m;
}

absl::StatusOr<std::optional<etcdserverpb::AlarmMember>> AlarmStore::Deactivate(
    uint64_t member, etcdserverpb::AlarmType type) {
  const etcdserverpb::AlarmMember m = Member(member, type);
  backend::BatchTx& tx = backend_->batch_tx();
  tx.Lock();
  absl::StatusOr<bool> found = [&]() -> absl::StatusOr<bool> {
    {
      util::MutexLock l(mu_);
      if (!alarms_.contains({int(type), member})) return false;
    }
    // The bucket exists: the alarm was loaded from it or written to it.
    if (absl::Status d = tx.UnsafeDelete(kAlarmBucket, BucketKey(m)); !d.ok()) return d;
    util::MutexLock l(mu_);
    alarms_.erase({int(type), member});
    return true;
  }();
  tx.Unlock();
  if (!found.ok()) return found.status();
  if (!*found) return std::nullopt;
  return m;
}

std::vector<etcdserverpb::AlarmMember> AlarmStore::Get(etcdserverpb::AlarmType type) const {
  std::vector<etcdserverpb::AlarmMember> out;
  util::MutexLock l(mu_);
  for (const auto& [t, member] : alarms_) {
    if (type == etcdserverpb::NONE || t == int(type)) out.push_back(Member(member, t));
  }
  return out;
}

bool AlarmStore::Has(etcdserverpb::AlarmType type) const {
  util::MutexLock l(mu_);
  for (const auto& [t, member] : alarms_) {
    if (t == int(type)) return true;
  }
  return false;
}

}  // namespace revkv::server
