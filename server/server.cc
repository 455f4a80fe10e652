#include "server/server.h"

#include <climits>
#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"

namespace revkv::server {

Server::Server(revkv::DB* db, const ServerOptions& options, std::unique_ptr<AlarmStore> alarms,
               std::unique_ptr<Applier> applier, std::unique_ptr<LocalProposer> proposer)
    : options_(options),
      alarms_(std::move(alarms)),
      applier_(std::move(applier)),
      proposer_(std::move(proposer)),
      quota_(db->backend(), proposer_.get(), alarms_.get(), options_.member.member_id,
             options.quota_backend_bytes),
      kv_(db, proposer_.get(), &quota_, &options_.member, options.max_txn_ops),
      lease_(db, proposer_.get(), &quota_, &options_.member),
      maintenance_(db, proposer_.get(), applier_.get(), alarms_.get(), &options_.member),
      cluster_(&options_.member),
      watch_(db, &options_.member,
             WatchServiceOptions{options.max_request_bytes, options.watch_progress_interval}),
      expirer_(db->lessor(), proposer_.get(), options.lease_check_interval) {}

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
  absl::StatusOr<std::unique_ptr<AlarmStore>> alarms = AlarmStore::Open(db->backend());
  if (!alarms.ok()) return alarms.status();
  auto applier = std::make_unique<Applier>(db, alarms->get());
  absl::StatusOr<std::unique_ptr<LocalProposer>> proposer =
      LocalProposer::Open(db, applier.get(), wal_dir, options.max_request_bytes);
  if (!proposer.ok()) return proposer.status();
  std::unique_ptr<Server> s(new Server(db, options, std::move(*alarms), std::move(applier), std::move(*proposer)));
  grpc::ServerBuilder b;
  std::vector<std::unique_ptr<int>> ports;
  for (const std::string& a : options.listen_addresses) {
    ports.push_back(std::make_unique<int>(0));
    b.AddListeningPort(a, grpc::InsecureServerCredentials(), ports.back().get());
  }
  const int64_t max_recv = options.max_request_bytes + kGrpcOverheadBytes;
  b.SetMaxReceiveMessageSize(max_recv > INT_MAX ? INT_MAX : int(max_recv));
  b.SetMaxSendMessageSize(INT_MAX);
  b.RegisterService(&s->kv_);
  b.RegisterService(&s->lease_);
  b.RegisterService(&s->maintenance_);
  b.RegisterService(&s->cluster_);
  b.RegisterService(&s->watch_);
  s->grpc_ = b.BuildAndStart();
  if (s->grpc_ == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("server: cannot listen on ", options.listen_addresses[0]));
  }
  for (size_t i = 0; i < ports.size(); ++i) {
    if (*ports[i] == 0) {
      s->Shutdown(std::chrono::milliseconds(0));
      return absl::UnavailableError(
          absl::StrCat("server: cannot listen on ", options.listen_addresses[i]));
    }
    s->ports_.push_back(*ports[i]);
  }
  s->expirer_.Start();
  return s;
}

void Server::Shutdown(std::chrono::milliseconds grace) {
  if (shut_down_ || grpc_ == nullptr) return;
  shut_down_ = true;
  watch_.Shutdown();
  grpc_->Shutdown(std::chrono::system_clock::now() + grace);
  grpc_->Wait();
  expirer_.Stop();
}

}  // namespace revkv::server
