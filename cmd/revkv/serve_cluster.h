// `revkv serve` as a Raft cluster member: etcd's --initial-cluster flags
// turned into a raft/cluster_member.h configuration.
//
//   --initial-cluster a=http://10.0.0.1:2380,b=...  every member, name=peer URL
//   --initial-cluster-state new|existing            bootstrap, or restart
//   --initial-cluster-token T                        (default etcd-cluster)
//   --initial-advertise-peer-urls, --listen-peer-urls  must name this
//       member's URL in --initial-cluster (raft listens on it)
//
// Ids are deterministic, so every member answers MemberList alike: a
// member's id is the first 8 bytes of SHA-256("revkv-member", name, token),
// the cluster's of SHA-256("revkv-cluster", token, every name in order)
// (etcd hashes peer URLs and the token; any stable scheme does).
//
// A member added with `member add` joins with --initial-cluster-state
// existing and no raft log: its id is then derived from its peer URL and
// the token (AddedMemberId), as the member that proposed the addition
// derived it; it waits for the leader to add it to raft's configuration
// and catches up from the log. Every member keeps its id in
// <data-dir>/member/revkv_member_id from its first start on.
//
// The raft log lives in <data-dir>/member/raft. A data directory keeps its
// mode: one with a single member's write-ahead log (member/wal) is refused
// as a cluster member's, and one with a raft log as a single member's
// (their applied indexes count different logs).
//
// Thread-safety: pure functions, but for the file-system checks.
#ifndef REVKV_CMD_REVKV_SERVE_CLUSTER_H_
#define REVKV_CMD_REVKV_SERVE_CLUSTER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "raft/cluster_member.h"

namespace revkv::cli {

struct ClusterFlags {
  std::string name;
  std::string data_dir;
  std::string initial_cluster;        // "" : not a cluster
  std::string initial_cluster_state;  // "new" or "existing"
  std::string initial_cluster_token;
  std::vector<std::string> initial_advertise_peer_urls;
  std::vector<std::string> listen_peer_urls;
  std::vector<std::string> advertise_client_urls;
  int64_t election_timeout_ms = 1000;
  int64_t heartbeat_interval_ms = 100;
  int64_t max_request_bytes = 1536 * 1024;
  int64_t snapshot_count = 100000;  // etcd's --snapshot-count
};

uint64_t MemberId(const std::string& name, const std::string& token);
uint64_t AddedMemberId(const std::string& peer_url, const std::string& token);
uint64_t ClusterId(const std::string& token, const std::vector<std::string>& names);

struct ServeConfig;
// The cluster flags of a serve configuration.
ClusterFlags FlagsOf(const ServeConfig& config);

// The member's configuration (creating <data-dir>/member/raft), or why
// the flags or the data directory do not make one.
absl::StatusOr<cluster::ClusterMemberOptions> ClusterOptions(const ClusterFlags& flags,
                                                             uint64_t* cluster_id);

// An error if `data_dir` holds a raft log (for a single member).
absl::Status CheckSingleMemberDir(const std::string& data_dir);

}  // namespace revkv::cli

#endif  // REVKV_CMD_REVKV_SERVE_CLUSTER_H_
