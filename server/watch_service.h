// WatchService: etcd's etcdserverpb.Watch over a revkv::DB -- one
// WatchSession per call (watch_session.h says what a stream promises).
//
// Progress notifications go out every `progress_interval` (etcd's default
// ten minutes, its --experimental-watch-progress-notify-interval; tests
// shorten it) from one ticker thread for all streams. Shutdown ends every
// open stream with UNAVAILABLE (as a stopping etcd's transport closes, so
// clients retry elsewhere instead of taking it as a cancel) and refuses new
// ones the same way, so a server stop never waits for watchers that would
// never leave.
//
// Thread-safety: thread-safe. Serve runs on the caller's thread for the
// life of the stream: a thread of each gRPC call's own (gRPC's callback
// API), or a test's.
#ifndef REVKV_SERVER_WATCH_SERVICE_H_
#define REVKV_SERVER_WATCH_SERVICE_H_

#include <chrono>
#include <cstdint>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "revkv/db.h"
#include "server/member.h"
#include "server/proto/rpc.grpc.pb.h"
#include "server/watch_session.h"
#include "util/mutex.h"

namespace revkv::server {

struct WatchServiceOptions {
  int64_t max_request_bytes = 1536 * 1024;  // fragments stay below it
  std::chrono::milliseconds progress_interval{std::chrono::minutes(10)};
};

class WatchService final : public etcdserverpb::Watch::CallbackService {
 public:
  // db and member are not owned and outlive the service.
  WatchService(revkv::DB* db, const Member* member, const WatchServiceOptions& options);
  ~WatchService() override;  // Shutdown

  grpc::ServerBidiReactor<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>* Watch(
      grpc::CallbackServerContext* ctx) override;

  // Serves one stream over `t` until it ends. Unavailable after Shutdown.
  absl::Status Serve(WatchTransport* t) ABSL_LOCKS_EXCLUDED(mu_);
  // Ends every open stream, waits until each Serve has returned, and stops
  // the ticker; later Serve calls are refused. Idempotent.
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void TickLoop(std::stop_token stop) ABSL_LOCKS_EXCLUDED(mu_);

  revkv::DB* const db_;
  const Member* const member_;
  const WatchServiceOptions options_;

  // Before each session's locks: Tick and Stop run under it, so a session
  // is not destroyed meanwhile (it leaves the set under it first).
  util::Mutex mu_;
  util::CondVar cv_;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_set<WatchSession*> sessions_ ABSL_GUARDED_BY(mu_);
  std::jthread ticker_;
};

}  // namespace revkv::server

#endif  // REVKV_SERVER_WATCH_SERVICE_H_
