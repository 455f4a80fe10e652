#include "server/watch_service.h"

#include "grpcpp/server_context.h"

namespace revkv::server {
namespace {

// A gRPC call as a WatchTransport. gRPC allows one Read and one Write at
// a time, each from its own thread, and TryCancel from any.
class GrpcTransport final : public WatchTransport {
 public:
  GrpcTransport(
      grpc::ServerContext* ctx,
      grpc::ServerReaderWriter<etcdserverpb::WatchResponse, etcdserverpb::WatchRequest>* stream)
      : ctx_(ctx), stream_(stream) {}
  bool Read(etcdserverpb::WatchRequest* req) override { return stream_->Read(req); }
  bool Write(const etcdserverpb::WatchResponse& resp) override { return stream_->Write(resp); }
  void Cancel() override { ctx_->TryCancel(); }

 private:
  grpc::ServerContext* ctx_;
  grpc::ServerReaderWriter<etcdserverpb::WatchResponse, etcdserverpb::WatchRequest>* stream_;
};

}  // namespace

WatchService::WatchService(revkv::DB* db, const Member* member, const WatchServiceOptions& options)
    : db_(db), member_(member), options_(options) {
  ticker_ = std::jthread([this](std::stop_token st) { TickLoop(st); });
}

WatchService::~WatchService() { Shutdown(); }

grpc::Status WatchService::Watch(
    grpc::ServerContext* ctx,
    grpc::ServerReaderWriter<etcdserverpb::WatchResponse, etcdserverpb::WatchRequest>* stream) {
  GrpcTransport t(ctx, stream);
  absl::Status s = Serve(&t);
  if (!s.ok()) return grpc::Status(grpc::UNAVAILABLE, std::string(s.message()));
  return grpc::Status::OK;
}

absl::Status WatchService::Serve(WatchTransport* t) {
  WatchSession session(db_, member_, options_.max_request_bytes, t);
  {
    util::MutexLock l(mu_);
    if (closed_) return absl::UnavailableError("revkv: the server is stopping");
    sessions_.insert(&session);
  }
  session.Run();
  util::MutexLock l(mu_);
  sessions_.erase(&session);
  return absl::OkStatus();
}

void WatchService::Shutdown() {
  {
    util::MutexLock l(mu_);
    if (!closed_) {
      closed_ = true;
      for (WatchSession* s : sessions_) s->Stop();
    }
  }
  cv_.NotifyAll();
  if (ticker_.joinable()) {
    ticker_.request_stop();
    cv_.NotifyAll();
    ticker_.join();
  }
}

void WatchService::TickLoop(std::stop_token stop) {
  util::MutexLock l(mu_);
  auto next = std::chrono::steady_clock::now() + options_.progress_interval;
  while (!closed_ && !stop.stop_requested()) {
    if (cv_.WaitUntil(mu_, next) == std::cv_status::timeout) {
      for (WatchSession* s : sessions_) s->Tick();
      next = std::chrono::steady_clock::now() + options_.progress_interval;
    }
  }
}

}  // namespace revkv::server
