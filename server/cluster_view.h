// ClusterView: what a replicated member tells the server's services about
// its cluster -- the members (MemberList), its raft status (endpoint
// status, the raft term in every header) and the linearizable-read wait --
// without the server knowing Raft (raft/cluster_member.h implements it).
// A single-member server has none: it is its own leader, at term 2, and
// every read it serves is linearizable as is.
//
// Thread-safety: implementations are thread-safe.
#ifndef REVKV_SERVER_CLUSTER_VIEW_H_
#define REVKV_SERVER_CLUSTER_VIEW_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
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
};

}  // namespace revkv::server

#endif  // REVKV_SERVER_CLUSTER_VIEW_H_
