#include "raft/peer_transport.h"

#include <algorithm>

#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

namespace revkv::cluster {
namespace {

// gRPC takes system_clock deadlines.
std::chrono::system_clock::time_point Wall(std::chrono::steady_clock::time_point t) {
  return std::chrono::system_clock::now() +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(
             t - std::chrono::steady_clock::now());
}

CallOutcome FromGrpc(const grpc::Status& s) {
  if (s.ok()) return CallOutcome::kAnswered;
  return s.error_code() == grpc::DEADLINE_EXCEEDED ? CallOutcome::kTimedOut : CallOutcome::kLost;
}

}  // namespace

std::shared_ptr<grpc::Channel> GrpcTransport::ChannelTo(uint64_t member) {
  std::optional<std::string> address = address_of_(member);
  if (!address.has_value()) return nullptr;
  util::MutexLock l(mu_);
  std::shared_ptr<grpc::Channel>& c = channels_[*address];
  if (c == nullptr) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, -1);
    args.SetInt(GRPC_ARG_MAX_SEND_MESSAGE_LENGTH, -1);
    // Reconnect quickly after the member restarts (gRPC's default
    // backoff grows to two minutes).
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
    c = grpc::CreateCustomChannel(*address, grpc::InsecureChannelCredentials(), args);
  }
  return c;
}

std::unique_ptr<revkvpb::Internal::Stub> GrpcTransport::Connect(uint64_t member,
                                                                Deadline deadline) {
  std::shared_ptr<grpc::Channel> channel = ChannelTo(member);
  if (channel == nullptr) return nullptr;
  const Deadline until = std::min(deadline, std::chrono::steady_clock::now() + connect_step_);
  if (!channel->WaitForConnected(Wall(until))) return nullptr;
  return revkvpb::Internal::NewStub(channel);
}

template <typename Start>
void GrpcTransport::CallAsync(uint64_t member, Deadline deadline, Sent sent, Start start) {
  std::shared_ptr<grpc::Channel> channel = ChannelTo(member);
  if (channel == nullptr || channel->GetState(/*try_to_connect=*/true) != GRPC_CHANNEL_READY) {
    std::move(sent)(CallOutcome::kNotSent);
    return;
  }
  // What the call needs until gRPC answers it.
  struct Pending {
    grpc::ClientContext ctx;
    std::unique_ptr<revkvpb::Internal::Stub> stub;
    Sent sent;
  };
  auto* p = new Pending;
  p->stub = revkvpb::Internal::NewStub(channel);
  p->sent = std::move(sent);
  p->ctx.set_deadline(Wall(deadline));
  start(*p->stub, &p->ctx, [p](grpc::Status s) {
    Sent done = std::move(p->sent);
    delete p;
    std::move(done)(FromGrpc(s));
  });
}

void GrpcTransport::ProposeAsync(uint64_t member, const revkvpb::InternalRequest& req,
                                 Deadline deadline, revkvpb::ForwardResponse* resp, Sent sent) {
  CallAsync(member, deadline, std::move(sent),
            [&](revkvpb::Internal::Stub& stub, grpc::ClientContext* ctx, auto on_done) {
              stub.async()->Propose(ctx, &req, resp, std::move(on_done));
            });
}

void GrpcTransport::ProposeBatchAsync(uint64_t member, const revkvpb::ForwardBatch& req,
                                      Deadline deadline, revkvpb::ForwardBatchResponse* resp,
                                      Sent sent) {
  CallAsync(member, deadline, std::move(sent),
            [&](revkvpb::Internal::Stub& stub, grpc::ClientContext* ctx, auto on_done) {
              stub.async()->ProposeBatch(ctx, &req, resp, std::move(on_done));
            });
}

template <typename Rpc>
CallOutcome GrpcTransport::Call(uint64_t member, Deadline deadline, Rpc rpc) {
  std::unique_ptr<revkvpb::Internal::Stub> stub = Connect(member, deadline);
  if (stub == nullptr) return CallOutcome::kNotSent;
  grpc::ClientContext ctx;
  ctx.set_deadline(Wall(deadline));
  return FromGrpc(rpc(*stub, &ctx));
}

CallOutcome GrpcTransport::Propose(uint64_t member, const revkvpb::InternalRequest& req,
                                   Deadline deadline, revkvpb::ForwardResponse* resp) {
  return Call(member, deadline, [&](revkvpb::Internal::Stub& stub, grpc::ClientContext* ctx) {
    return stub.Propose(ctx, req, resp);
  });
}

CallOutcome GrpcTransport::ReadIndex(uint64_t member, Deadline deadline,
                                     revkvpb::ReadIndexResponse* resp) {
  return Call(member, deadline, [&](revkvpb::Internal::Stub& stub, grpc::ClientContext* ctx) {
    return stub.ReadIndex(ctx, revkvpb::ReadIndexRequest(), resp);
  });
}

CallOutcome GrpcTransport::LeaseRenew(uint64_t member, const revkvpb::LeaseRenewRequest& req,
                                      Deadline deadline, revkvpb::LeaseRenewResponse* resp) {
  return Call(member, deadline, [&](revkvpb::Internal::Stub& stub, grpc::ClientContext* ctx) {
    return stub.LeaseRenew(ctx, req, resp);
  });
}

CallOutcome GrpcTransport::LeaseTimeToLive(uint64_t member,
                                           const etcdserverpb::LeaseTimeToLiveRequest& req,
                                           Deadline deadline,
                                           revkvpb::LeaseTimeToLiveForward* resp) {
  return Call(member, deadline, [&](revkvpb::Internal::Stub& stub, grpc::ClientContext* ctx) {
    return stub.LeaseTimeToLive(ctx, req, resp);
  });
}

}  // namespace revkv::cluster
