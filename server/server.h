// Server: etcd's v3 gRPC API (KV, Lease, Maintenance, Cluster) over one
// revkv::DB, as a single-member etcd 3.4 serves it.
//
//   absl::StatusOr<std::unique_ptr<Server>> s = Server::Start(db, options);
//   ... (*s)->ports() ...
//   (*s)->Shutdown(std::chrono::seconds(5));   // then close the DB
//
// Writes go propose -> apply: validated, serialized into one log entry,
// proposed to a LocalProposer that makes it durable in the write-ahead log,
// then applies it through the Applier before answering (proposer.h). Start
// first replays the log entries the DB lacks (after a crash). Lease expiry
// too: a LeaseExpirer proposes the revokes of expired leases
// (lease_expirer.h).
//
// Puts, txns and lease grants pass the backend quota first (quota.h); one
// that would grow the file past it raises the NOSPACE alarm through the
// same write path. Alarms live in the backend (alarm_store.h) and survive
// restarts.
//
// A cluster member (raft/cluster_member.h) starts the server with a
// Replication instead: its proposer (the replicated log), the applier and
// alarm store its state machine applies through, its ClusterView (members,
// raft status, linearizable reads) and its member-to-member gRPC service,
// served on the client listeners beside etcd's. It owns them all.
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
#include "server/alarm_store.h"
#include "server/applier.h"
#include "server/cluster_service.h"
#include "server/auto_compactor.h"
#include "server/kv_service.h"
#include "server/lease_expirer.h"
#include "server/lease_service.h"
#include "server/maintenance_service.h"
#include "server/member.h"
#include "server/proposer.h"
#include "server/quota.h"
#include "server/watch_service.h"

namespace revkv::server {

// TLS for the client listeners marked in ServerOptions::listen_tls (etcd's
// --cert-file, --key-file, --trusted-ca-file), as PEM text.
struct ServerTls {
  std::string cert_chain;
  std::string private_key;
  // Non-empty: a client must present a certificate this CA signed, or the
  // handshake fails (etcd 3.4 requires one whenever --trusted-ca-file or
  // --client-cert-auth is given).
  std::string client_ca;
};

struct ServerOptions {
  // host:port addresses to listen on (port 0: the kernel picks; ports()
  // tells which).
  std::vector<std::string> listen_addresses = {"localhost:2379"};
  // Parallel to listen_addresses: true serves that address with `tls`
  // (https). Missing entries are plaintext.
  std::vector<bool> listen_tls;
  ServerTls tls;
  // etcd's --max-request-bytes and --max-txn-ops, with etcd's defaults.
  int64_t max_request_bytes = 1536 * 1024;
  int64_t max_txn_ops = 128;
  // etcd's --experimental-watch-progress-notify-interval.
  std::chrono::milliseconds watch_progress_interval{std::chrono::minutes(10)};
  Member member;
  // The write-ahead log's directory; empty: member/wal beside the DB's
  // member/snap (etcd's layout).
  std::string wal_dir;
  // How often the lease expirer asks the lessor for expired leases (etcd
  // checks every 500 ms).
  std::chrono::milliseconds lease_check_interval{500};
  // etcd's --quota-backend-bytes: 0 is etcd's default (2 GiB), negative
  // disables the quota.
  int64_t quota_backend_bytes = 0;
  // etcd's --max-concurrent-streams: HTTP/2 streams (calls) one client
  // connection may have open at once (etcd's default: 2^32 - 1).
  uint32_t max_concurrent_streams = 0xFFFFFFFFu;
  // etcd's --auto-compaction-mode/--auto-compaction-retention (default off).
  AutoCompaction auto_compaction;
};

// A cluster member's write path and view, none owned (all must outlive
// the server).
struct Replication {
  Proposer* proposer = nullptr;
  Applier* applier = nullptr;
  AlarmStore* alarms = nullptr;
  ClusterView* view = nullptr;
  std::vector<grpc::Service*> services;
};

// etcd lets a gRPC message exceed max_request_bytes by this much, so that
// an entry slightly too big gets etcd's "request is too large" rather than
// gRPC's own limit error.
inline constexpr int64_t kGrpcOverheadBytes = 512 * 1024;

class Server {
 public:
  // `db` is not owned and must outlive the server.
  static absl::StatusOr<std::unique_ptr<Server>> Start(revkv::DB* db, const ServerOptions& options);
  // A cluster member's server: writes go to `replication.proposer`; no
  // write-ahead log of its own (options.wal_dir is unused).
  static absl::StatusOr<std::unique_ptr<Server>> Start(revkv::DB* db, const ServerOptions& options,
                                                       const Replication& replication);
  ~Server();

  // The ports listened on, in listen_addresses' order.
  const std::vector<int>& ports() const { return ports_; }
  // Log entries Start applied because the DB lacked them (after a crash).
  uint64_t replayed_entries() const { return local_ != nullptr ? local_->replayed() : 0; }

  // Ends open watch streams at once (they would never finish), stops
  // accepting calls, lets other calls in flight finish until `grace` has
  // passed, then cancels the rest; then stops the lease expirer (after the
  // calls: a keep-alive of an expired lease waits for its revoke).
  // Idempotent.
  void Shutdown(std::chrono::milliseconds grace);

  // The loop revoking expired leases (tests kick it and wait on it).
  LeaseExpirer& lease_expirer() { return expirer_; }

 private:
  Server(revkv::DB* db, const ServerOptions& options, std::unique_ptr<AlarmStore> alarms,
         std::unique_ptr<Applier> applier, std::unique_ptr<LocalProposer> proposer,
         const Replication& replication);
  // Listens and serves `extra` beside etcd's services.
  static absl::StatusOr<std::unique_ptr<Server>> Listen(std::unique_ptr<Server> s,
                                                        const std::vector<grpc::Service*>& extra);

  ServerOptions options_;
  // A single member's own log: alarms before the applier, which uses them.
  // Null on a cluster member (Replication's take their place).
  std::unique_ptr<AlarmStore> owned_alarms_;
  std::unique_ptr<Applier> owned_applier_;
  std::unique_ptr<LocalProposer> local_;
  AlarmStore* alarms_;
  Applier* applier_;
  Proposer* proposer_;
  QuotaGuard quota_;
  // KVCallbackService when the proposer answers asynchronously and no read
  // waits (a single member), KVService otherwise.
  std::unique_ptr<grpc::Service> kv_;
  LeaseService lease_;
  MaintenanceService maintenance_;
  ClusterService cluster_;
  WatchService watch_;
  std::vector<int> ports_;
  std::unique_ptr<grpc::Server> grpc_;
  // After the proposer: stopped (destroyed) before it.
  LeaseExpirer expirer_;
  AutoCompactor compactor_;
  bool shut_down_ = false;
};

}  // namespace revkv::server

#endif  // REVKV_SERVER_SERVER_H_
