// MemberStore: what each cluster member published about itself (its name
// and client URLs, revkvpb.MemberAttrRequest), kept in the backend's
// "members" bucket: the key the member id (8 bytes, big-endian), the value
// a serialized etcdserverpb.Member (id, name, client URLs; peer URLs come
// from the initial cluster, which every member is given alike).
//
// Only the Applier changes it, while applying a member_attr entry: Publish
// writes the bucket under the BatchTx lock, so the change joins the
// backend batch that also saves the entry's consistent index; replaying
// the entry after a crash writes the same value again. A snapshot carries
// the bucket, so a member restored from one lists the same members.
//
// Thread-safety: thread-safe. mu_ is a leaf taken inside the BatchTx lock
// (as AlarmStore::mu_), and alone by readers.
#ifndef REVKV_SERVER_MEMBER_STORE_H_
#define REVKV_SERVER_MEMBER_STORE_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "backend/backend.h"
#include "server/proto/raft_internal.pb.h"
#include "server/proto/rpc.pb.h"
#include "util/mutex.h"

namespace revkv::server {

inline constexpr char kMemberBucket[] = "members";

class MemberStore {
 public:
  // Loads the bucket of `backend` (empty when it does not exist); an
  // undecodable entry is DataLoss. `backend` is not owned.
  static absl::StatusOr<std::unique_ptr<MemberStore>> Open(backend::Backend* backend);

  // Records what member `attr.id()` published (replacing what it had).
  absl::Status Publish(const revkvpb::MemberAttrRequest& attr) ABSL_LOCKS_EXCLUDED(mu_);
  // What member `id` published, if it did.
  std::optional<etcdserverpb::Member> Get(uint64_t id) const ABSL_LOCKS_EXCLUDED(mu_);
  // Every member that published, by id.
  std::map<uint64_t, etcdserverpb::Member> All() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  explicit MemberStore(backend::Backend* backend) : backend_(backend) {}

  backend::Backend* backend_;
  mutable util::Mutex mu_;
  std::map<uint64_t, etcdserverpb::Member> members_ ABSL_GUARDED_BY(mu_);
};

}  // namespace revkv::server

#endif  // REVKV_SERVER_MEMBER_STORE_H_
