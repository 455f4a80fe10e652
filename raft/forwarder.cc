#include "raft/forwarder.h"

#include <algorithm>
#include <utility>

#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "raft/forward_proto.h"
#include "server/errors.h"

namespace revkv::cluster {
namespace {

// How long one wait for a new leader, or for a connection, may last
// before the loop looks again (each is bounded by the call's deadline).
constexpr std::chrono::milliseconds kStep(200);

// gRPC takes system_clock deadlines.
std::chrono::system_clock::time_point Wall(std::chrono::steady_clock::time_point t) {
  return std::chrono::system_clock::now() +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(
             t - std::chrono::steady_clock::now());
}

bool Retriable(const absl::Status& s) {
  // Refused before anything was proposed.
  return server::IsEtcdError(s, "not-leader");
}

}  // namespace

uint64_t Forwarder::AwaitLeader(uint64_t not_this, Clock::time_point deadline) {
  uint64_t leader = 0;
  node_->WaitFor(
      [&](const NodeStatus& s) {
        leader = s.leader_id;
        return s.leader_id != 0 && s.leader_id != not_this;
      },
      std::min(deadline, Clock::now() + kStep));
  return leader;
}

std::unique_ptr<revkvpb::Internal::Stub> Forwarder::Connect(uint64_t id,
                                                            Clock::time_point deadline) {
  std::optional<std::string> address = options_.address_of(id);
  if (!address.has_value()) return nullptr;
  std::shared_ptr<grpc::Channel> channel;
  {
    util::MutexLock l(channels_mu_);
    std::shared_ptr<grpc::Channel>& c = channels_[*address];
    if (c == nullptr) {
      grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, -1);
      args.SetInt(GRPC_ARG_MAX_SEND_MESSAGE_LENGTH, -1);
      // Reconnect quickly after the leader restarts (gRPC's default
      // backoff grows to two minutes).
      args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
      c = grpc::CreateCustomChannel(*address, grpc::InsecureChannelCredentials(), args);
    }
    channel = c;
  }
  if (!channel->WaitForConnected(Wall(std::min(deadline, Clock::now() + kStep)))) return nullptr;
  return revkvpb::Internal::NewStub(channel);
}

uint64_t Forwarder::forwarded() const {
  util::MutexLock l(channels_mu_);
  return forwarded_;
}

absl::StatusOr<server::ApplyResult> Forwarder::Propose(revkvpb::InternalRequest req) {
  const Clock::time_point deadline = Clock::now() + options_.timeout;
  absl::Status last = server::ErrNoLeader();
  while (Clock::now() < deadline) {
    const NodeStatus status = node_->status();
    if (status.stopped) return server::ErrStopped();
    const uint64_t leader = status.leader_id;
    if (leader == 0) {
      AwaitLeader(0, deadline);
      continue;
    }
    if (leader == options_.self) {
      absl::StatusOr<server::ApplyResult> r = local_->Propose(req, nullptr);
      if (r.ok() || !Retriable(r.status())) return r;
      last = r.status();
      AwaitLeader(options_.self, deadline);
      continue;
    }
    std::unique_ptr<revkvpb::Internal::Stub> stub = Connect(leader, deadline);
    if (stub == nullptr) {
      // Nothing sent: the leader's address is not known yet, or it does
      // not answer (it may be gone; a new leader may come).
      last = server::ErrNoLeader();
      AwaitLeader(leader, deadline);
      continue;
    }
    {
      util::MutexLock l(channels_mu_);
      ++forwarded_;
    }
    grpc::ClientContext ctx;
    ctx.set_deadline(Wall(deadline));
    revkvpb::ForwardResponse resp;
    const grpc::Status g = stub->Propose(&ctx, req, &resp);
    if (!g.ok()) {
      // Sent, perhaps proposed: not safe to send again.
      return g.error_code() == grpc::DEADLINE_EXCEEDED ? server::ErrTimeout()
                                                       : server::ErrLeaderChanged();
    }
    absl::Status error = StatusFromProto(resp.error());
    if (Retriable(error)) {
      last = error;
      AwaitLeader(leader, deadline);
      continue;
    }
    if (error.ok() && !applied_->WaitAtLeast(resp.index(), deadline)) {
      return server::ErrTimeout();
    }
    return ResultFromProto(std::move(resp));
  }
  return server::IsEtcdError(last, "no-leader") ? last : server::ErrTimeout();
}

absl::Status Forwarder::ReadBarrier() {
  const Clock::time_point deadline = Clock::now() + options_.timeout;
  absl::Status last = server::ErrNoLeader();
  while (Clock::now() < deadline) {
    const NodeStatus status = node_->status();
    if (status.stopped) return server::ErrStopped();
    const uint64_t leader = status.leader_id;
    if (leader == 0) {
      AwaitLeader(0, deadline);
      continue;
    }
    absl::StatusOr<uint64_t> index = server::ErrNoLeader();
    if (leader == options_.self) {
      index = read_index_->Confirm(deadline);
    } else if (std::unique_ptr<revkvpb::Internal::Stub> stub = Connect(leader, deadline);
               stub != nullptr) {
      grpc::ClientContext ctx;
      ctx.set_deadline(Wall(deadline));
      revkvpb::ReadIndexResponse resp;
      const grpc::Status g = stub->ReadIndex(&ctx, revkvpb::ReadIndexRequest(), &resp);
      if (!g.ok()) {
        index = g.error_code() == grpc::DEADLINE_EXCEEDED ? server::ErrTimeout()
                                                          : server::ErrLeaderChanged();
      } else if (absl::Status s = StatusFromProto(resp.error()); !s.ok()) {
        index = s;
      } else {
        index = resp.index();
      }
    }
    if (index.ok()) {
      return applied_->WaitAtLeast(*index, deadline) ? absl::OkStatus() : server::ErrTimeout();
    }
    last = index.status();
    if (server::IsEtcdError(last, "stopped") || server::IsEtcdError(last, "timeout")) return last;
    // Not leader, leader changed, unreachable: ask whoever leads next.
    AwaitLeader(leader, deadline);
  }
  return server::IsEtcdError(last, "no-leader") ? last : server::ErrTimeout();
}

}  // namespace revkv::cluster
