#include "server/server.h"

#include <algorithm>
#include <climits>
#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"

namespace revkv::server {
namespace {

// The credentials of the TLS listeners; null when there are none.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> TlsCredentials(
    const ServerOptions& options) {
  bool any = false;
  for (bool t : options.listen_tls) any = any || t;
  if (!any) return nullptr;
  if (options.tls.cert_chain.empty() || options.tls.private_key.empty()) {
    return absl::InvalidArgumentError("server: a TLS listener needs a certificate and a key");
  }
  grpc::SslServerCredentialsOptions o(
      options.tls.client_ca.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                                    : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  o.pem_root_certs = options.tls.client_ca;
  o.pem_key_cert_pairs.push_back({options.tls.private_key, options.tls.cert_chain});
  std::shared_ptr<grpc::ServerCredentials> c = grpc::SslServerCredentials(o);
  if (c == nullptr) return absl::InvalidArgumentError("server: the TLS certificate or key is unusable");
  return c;
}

std::unique_ptr<grpc::Service> KV(revkv::DB* db, Proposer* proposer, QuotaGuard* quota,
                                  const Member* member, int64_t max_txn_ops) {
  if (proposer->answers_async()) {
    if (member->cluster != nullptr) {
      return std::make_unique<KVClusterService>(db, proposer, quota, member, max_txn_ops);
    }
    return std::make_unique<KVCallbackService>(db, proposer, quota, member, max_txn_ops);
  }
  return std::make_unique<KVService>(db, proposer, quota, member, max_txn_ops);
}

}  // namespace

Server::Server(revkv::DB* db, const ServerOptions& options, std::unique_ptr<AlarmStore> alarms,
               std::unique_ptr<Applier> applier, std::unique_ptr<LocalProposer> proposer,
               const Replication& r)
    : options_(options),
      owned_alarms_(std::move(alarms)),
      owned_applier_(std::move(applier)),
      local_(std::move(proposer)),
      alarms_(owned_alarms_ != nullptr ? owned_alarms_.get() : r.alarms),
      applier_(owned_applier_ != nullptr ? owned_applier_.get() : r.applier),
      proposer_(local_ != nullptr ? static_cast<Proposer*>(local_.get()) : r.proposer),
      quota_(db->backend(), proposer_, alarms_, options_.member.member_id,
             options.quota_backend_bytes),
      kv_(KV(db, proposer_, &quota_, &options_.member, options.max_txn_ops)),
      lease_(db, proposer_, &quota_, &options_.member),
      maintenance_(db, proposer_, applier_, alarms_, &options_.member),
      cluster_(&options_.member),
      watch_(db, &options_.member,
             WatchServiceOptions{options.max_request_bytes, options.watch_progress_interval}),
      expirer_(db->lessor(), proposer_, options.lease_check_interval),
      compactor_(
          options.auto_compaction, [db] { return db->store()->Rev(); },
          [p = proposer_](int64_t rev) {
            revkvpb::InternalRequest entry;
            entry.mutable_compaction()->set_revision(rev);
            return p->Propose(std::move(entry)).status();
          },
          [m = &options_.member] {
            return m->cluster == nullptr || m->cluster->Raft().leader == m->member_id;
          }) {}

Server::~Server() { Shutdown(std::chrono::milliseconds(0)); }

absl::StatusOr<std::unique_ptr<Server>> Server::Start(revkv::DB* db,
                                                      const ServerOptions& options) {
  if (options.listen_addresses.empty()) {
    return absl::InvalidArgumentError("server: no address to listen on");
  }
  const std::string wal_dir =
      !options.wal_dir.empty()
          ? options.wal_dir
          : (std::filesystem::path(db->path()).parent_path().parent_path() / "wal").string();
  // Before the log is opened: a bad TLS setup changes nothing.
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> tls = TlsCredentials(options);
  if (!tls.ok()) return tls.status();
  absl::StatusOr<std::unique_ptr<AlarmStore>> alarms = AlarmStore::Open(db->backend());
  if (!alarms.ok()) return alarms.status();
  auto applier = std::make_unique<Applier>(db, alarms->get());
  absl::StatusOr<std::unique_ptr<LocalProposer>> proposer =
      LocalProposer::Open(db, applier.get(), wal_dir, options.max_request_bytes);
  if (!proposer.ok()) return proposer.status();
  std::unique_ptr<Server> s(new Server(db, options, std::move(*alarms), std::move(applier),
                                       std::move(*proposer), Replication{}));
  return Listen(std::move(s), {});
}

absl::StatusOr<std::unique_ptr<Server>> Server::Start(revkv::DB* db, const ServerOptions& options,
                                                      const Replication& replication) {
  if (options.listen_addresses.empty()) {
    return absl::InvalidArgumentError("server: no address to listen on");
  }
  if (replication.proposer == nullptr || replication.applier == nullptr ||
      replication.alarms == nullptr || replication.view == nullptr) {
    return absl::InvalidArgumentError("server: a replicated server needs its whole write path");
  }
  ServerOptions o = options;
  o.member.cluster = replication.view;
  std::unique_ptr<Server> s(new Server(db, o, nullptr, nullptr, nullptr, replication));
  return Listen(std::move(s), replication.services);
}

namespace {
// As many as the calls in flight the bench drives (etcd's benchmark tool's
// usual --clients).
constexpr int kIdleSyncThreads = 256;
}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Listen(std::unique_ptr<Server> s,
                                                       const std::vector<grpc::Service*>& extra) {
  const ServerOptions& options = s->options_;
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> tls = TlsCredentials(options);
  if (!tls.ok()) return tls.status();
  grpc::ServerBuilder b;
  std::vector<std::unique_ptr<int>> ports;
  for (size_t i = 0; i < options.listen_addresses.size(); ++i) {
    const bool secure = i < options.listen_tls.size() && options.listen_tls[i];
    ports.push_back(std::make_unique<int>(0));
    b.AddListeningPort(options.listen_addresses[i],
                       secure ? *tls : grpc::InsecureServerCredentials(), ports.back().get());
  }
  const int64_t max_recv = options.max_request_bytes + kGrpcOverheadBytes;
  b.SetMaxReceiveMessageSize(max_recv > INT_MAX ? INT_MAX : int(max_recv));
  b.SetMaxSendMessageSize(INT_MAX);
  // gRPC takes an int; above INT_MAX is as good as no limit.
  b.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                       int(std::min<uint32_t>(options.max_concurrent_streams, INT_MAX)));
  // The synchronous services (every KV call of a cluster member) run one
  // thread per call in flight. gRPC keeps only 2 idle threads by default and
  // ends the rest, so under steady load most calls started a thread and
  // ended one (clone, stack faults, TLB shootdowns: the kernel's largest
  // share of a member's profile at 256 calls in flight). Idle threads cost
  // only their touched stack pages.
  b.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, kIdleSyncThreads);
  b.RegisterService(s->kv_.get());
  b.RegisterService(&s->lease_);
  b.RegisterService(&s->maintenance_);
  b.RegisterService(&s->cluster_);
  b.RegisterService(&s->watch_);
  for (grpc::Service* service : extra) b.RegisterService(service);
  s->grpc_ = b.BuildAndStart();
  // gRPC refuses to build a server whose TLS key does not match its
  // certificate (it logs why on stderr).
  const char* tls_hint = *tls != nullptr ? " (or its TLS certificate, key or CA is unusable)" : "";
  if (s->grpc_ == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("server: cannot listen on ", options.listen_addresses[0], tls_hint));
  }
  for (size_t i = 0; i < ports.size(); ++i) {
    if (*ports[i] == 0) {
      s->Shutdown(std::chrono::milliseconds(0));
      return absl::UnavailableError(
          absl::StrCat("server: cannot listen on ", options.listen_addresses[i], tls_hint));
    }
    s->ports_.push_back(*ports[i]);
  }
  s->expirer_.Start();
  s->compactor_.Start();
  return s;
}

void Server::Shutdown(std::chrono::milliseconds grace) {
  if (shut_down_ || grpc_ == nullptr) return;
  shut_down_ = true;
  compactor_.Stop();
  watch_.Shutdown();
  grpc_->Shutdown(std::chrono::system_clock::now() + grace);
  grpc_->Wait();
  expirer_.Stop();
}

}  // namespace revkv::server
