// InProcessCluster: N ClusterMembers in one process on loopback TCP (raft)
// whose member-to-member calls go straight to each other's
// InternalService (DirectTransport), so TSan sees only instrumented code.
// Members can be stopped and started again on their directories.
//
// Thread-safety: the cluster object is driven by the test's main thread;
// the members themselves are thread-safe. A member is stopped only while
// no call to it is in flight (tests stop followers between calls).
#ifndef REVKV_TESTS_RAFT_IN_PROCESS_CLUSTER_H_
#define REVKV_TESTS_RAFT_IN_PROCESS_CLUSTER_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "raft/cluster_member.h"
#include "tests/cmd/process.h"
#include "util/mutex.h"

namespace revkv::cluster::testutil {

inline int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) return -1;
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// Calls the member's InternalService in this process. A member not (or
// no longer) registered is not reached (kNotSent).
class DirectTransport : public PeerTransport {
 public:
  void Set(uint64_t id, InternalService* s) {
    util::MutexLock l(mu_);
    services_[id] = s;
  }
  CallOutcome Propose(uint64_t member, const revkvpb::InternalRequest& req, Deadline,
                      revkvpb::ForwardResponse* resp) override {
    InternalService* s = Find(member);
    if (s == nullptr) return CallOutcome::kNotSent;
    s->ProposeNow(req, resp);
    return CallOutcome::kAnswered;
  }
  // Answered on the caller's thread, or, while batches are held, kept
  // until ReleaseHeld.
  void ProposeBatchAsync(uint64_t member, const revkvpb::ForwardBatch& req, Deadline,
                         revkvpb::ForwardBatchResponse* resp, Sent sent) override {
    {
      util::MutexLock l(mu_);
      if (hold_batches_) {
        held_.push_back({member, &req, resp, std::move(sent)});
        return;
      }
    }
    InternalService* s = Find(member);
    if (s == nullptr) return std::move(sent)(CallOutcome::kNotSent);
    s->ProposeBatchNow(req, resp);
    std::move(sent)(CallOutcome::kAnswered);
  }
  // Keeps ProposeBatch calls from now on, unanswered, until ReleaseHeld.
  void HoldBatches() {
    util::MutexLock l(mu_);
    hold_batches_ = true;
  }
  // Stops holding, then makes the calls held (on this thread); how many.
  size_t ReleaseHeld() {
    std::vector<HeldBatch> held;
    {
      util::MutexLock l(mu_);
      hold_batches_ = false;
      held.swap(held_);
    }
    for (HeldBatch& h : held) {
      ProposeBatchAsync(h.member, *h.req, Deadline(), h.resp, std::move(h.sent));
    }
    return held.size();
  }
  size_t held() {
    util::MutexLock l(mu_);
    return held_.size();
  }
  CallOutcome ReadIndex(uint64_t member, Deadline, revkvpb::ReadIndexResponse* resp) override {
    InternalService* s = Find(member);
    if (s == nullptr) return CallOutcome::kNotSent;
    revkvpb::ReadIndexRequest req;
    s->ReadIndex(nullptr, &req, resp);
    return CallOutcome::kAnswered;
  }
  CallOutcome LeaseRenew(uint64_t member, const revkvpb::LeaseRenewRequest& req, Deadline,
                         revkvpb::LeaseRenewResponse* resp) override {
    InternalService* s = Find(member);
    if (s == nullptr) return CallOutcome::kNotSent;
    s->LeaseRenew(nullptr, &req, resp);
    return CallOutcome::kAnswered;
  }
  CallOutcome LeaseTimeToLive(uint64_t member, const etcdserverpb::LeaseTimeToLiveRequest& req,
                              Deadline, revkvpb::LeaseTimeToLiveForward* resp) override {
    InternalService* s = Find(member);
    if (s == nullptr) return CallOutcome::kNotSent;
    s->LeaseTimeToLive(nullptr, &req, resp);
    return CallOutcome::kAnswered;
  }

 private:
  InternalService* Find(uint64_t id) {
    util::MutexLock l(mu_);
    auto it = services_.find(id);
    return it == services_.end() ? nullptr : it->second;
  }
  struct HeldBatch {
    uint64_t member;
    const revkvpb::ForwardBatch* req;
    revkvpb::ForwardBatchResponse* resp;
    Sent sent;
  };
  util::Mutex mu_;
  std::map<uint64_t, InternalService*> services_ ABSL_GUARDED_BY(mu_);
  bool hold_batches_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<HeldBatch> held_ ABSL_GUARDED_BY(mu_);
};

