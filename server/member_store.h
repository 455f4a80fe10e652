// MemberStore: the cluster's member table, kept in the backend's "members"
// bucket and changed only by the Applier, so every member holds the same
// table at the same log index:
//
//   member_attr    what a member published about itself (its name and
//                  client URLs, revkvpb.MemberAttrRequest): Publish
//   member_change  etcd's membership changes (revkvpb.MemberChangeRequest):
//                  SEED (the initial members, recorded once by the first
//                  leader), ADD (a voter or a learner), REMOVE, PROMOTE (a
//                  learner to a voter), UPDATE (peer URLs): Change, which
//                  refuses as etcd's membership checks do (member-exist,
//                  peer-url-exist, member-not-found, member-not-learner,
//                  too-many-learners: server/errors.h) -- deterministic,
//                  the same answer on every member.
//
// Keys: a member's id (8 bytes, big-endian) -> a serialized
// etcdserverpb.Member; "seeded" once SEED was applied; "removed" + id for
// each removed member (etcd's members_removed bucket: a removed id is
// never added again, and its late attribute publications are ignored).
// Before SEED (and on data directories older than it) only published
// members are listed; raft/cluster_member.h fills in the initial ones.
//
// Writes happen under the BatchTx lock, so a change joins the backend
// batch that also saves the entry's consistent index; replaying an entry
// after a crash writes the same values again. A snapshot carries the
// bucket, so a member restored from one lists the same members.
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
#include <set>

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
  // Loads the table again (the backend's file was replaced: a Raft
  // snapshot).
  absl::Status Reload() ABSL_LOCKS_EXCLUDED(mu_);

  // Records what member `attr.id()` published (its name and client URLs;
  // its peer URLs and role stay). Ignored for a removed member.
  absl::Status Publish(const revkvpb::MemberAttrRequest& attr) ABSL_LOCKS_EXCLUDED(mu_);
  // Applies a membership change (see the header); an etcd error refuses it
  // and changes nothing. Before SEED, every change but SEED is refused
  // (not-capable: the table does not know the initial members yet).
  absl::Status Change(const revkvpb::MemberChangeRequest& change) ABSL_LOCKS_EXCLUDED(mu_);

  // Member `id`, if listed.
  std::optional<etcdserverpb::Member> Get(uint64_t id) const ABSL_LOCKS_EXCLUDED(mu_);
  // Every member listed, by id.
  std::map<uint64_t, etcdserverpb::Member> All() const ABSL_LOCKS_EXCLUDED(mu_);
  bool seeded() const ABSL_LOCKS_EXCLUDED(mu_);
  bool removed(uint64_t id) const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  explicit MemberStore(backend::Backend* backend) : backend_(backend) {}
  // Why `change` is refused by the table as it is (OK: it is not).
  absl::Status Check(const revkvpb::MemberChangeRequest& change) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  backend::Backend* backend_;
  mutable util::Mutex mu_;
  std::map<uint64_t, etcdserverpb::Member> members_ ABSL_GUARDED_BY(mu_);
  std::set<uint64_t> removed_ ABSL_GUARDED_BY(mu_);
  bool seeded_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace revkv::server

#endif  // REVKV_SERVER_MEMBER_STORE_H_
