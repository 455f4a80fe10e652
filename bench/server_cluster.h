// ServerCluster: what `revkv bench server` drives -- one etcd v3 server or,
// with --cluster N, N members of one cluster -- as child processes on
// loopback in a work directory: `revkv serve` or a real etcd, given the same
// election timeout and heartbeat interval.
//
// For the failover row it also finds the leader (the member every live one
// names in Maintenance.Status), kills it with SIGKILL, times the next
// acknowledged Put through a live member, and restarts the killed member
// with its data directory.
//
// Thread-compatible: one thread starts, measures and stops it.
#ifndef REVKV_BENCH_SERVER_CLUSTER_H_
#define REVKV_BENCH_SERVER_CLUSTER_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bench/server_process.h"

namespace revkv::bench {

struct ClusterSpec {
  bool etcd = false;       // a real etcd; else `revkv serve`
  std::string binary;      // its path
  std::string dir;         // an empty directory for data and logs
  int members = 1;         // 1: a single server (no peers for revkv)
  int election_ms = 1000;  // both engines' default
  int heartbeat_ms = 100;
};

class ServerCluster {
 public:
  // Starts every member, then waits until each answers and, for a cluster,
  // until every member names the same leader (at most `timeout_s`).
  static absl::StatusOr<std::unique_ptr<ServerCluster>> Start(const ClusterSpec& spec,
                                                              double timeout_s = 60);
  ~ServerCluster() { Stop(); }

  // Every member's "127.0.0.1:PORT", in member order.
  std::vector<std::string> endpoints() const;
  size_t size() const { return members_.size(); }

  // The index of the member that every running member names as leader,
  // waiting at most `timeout_s` for them to agree.
  absl::StatusOr<size_t> Leader(double timeout_s) const;

  // SIGKILLs the leader and returns the seconds from the signal to the first
  // Put acknowledged by a surviving member (tried in turn, each call bounded
  // by `call_timeout_ms`), at most `timeout_s`. The killed member stays down
  // until RestartKilled. FailedPrecondition for a single server.
  absl::StatusOr<double> KillLeaderAndTimeNextWrite(int call_timeout_ms, double timeout_s);
  // Restarts the killed member with its data and waits until every member
  // names one leader again.
  absl::Status RestartKilled(double timeout_s);

  // Stops every member (SIGTERM, then SIGKILL). Idempotent.
  void Stop();

 private:
  explicit ServerCluster(ClusterSpec spec) : spec_(std::move(spec)) {}
  absl::Status WaitAllReady(double timeout_s);

  ClusterSpec spec_;
  std::vector<std::unique_ptr<ServerProcess>> members_;
  std::vector<bool> running_;
};

}  // namespace revkv::bench

#endif  // REVKV_BENCH_SERVER_CLUSTER_H_
