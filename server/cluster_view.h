// ClusterView: what a replicated member tells the server's services about
// its cluster -- the members (MemberList), its raft status (endpoint
// status, the raft term in every header), the linearizable-read wait and
// the leader's lessor, membership changes --
// without the server knowing Raft (raft/cluster_member.h implements it).
// A single-member server has none: it is its own leader, at term 2, and
// every read it serves is linearizable as is.
//
// Thread-safety: implementations are thread-safe.
#ifndef REVKV_SERVER_CLUSTER_VIEW_H_
#define REVKV_SERVER_CLUSTER_VIEW_H_

#include <cstdint>
#include <vector>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/proto/rpc.pb.h"

namespace revkv::server {

struct RaftView {
  uint64_t leader = 0;  // member id; 0: none known
  uint64_t term = 0;
  uint64_t index = 0;    // the last log index
  uint64_t applied = 0;  // the last index applied to the DB
};

class ClusterView {
 public:
  virtual ~ClusterView() = default;
  // Every member: id, name, peer URLs, and the client URLs it published.
  virtual std::vector<etcdserverpb::Member> Members() const = 0;
  virtual RaftView Raft() const = 0;
  // Returns once this member has applied at least the leader's commit
  // index as of the call (a linearizable read may then read its DB), or
  // an etcd error (no leader, timeout, stopped).
  virtual absl::Status ReadBarrier() = 0;
  // A keep-alive and a time-to-live answered by the leader's lessor, for a
  // member whose own is not primary (it does not lead): etcd's follower
  // forwards both. Errors: the leader's lessor's (lease not found), or
  // ReadBarrier's.
  virtual absl::StatusOr<int64_t> LeaderRenew(int64_t id) = 0;
  virtual absl::StatusOr<etcdserverpb::LeaseTimeToLiveResponse> LeaderTimeToLive(
      const etcdserverpb::LeaseTimeToLiveRequest& req) = 0;

  // Membership changes, through the log (etcd's Cluster service): each
  // answers once this member has applied the change, or an etcd error
  // (server/errors.h). AddMember answers the new member.
  virtual absl::StatusOr<etcdserverpb::Member> AddMember(const std::vector<std::string>& peer_urls,
                                                         bool is_learner) = 0;
  virtual absl::Status RemoveMember(uint64_t id) = 0;
  virtual absl::Status PromoteMember(uint64_t id) = 0;
  virtual absl::Status UpdateMember(uint64_t id, const std::vector<std::string>& peer_urls) = 0;
  // Hands leadership to voter `target` (etcd's MoveLeader): not-leader on
  // a follower, bad-leader-transferee for a learner or an unknown id.
  virtual absl::Status MoveLeader(uint64_t target) = 0;
};

}  // namespace revkv::server

#endif  // REVKV_SERVER_CLUSTER_VIEW_H_