class InProcessCluster {
 public:
  using Clock = std::chrono::steady_clock;

  // Makes the options of `n` members under a new temporary directory.
  explicit InProcessCluster(int n, const std::string& name = "cluster") {
    const std::string root = revkv::testing::NewTempDir(name);
    std::vector<Peer> peers;
    for (int i = 0; i < n; ++i) {
      Peer p;
      p.id = uint64_t(100 + i);
      p.name = "m" + std::to_string(i);
      p.address = "127.0.0.1:" + std::to_string(FreePort());
      p.peer_url = "http://" + p.address;
      peers.push_back(p);
    }
    for (int i = 0; i < n; ++i) {
      ClusterMemberOptions o;
      o.id = peers[size_t(i)].id;
      o.name = peers[size_t(i)].name;
      o.client_urls = {"http://" + o.name + ".invalid:1"};  // published, never dialled
      o.transport = &transport_;
      o.peers = peers;
      o.data_dir = root + "/" + o.name;
      o.raft_dir = root + "/" + o.name + "-raft";
      ::mkdir(o.raft_dir.c_str(), 0700);
      o.election_timeout_ms = 500;
      o.heartbeat_timeout_ms = 50;
      o.request_timeout = std::chrono::seconds(10);
      options_.push_back(std::move(o));
    }
    members_.resize(size_t(n));
  }
  ~InProcessCluster() {
    for (size_t i = 0; i < members_.size(); ++i) {
      if (members_[i] != nullptr) members_[i]->Stop();
    }
    for (size_t i = 0; i < members_.size(); ++i) Stop(int(i));
  }

  int size() const { return int(members_.size()); }
  DirectTransport& transport() { return transport_; }
  ClusterMember* member(int i) { return members_[size_t(i)].get(); }

  // Starts member i (again, on its directories, after Stop).
  absl::Status Start(int i) {
    absl::StatusOr<std::unique_ptr<ClusterMember>> m = ClusterMember::Start(options_[size_t(i)], {});
    if (!m.ok()) return m.status();
    members_[size_t(i)] = *std::move(m);
    transport_.Set(options_[size_t(i)].id, members_[size_t(i)]->internal_service());
    return absl::OkStatus();
  }
  absl::Status StartAll() {
    for (int i = 0; i < size(); ++i) {
      if (absl::Status s = Start(i); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
  // Stops member i and closes its DB.
  void Stop(int i) {
    if (members_[size_t(i)] == nullptr) return;
    transport_.Set(options_[size_t(i)].id, nullptr);
    members_[size_t(i)]->Stop();
    members_[size_t(i)].reset();
  }

  // The index of the leader the running members agree on (-1: none in time).
  int Leader() {
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    uint64_t id = 0;
    for (auto& m : members_) {
      if (m == nullptr) continue;
      if (!m->node()->WaitFor([](const NodeStatus& s) { return s.leader_id != 0; }, deadline)) {
        return -1;
      }
      if (id == 0) id = m->node()->status().leader_id;
    }
    for (size_t i = 0; i < members_.size(); ++i) {
      if (members_[i] != nullptr && members_[i]->node()->id() == id) {
        return members_[i]->node()->WaitFor(
                   [](const NodeStatus& s) { return s.state == RAFT_LEADER; }, deadline)
                   ? int(i)
                   : -1;
      }
    }
    return -1;
  }

  // Waits (bounded) until every member's attributes are applied on member
  // i: followers can then forward to the leader's published address.
  bool AllPublished(int i) {
    ClusterMember* n = member(i);
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    while (Clock::now() < deadline) {
      bool all = true;
      for (const etcdserverpb::Member& m : n->Members()) all = all && m.clienturls_size() == 1;
      if (all) return true;
      const uint64_t applied = n->node()->status().applied_index;
      n->node()->WaitFor([applied](const NodeStatus& s) { return s.applied_index > applied; },
                         std::min(deadline, Clock::now() + std::chrono::milliseconds(500)));
    }
    return false;
  }

 private:
  DirectTransport transport_;  // outlives the members
  std::vector<ClusterMemberOptions> options_;
  std::vector<std::unique_ptr<ClusterMember>> members_;
};

}  // namespace revkv::cluster::testutil

#endif  // REVKV_TESTS_RAFT_IN_PROCESS_CLUSTER_H_
