// WatchSession: one etcd 3.4 Watch stream (etcdserver/api/v3rpc/watch.go's
// serverWatchStream) over one mvcc::WatchStream, on a transport the gRPC
// service adapts (watch_service.h) and tests can fake.
//
// Promises, as etcd 3.4 answers:
//   - create: a `created` response (header at the store's revision when it
//     was made) before any event of that watcher; ids are the client's
//     watch_id, or 0 = auto (mvcc/watch_stream.h). A refused create is
//     answered created + canceled with watch_id -1 and etcd's cancel_reason.
//   - events: one response per mvcc response, header at its revision,
//     prev_kv when asked; split into responses under max_request_bytes
//     (`fragment` set on all but the last) only for watchers that asked.
//   - compacted start: canceled with compact_revision.
//   - cancel: a canceled response for a known id (nothing for unknown ones).
//   - progress request: a response with watch_id -1 at the store's revision.
//   - Tick(): each progress_notify watcher sent no event since the previous
//     tick gets a progress response (mvcc RequestProgress).
// Backpressure: the sender blocks in Write while the client is slow; the
// mvcc stream's queue is bounded and sets its watchers aside (victims), so
// a slow client costs bounded memory and never blocks writers.
//
// Thread-safety: Run on one thread (the call's); Tick and Stop from any
// other thread while Run runs (the service serialises them with the
// session's lifetime).
#ifndef REVKV_SERVER_WATCH_SESSION_H_
#define REVKV_SERVER_WATCH_SESSION_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "mvcc/watch_stream.h"
#include "revkv/db.h"
#include "server/member.h"
#include "server/proto/rpc.pb.h"
#include "util/mutex.h"

namespace revkv::server {

// The two directions of a Watch call.
class WatchTransport {
 public:
  virtual ~WatchTransport() = default;
  // Blocks for the next request; false once the client closed its side or
  // the call ended (Cancel).
  virtual bool Read(etcdserverpb::WatchRequest* req) = 0;
  // Blocks until the response is accepted (flow control); false once the
  // call ended. Never called by two threads at once.
  virtual bool Write(const etcdserverpb::WatchResponse& resp) = 0;
  // Ends the call: Read and Write return false. Any thread; idempotent.
  virtual void Cancel() = 0;
};

// etcd's cancel reasons for refused creates (the client shows them).
inline constexpr char kWatcherRangeEmpty[] = "mvcc: watcher range is empty";

class WatchSession {
 public:
  // None owned; all outlive the session.
  WatchSession(revkv::DB* db, const Member* member, int64_t max_request_bytes,
               WatchTransport* transport);
  WatchSession(const WatchSession&) = delete;
  WatchSession& operator=(const WatchSession&) = delete;
  ~WatchSession();

  // Serves requests until the client closes, the call ends or Stop; then
  // closes the mvcc stream and joins the sender. Once.
  void Run();
  // The periodic progress notification round (etcd's progress ticker).
  void Tick();
  // Ends the session: Run returns soon.
  void Stop();

 private:
  // False when the session must end (transport or store closed).
  bool Handle(const etcdserverpb::WatchRequest& req);
  bool Create(const etcdserverpb::WatchCreateRequest& c);
  void SendLoop(std::stop_token stop);
  // Writes r, fragmented if `fragment` and it is too big (etcd's rule).
  bool Send(etcdserverpb::WatchResponse&& r, bool fragment)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);

  revkv::DB* const db_;
  const Member* const member_;
  const int64_t max_request_bytes_;
  WatchTransport* const transport_;
  const std::unique_ptr<mvcc::WatchStream> stream_;

  // Lock order: write_mu_, then mu_, then the mvcc locks. write_mu_ is
  // held across a Write so that a `created` response goes out before any
  // event of its watcher (the sender waits for it).
  util::Mutex write_mu_;
  util::Mutex mu_;
  // progress_notify watchers: true while no event went out since the
  // last tick.
  absl::flat_hash_map<mvcc::WatchId, bool> quiet_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<mvcc::WatchId> fragment_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> stopped_{false};
  std::jthread sender_;
};

// Splits `r` into responses of fewer than `max_bytes` encoded bytes each
// (each with at least one event; `fragment` on all but the last) when it
// is at least that big and has two events or more; else {r}.
std::vector<etcdserverpb::WatchResponse> Fragment(etcdserverpb::WatchResponse&& r,
                                                  int64_t max_bytes);

}  // namespace revkv::server

#endif  // REVKV_SERVER_WATCH_SESSION_H_
