// Member: who this server is -- etcd's member and cluster ids, name and
// client URLs -- and the response header it stamps on every answer.
//
// A single member reports raft_term 2, as a fresh single-member etcd does
// after its first election; a cluster member (`cluster` set) reports its
// raft term, and its services ask `cluster` for members, raft status and
// linearizable reads. LoadOrCreateIds keeps the ids in the data
// directory (DIR/member/revkv_ids), random at the first start, so that
// clients see the same member across restarts.
//
// Thread-safety: Member is immutable after construction; LoadOrCreateIds
// is not meant to race another on the same directory (the DB's lock
// prevents that).
#ifndef REVKV_SERVER_MEMBER_H_
#define REVKV_SERVER_MEMBER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "server/cluster_view.h"
#include "server/proto/rpc.pb.h"

namespace revkv::server {

struct Member {
  uint64_t cluster_id = 0;
  uint64_t member_id = 0;
  uint64_t raft_term = 2;
  std::string name;
  std::vector<std::string> client_urls;
  // Not owned; null for a single member (no Raft).
  ClusterView* cluster = nullptr;

  // Fills `h` with the ids and term and `revision`.
  void Stamp(etcdserverpb::ResponseHeader* h, int64_t revision) const {
    h->set_cluster_id(cluster_id);
    h->set_member_id(member_id);
    h->set_revision(revision);
    h->set_raft_term(cluster != nullptr ? cluster->Raft().term : raft_term);
  }
};

struct MemberIds {
  uint64_t cluster_id = 0;
  uint64_t member_id = 0;
};

// The ids kept in data directory `dir`, created (random, nonzero) and
// written durably when there are none.
absl::StatusOr<MemberIds> LoadOrCreateIds(std::string_view dir);

}  // namespace revkv::server

#endif  // REVKV_SERVER_MEMBER_H_
