// PeerTransport: how a member calls another member's revkvpb.Internal
// service (forwarder.h). GrpcTransport dials the first http:// client URL
// the member published; tests swap in a direct in-process one (so that
// ThreadSanitizer sees only instrumented code: Debian's gRPC is not).
//
// A call ends in one of: kAnswered (the response is filled), kNotSent
// (nothing reached the member: its address is unknown or it did not
// connect in time -- safe to retry anywhere), kLost (sent, no answer: the
// member may have acted on it), kTimedOut (the deadline passed).
//
// Thread-safety: implementations are thread-safe.
#ifndef REVKV_RAFT_PEER_TRANSPORT_H_
#define REVKV_RAFT_PEER_TRANSPORT_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "grpcpp/channel.h"
#include "server/proto/raft_internal.grpc.pb.h"
#include "util/mutex.h"

namespace revkv::cluster {

enum class CallOutcome { kAnswered, kNotSent, kLost, kTimedOut };

class PeerTransport {
 public:
  using Deadline = std::chrono::steady_clock::time_point;
  virtual ~PeerTransport() = default;
  virtual CallOutcome Propose(uint64_t member, const revkvpb::InternalRequest& req,
                              Deadline deadline, revkvpb::ForwardResponse* resp) = 0;
  // Propose without holding the caller's thread: `sent` is called once
  // with the outcome (*resp filled when kAnswered), on any thread. `req`
  // and `resp` must live until then. The default makes the synchronous
  // call on the caller's thread.
  using Sent = absl::AnyInvocable<void(CallOutcome) &&>;
  virtual void ProposeAsync(uint64_t member, const revkvpb::InternalRequest& req,
                            Deadline deadline, revkvpb::ForwardResponse* resp, Sent sent) {
    std::move(sent)(Propose(member, req, deadline, resp));
  }
  // Every request of `req` at once (Internal/ProposeBatch): one outcome
  // for the call; when kAnswered, resp holds one response per request.
  // `req` and `resp` must live until `sent` runs.
  virtual void ProposeBatchAsync(uint64_t member, const revkvpb::ForwardBatch& req,
                                 Deadline deadline, revkvpb::ForwardBatchResponse* resp,
                                 Sent sent) = 0;
  virtual CallOutcome ReadIndex(uint64_t member, Deadline deadline,
                                revkvpb::ReadIndexResponse* resp) = 0;
  // A follower's keep-alive and time-to-live, answered by the leader's
  // lessor. Both are safe to send again (a renew renews from now).
  virtual CallOutcome LeaseRenew(uint64_t member, const revkvpb::LeaseRenewRequest& req,
                                 Deadline deadline, revkvpb::LeaseRenewResponse* resp) = 0;
  virtual CallOutcome LeaseTimeToLive(uint64_t member,
                                      const etcdserverpb::LeaseTimeToLiveRequest& req,
                                      Deadline deadline, revkvpb::LeaseTimeToLiveForward* resp) = 0;
};

// gRPC to "host:port" addresses; one channel per address, kept. A call
// waits at most `connect_step` for a connection before it gives up as
// kNotSent. mu_ is a leaf.
class GrpcTransport : public PeerTransport {
 public:
  // `address_of(id)`: where member `id` takes calls; nullopt while unknown.
  GrpcTransport(std::function<std::optional<std::string>(uint64_t)> address_of,
                std::chrono::milliseconds connect_step)
      : address_of_(std::move(address_of)), connect_step_(connect_step) {}

  CallOutcome Propose(uint64_t member, const revkvpb::InternalRequest& req, Deadline deadline,
                      revkvpb::ForwardResponse* resp) override;
  // gRPC's callback client; kNotSent at once unless the channel to the
  // member is connected (the synchronous Propose waits for a connection).
  void ProposeAsync(uint64_t member, const revkvpb::InternalRequest& req, Deadline deadline,
                    revkvpb::ForwardResponse* resp, Sent sent) override;
  // The same for a batch.
  void ProposeBatchAsync(uint64_t member, const revkvpb::ForwardBatch& req, Deadline deadline,
                         revkvpb::ForwardBatchResponse* resp, Sent sent) override;
  CallOutcome ReadIndex(uint64_t member, Deadline deadline,
                        revkvpb::ReadIndexResponse* resp) override;
  CallOutcome LeaseRenew(uint64_t member, const revkvpb::LeaseRenewRequest& req, Deadline deadline,
                         revkvpb::LeaseRenewResponse* resp) override;
  CallOutcome LeaseTimeToLive(uint64_t member, const etcdserverpb::LeaseTimeToLiveRequest& req,
                              Deadline deadline, revkvpb::LeaseTimeToLiveForward* resp) override;

 private:
  // Makes the callback call `start(stub, ctx, on_done)` if the channel
  // to `member` is connected (kNotSent at once otherwise).
  template <typename Start>
  void CallAsync(uint64_t member, Deadline deadline, Sent sent, Start start);
  // Connects, then makes the call `rpc(stub, ctx)` with `deadline`.
  template <typename Rpc>
  CallOutcome Call(uint64_t member, Deadline deadline, Rpc rpc);
  // A stub on a connected channel to `member`; null: kNotSent.
  std::unique_ptr<revkvpb::Internal::Stub> Connect(uint64_t member, Deadline deadline)
      ABSL_LOCKS_EXCLUDED(mu_);
  // The channel to `member` (made on first use); null while its address
  // is unknown.
  std::shared_ptr<grpc::Channel> ChannelTo(uint64_t member) ABSL_LOCKS_EXCLUDED(mu_);

  const std::function<std::optional<std::string>(uint64_t)> address_of_;
  const std::chrono::milliseconds connect_step_;
  util::Mutex mu_;
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_ ABSL_GUARDED_BY(mu_);
};

}  // namespace revkv::cluster

#endif  // REVKV_RAFT_PEER_TRANSPORT_H_
