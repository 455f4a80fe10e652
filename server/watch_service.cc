#include "server/watch_service.h"

#include <atomic>
#include <string>
#include <thread>

#include "grpcpp/server_context.h"
#include "grpcpp/support/server_callback.h"

namespace revkv::server {
namespace {

// A Watch call on gRPC's callback API as WatchSession's blocking
// transport. The session runs on a thread of the call's own (Run blocks in
// Read). Cancel finishes the call with UNAVAILABLE, as a stopping etcd's
// transport closes: clients (clientv3) then retry on another endpoint,
// where CANCELLED would end their watch for good.
//
// Start* and Finish are called under ops_mu_, which keeps them apart
// (nothing is started after Finish); the reactions take only mu_, so one
// run inline from a Start* cannot deadlock. The transport deletes itself
// once both the runner thread and gRPC (OnDone) are through with it.
class ReactorTransport final
    : public grpc::ServerBidiReactor<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>,
      public WatchTransport {
 public:
  explicit ReactorTransport(WatchService* service) {
    std::thread([this, service] {
      absl::Status s = service->Serve(this);
      End(s.ok() ? grpc::Status::OK : grpc::Status(grpc::UNAVAILABLE, std::string(s.message())));
      Release();
    }).detach();  // Release is its last touch; the service waits for Serve
  }

  bool Read(etcdserverpb::WatchRequest* req) override {
    {
      util::MutexLock ops(ops_mu_);
      if (finished_) return false;
      {
        util::MutexLock l(mu_);
        read_done_ = false;
      }
      StartRead(req);
    }
    util::MutexLock l(mu_);
    while (!read_done_) cv_.Wait(mu_);
    return read_ok_;
  }

  bool Write(const etcdserverpb::WatchResponse& resp) override {
    {
      util::MutexLock ops(ops_mu_);
      if (finished_) return false;
      {
        util::MutexLock l(mu_);
        write_done_ = false;
      }
      StartWrite(&resp);
    }
    util::MutexLock l(mu_);
    while (!write_done_) cv_.Wait(mu_);
    return write_ok_;
  }

  void Cancel() override { End(grpc::Status(grpc::UNAVAILABLE, "revkv: the server is stopping")); }

  void OnReadDone(bool ok) override {
    util::MutexLock l(mu_);
    read_ok_ = ok;
    read_done_ = true;
    cv_.NotifyAll();
  }
  void OnWriteDone(bool ok) override {
    util::MutexLock l(mu_);
    write_ok_ = ok;
    write_done_ = true;
    cv_.NotifyAll();
  }
  void OnDone() override { Release(); }

 private:
  // Finishes the call with `status`, once.
  void End(const grpc::Status& status) {
    util::MutexLock ops(ops_mu_);
    if (finished_) return;
    finished_ = true;
    Finish(status);
  }

  void Release() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  util::Mutex ops_mu_;  // before mu_
  bool finished_ ABSL_GUARDED_BY(ops_mu_) = false;
  util::Mutex mu_;
  util::CondVar cv_;
  bool read_done_ ABSL_GUARDED_BY(mu_) = true;
  bool read_ok_ ABSL_GUARDED_BY(mu_) = false;
  bool write_done_ ABSL_GUARDED_BY(mu_) = true;
  bool write_ok_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<int> refs_{2};  // the runner thread and gRPC
};

}  // namespace

WatchService::WatchService(revkv::DB* db, const Member* member, const WatchServiceOptions& options)
    : db_(db), member_(member), options_(options) {
  ticker_ = std::jthread([this](std::stop_token st) { TickLoop(st); });
}

WatchService::~WatchService() { Shutdown(); }

grpc::ServerBidiReactor<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>*
WatchService::Watch(grpc::CallbackServerContext*) {
  return new ReactorTransport(this);
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
  if (sessions_.empty()) cv_.NotifyAll();  // Shutdown may wait for it
  return absl::OkStatus();
}

void WatchService::Shutdown() {
  {
    util::MutexLock l(mu_);
    if (!closed_) {
      closed_ = true;
      for (WatchSession* s : sessions_) s->Stop();
    }
    // A stream's thread is the transport's own, not the caller's: wait
    // until each has left the service.
    while (!sessions_.empty()) cv_.Wait(mu_);
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
