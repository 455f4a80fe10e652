// AlarmStore: the alarms raised on this cluster (etcd 3.4's
// etcdserver/api/v3alarm AlarmStore), kept in the backend's "alarm" bucket
// in etcd's layout: one entry per alarm, the key a serialized
// etcdserverpb.AlarmMember, the value empty (interop/etcd copies the
// bucket as is).
//
// Only the Applier changes it, while applying an alarm entry: Activate and
// Deactivate write the bucket under the BatchTx lock, so the change joins
// the backend batch that also saves the entry's consistent index (the
// Applier raises it after), and a crash before that commit replays the
// entry, which is idempotent.
//
// Thread-safety: thread-safe. mu_ is a leaf taken inside the BatchTx lock
// (the order the lessor uses).
#ifndef REVKV_SERVER_ALARM_STORE_H_
#define REVKV_SERVER_ALARM_STORE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "backend/backend.h"
#include "server/proto/rpc.pb.h"
#include "util/mutex.h"

namespace revkv::server {

inline constexpr char kAlarmBucket[] = "alarm";

class AlarmStore {
 public:
  // Loads the alarms of `backend`'s "alarm" bucket (none when it does not
  // exist). An undecodable entry is DataLoss. `backend` is not owned.
  static absl::StatusOr<std::unique_ptr<AlarmStore>> Open(backend::Backend* backend);
  // Loads them again (the backend's file was replaced: a Raft snapshot).
  absl::Status Reload() ABSL_LOCKS_EXCLUDED(mu_);

  // Raises `type` for `member`; returns the alarm (the one already raised,
  // if it was: etcd answers it either way).
  absl::StatusOr<etcdserverpb::AlarmMember> Activate(uint64_t member,
                                                     etcdserverpb::AlarmType type);
  // Clears it; nullopt when it was not raised.
  absl::StatusOr<std::optional<etcdserverpb::AlarmMember>> Deactivate(
      uint64_t member, etcdserverpb::AlarmType type);
  // The alarms of `type` (NONE: all), ordered by type, then member.
  std::vector<etcdserverpb::AlarmMember> Get(etcdserverpb::AlarmType type) const;
  // Whether any member raised `type`.
  bool Has(etcdserverpb::AlarmType type) const;

 private:
  using Key = std::pair<int, uint64_t>;  // (type, member)
  explicit AlarmStore(backend::Backend* backend) : backend_(backend) {}

  backend::Backend* backend_;
  mutable util::Mutex mu_;
  std::set<Key> alarms_ ABSL_GUARDED_BY(mu_);
};

}  // namespace revkv::server

#endif  // REVKV_SERVER_ALARM_STORE_H_
