// Server: etcd's v3 gRPC API (KV, Maintenance, Cluster) over one
// revkv::DB, as a single-member etcd 3.4 serves it.
//
//   absl::StatusOr<std::unique_ptr<Server>> s = Server::Start(db, options);
//   ... (*s)->ports() ...
//   (*s)->Shutdown(std::chrono::seconds(5));   // then close the DB
//
// Writes go propose -> apply: validated, serialized into one log entry,
// proposed to a LocalProposer that applies it through the Applier and makes
// it durable before answering (proposer.h).
//
// Thread-safety: thread-safe; Shutdown may be called once, from any thread
// (not from inside a call it serves).
#ifndef REVKV_SERVER_SERVER_H_
#define REVKV_SERVER_SERVER_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/server.h"
#include "revkv/db.h"
#include "server/applier.h"
#include "server/cluster_service.h"
#include "server/kv_service.h"
#include "server/maintenance_service.h"
#include "server/member.h"
#include "server/proposer.h"
#include "server/watch_service.h"

namespace revkv::server {

struct ServerOptions {
  // host:port addresses to listen on (port 0: the kernel picks; ports()
  // tells which).
  std::vector<std::string> listen_addresses = {"localhost:2379"};
  // etcd's --max-request-bytes and --max-txn-ops, with etcd's defaults.
  int64_t max_request_bytes = 1536 * 1024;
  int64_t max_txn_ops = 128;
  // etcd's --experimental-watch-progress-notify-interval.
  std::chrono::milliseconds watch_progress_interval{std::chrono::minutes(10)};
  Member member;
};

// etcd lets a gRPC message exceed max_request_bytes by this much, so that
// an entry slightly too big gets etcd's "request is too large" rather than
// gRPC's own limit error.
inline constexpr int64_t kGrpcOverheadBytes = 512 * 1024;

class Server {
 public:
  // `db` is not owned and must outlive the server.
  static absl::StatusOr<std::unique_ptr<Server>> Start(revkv::DB* db, const ServerOptions& options);
  ~Server();

  // The ports listened on, in listen_addresses' order.
  const std::vector<int>& ports() const { return ports_; }

  // Ends open watch streams at once (they would never finish), stops
  // accepting calls, lets other calls in flight finish until `grace` has
  // passed, then cancels the rest. Idempotent.
  void Shutdown(std::chrono::milliseconds grace);

 private:
  Server(revkv::DB* db, const ServerOptions& options);

  ServerOptions options_;
  Applier applier_;
  LocalProposer proposer_;
  KVService kv_;
  MaintenanceService maintenance_;
  ClusterService cluster_;
  WatchService watch_;
  std::vector<int> ports_;
  std::unique_ptr<grpc::Server> grpc_;
  bool shut_down_ = false;
};

}  // namespace revkv::server

#endif  // REVKV_SERVER_SERVER_H_
