#include "bench/server_cluster.h"

#include <chrono>
#include <cstdint>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "server/proto/rpc.grpc.pb.h"

namespace revkv::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kPoll = std::chrono::milliseconds(20);

std::string Url(int port) { return "http://127.0.0.1:" + std::to_string(port); }

Clock::time_point Deadline(double seconds) {
  return Clock::now() + std::chrono::milliseconds(int64_t(seconds * 1000));
}

std::shared_ptr<grpc::Channel> Channel(const std::string& endpoint) {
  grpc::ChannelArguments args;
  // A connection of its own, not one shared with (or broken by) another.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(endpoint, grpc::InsecureChannelCredentials(), args);
}

// One member's command line. The flags are etcd's, which `revkv serve`
// shares; a single revkv server has no peers at all.
std::vector<std::string> MemberArgv(const ClusterSpec& spec, int i, int client_port,
                                    const std::vector<int>& peer_ports) {
  const std::string name = "m" + std::to_string(i);
  std::vector<std::string> argv = {spec.binary};
  if (!spec.etcd) argv.push_back("serve");
  const std::string client = Url(client_port);
  for (const std::string& a : {std::string("--name"), name, std::string("--data-dir"),
                               spec.dir + "/" + name, std::string("--listen-client-urls"), client,
                               std::string("--advertise-client-urls"), client}) {
    argv.push_back(a);
  }
  if (!spec.etcd && spec.members == 1) return argv;
  std::string initial;
  for (size_t j = 0; j < peer_ports.size(); ++j) {
    absl::StrAppend(&initial, j == 0 ? "" : ",", "m", j, "=", Url(peer_ports[j]));
  }
  const std::string peer = Url(peer_ports[size_t(i)]);
  for (const std::string& a :
       {std::string("--listen-peer-urls"), peer, std::string("--initial-advertise-peer-urls"),
        peer, std::string("--initial-cluster"), initial, std::string("--initial-cluster-state"),
        std::string("new"), std::string("--initial-cluster-token"), std::string("bench"),
        std::string("--election-timeout"), std::to_string(spec.election_ms),
        std::string("--heartbeat-interval"), std::to_string(spec.heartbeat_ms)}) {
    argv.push_back(a);
  }
  return argv;
}

// The member's own id and the leader it names, or an error.
absl::Status AskStatus(const std::string& endpoint, uint64_t* self, uint64_t* leader) {
  auto stub = etcdserverpb::Maintenance::NewStub(Channel(endpoint));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
  etcdserverpb::StatusRequest req;
  etcdserverpb::StatusResponse resp;
  grpc::Status s = stub->Status(&ctx, req, &resp);
  if (!s.ok()) return absl::UnavailableError(endpoint + ": " + s.error_message());
  *self = resp.header().member_id();
  *leader = resp.leader();
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<ServerCluster>> ServerCluster::Start(const ClusterSpec& spec,
                                                                    double timeout_s) {
  if (spec.members < 1) return absl::InvalidArgumentError("bench server: no members");
  std::unique_ptr<ServerCluster> c(new ServerCluster(spec));
  std::vector<int> clients, peers;
  for (int i = 0; i < spec.members; ++i) {
    clients.push_back(FreeLoopbackPort());
    peers.push_back(FreeLoopbackPort());
  }
  // Every member is spawned before any is waited for: a member answers only
  // once a quorum of its peers runs.
  for (int i = 0; i < spec.members; ++i) {
    const std::string log = spec.dir + "/m" + std::to_string(i) + ".log";
    absl::StatusOr<std::unique_ptr<ServerProcess>> p =
        ServerProcess::Spawn(MemberArgv(spec, i, clients[size_t(i)], peers), log, clients[size_t(i)]);
    if (!p.ok()) return p.status();
    c->members_.push_back(std::move(*p));
    c->running_.push_back(true);
  }
  if (absl::Status s = c->WaitAllReady(timeout_s); !s.ok()) return s;
  return c;
}

absl::Status ServerCluster::WaitAllReady(double timeout_s) {
  const auto deadline = Deadline(timeout_s);
  for (const auto& m : members_) {
    const double left = std::chrono::duration<double>(deadline - Clock::now()).count();
    if (absl::Status s = m->WaitReady(left > 0 ? left : 0.001); !s.ok()) return s;
  }
  if (members_.size() == 1) return absl::OkStatus();
  const double left = std::chrono::duration<double>(deadline - Clock::now()).count();
  return Leader(left > 0 ? left : 0.001).status();
}

std::vector<std::string> ServerCluster::endpoints() const {
  std::vector<std::string> out;
  for (const auto& m : members_) out.push_back(m->endpoint());
  return out;
}

absl::StatusOr<size_t> ServerCluster::Leader(double timeout_s) const {
  const auto deadline = Deadline(timeout_s);
  std::string last = "no answer";
  // A bounded poll: the members are other processes.
  while (true) {
    std::map<uint64_t, size_t> index_of;
    uint64_t named = 0;
    bool agree = true;
    for (size_t i = 0; i < members_.size() && agree; ++i) {
      if (!running_[i]) continue;
      uint64_t self = 0, leader = 0;
      if (absl::Status s = AskStatus(members_[i]->endpoint(), &self, &leader); !s.ok()) {
        last = std::string(s.message());
        agree = false;
        break;
      }
      index_of[self] = i;
      if (leader == 0 || (named != 0 && leader != named)) {
        last = "members name different leaders (or none)";
        agree = false;
      }
      named = leader;
    }
    if (agree && index_of.count(named) > 0) return index_of[named];
    if (agree) last = "the named leader is not a running member";
    if (Clock::now() >= deadline) {
      return absl::UnavailableError("bench server: no leader within " +
                                    std::to_string(int(timeout_s)) + " s: " + last);
    }
    std::this_thread::sleep_for(kPoll);
  }
}

absl::StatusOr<double> ServerCluster::KillLeaderAndTimeNextWrite(int call_timeout_ms,
                                                                 double timeout_s) {
  if (members_.size() < 3) {
    return absl::FailedPreconditionError("bench server: failover needs 3 or more members");
  }
  absl::StatusOr<size_t> leader = Leader(timeout_s);
  if (!leader.ok()) return leader.status();
  // Connections to the survivors are made, and used once, before the kill,
  // so the timing holds no connection setup.
  std::vector<std::unique_ptr<etcdserverpb::KV::Stub>> survivors;
  for (size_t i = 0; i < members_.size(); ++i) {
    if (i == *leader || !running_[i]) continue;
    survivors.push_back(etcdserverpb::KV::NewStub(Channel(members_[i]->endpoint())));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    etcdserverpb::RangeRequest req;
    req.set_key("bench/failover");
    req.set_serializable(true);
    etcdserverpb::RangeResponse resp;
    if (grpc::Status s = survivors.back()->Range(&ctx, req, &resp); !s.ok()) {
      return absl::UnavailableError("bench server: a survivor does not answer: " +
                                    s.error_message());
    }
  }
  etcdserverpb::PutRequest put;
  put.set_key("bench/failover");
  put.set_value("after the leader's kill");
  const auto start = Clock::now();
  members_[*leader]->Kill();
  running_[*leader] = false;
  const auto deadline = Deadline(timeout_s);
  for (size_t attempt = 0; Clock::now() < deadline; ++attempt) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::milliseconds(call_timeout_ms));
    etcdserverpb::PutResponse resp;
    const auto sent = Clock::now();
    if (survivors[attempt % survivors.size()]->Put(&ctx, put, &resp).ok()) {
      return std::chrono::duration<double>(Clock::now() - start).count();
    }
    // A refusal that came at once ("no leader") is not retried in a tight
    // loop that would steal the election's CPU.
    if (Clock::now() - sent < std::chrono::milliseconds(1)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  return absl::DeadlineExceededError("bench server: no write acknowledged within " +
                                     std::to_string(int(timeout_s)) + " s of the leader's kill");
}

absl::Status ServerCluster::RestartKilled(double timeout_s) {
  for (size_t i = 0; i < members_.size(); ++i) {
    if (running_[i]) continue;
    if (absl::Status s = members_[i]->Restart(); !s.ok()) return s;
    running_[i] = true;
  }
  return WaitAllReady(timeout_s);
}

void ServerCluster::Stop() {
  for (auto& m : members_) m->Stop();
}

}  // namespace revkv::bench
