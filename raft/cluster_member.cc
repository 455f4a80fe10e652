#include "raft/cluster_member.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "server/errors.h"

namespace revkv::cluster {
namespace {

// How long the loop waits for a change of raft state before it looks at
// its stop flag again.
constexpr std::chrono::milliseconds kLoopStep(200);

// "host:port" of an http:// URL; nullopt for other schemes (https peers
// would need client credentials: not yet).
std::optional<std::string> HttpAddress(const std::string& url) {
  if (url.rfind("http://", 0) != 0) return std::nullopt;
  std::string a = url.substr(7);
  if (!a.empty() && a.back() == '/') a.pop_back();
  return a;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ClusterMember>> ClusterMember::Start(
    const ClusterMemberOptions& o, const revkv::Options& db_options) {
  const Peer* self = nullptr;
  for (const Peer& p : o.peers) {
    if (p.id == o.id) self = &p;
  }
  if (o.id == 0 || self == nullptr) {
    return absl::InvalidArgumentError("cluster: this member is not in the initial cluster");
  }
  std::unique_ptr<ClusterMember> m(new ClusterMember(o));
  absl::StatusOr<std::unique_ptr<Fsm>> fsm = Fsm::Open(o.data_dir, db_options);
  if (!fsm.ok()) return fsm.status();
  m->fsm_ = *std::move(fsm);
  m->applied_ = std::make_unique<AppliedIndex>(m->fsm_->applied_index());
  m->fsm_->set_on_applied([a = m->applied_.get()](uint64_t index) { a->Advance(index); });
  if (o.on_restore) m->fsm_->set_on_restore(o.on_restore);
  if (o.on_failed) m->fsm_->set_on_failed(o.on_failed);

  NodeOptions no;
  no.id = o.id;
  no.address = self->address;
  no.raft_dir = o.raft_dir;
  if (o.bootstrap) {
    for (const Peer& p : o.peers) no.initial_cluster.emplace_back(p.id, p.address);
  }
  no.election_timeout_ms = o.election_timeout_ms;
  no.heartbeat_timeout_ms = o.heartbeat_timeout_ms;
  no.snapshot_threshold = o.snapshot_threshold;
  no.snapshot_trailing = o.snapshot_trailing;
  absl::StatusOr<std::unique_ptr<RaftNode>> node = RaftNode::Start(no, m->fsm_.get());
  if (!node.ok()) return node.status();
  m->node_ = *std::move(node);
  // Entries raft skipped at start (the DB had them) did not call the hook.
  m->applied_->Advance(m->fsm_->applied_index());
  m->proposer_ = std::make_unique<RaftProposer>(m->node_.get(), o.max_request_bytes);
  m->proposer_->set_check([raw = m.get()](raft* r, const revkvpb::MemberChangeRequest& c) {
    return raw->CheckChange(r, c);
  });
  m->read_index_ = std::make_unique<ReadIndex>(m->node_.get(), m->fsm_.get());
  ForwarderOptions fo;
  fo.self = o.id;
  fo.timeout = o.request_timeout;
  fo.max_batch_bytes = size_t(o.max_request_bytes);
  fo.transport = o.transport;
  if (fo.transport == nullptr) {
    m->own_transport_ = std::make_unique<GrpcTransport>(
        [raw = m.get()](uint64_t id) -> std::optional<std::string> {
          for (const etcdserverpb::Member& member : raw->Members()) {
            if (member.id() != id) continue;
            for (const std::string& u : member.clienturls()) {
              if (std::optional<std::string> a = HttpAddress(u)) return a;
            }
          }
          return std::nullopt;
        },
        kLoopStep);
    fo.transport = m->own_transport_.get();
  }
  m->forwarder_ = std::make_unique<Forwarder>(m->node_.get(), m->proposer_.get(),
                                              m->read_index_.get(), m->applied_.get(),
                                              std::move(fo));
  m->internal_ = std::make_unique<InternalService>(m->proposer_.get(), m->read_index_.get(),
                                                   m->db(), o.request_timeout);
  m->thread_ = std::thread([raw = m.get()] { raw->Loop(); });
  return m;
}

ClusterMember::~ClusterMember() {
  Stop();
  internal_.reset();
  forwarder_.reset();
  own_transport_.reset();
  read_index_.reset();
  proposer_.reset();
  node_.reset();
  transfers_.clear();
  fsm_.reset();  // closes the DB
}

void ClusterMember::Stop() {
  {
    util::MutexLock l(mu_);
    if (stopped_) return;
    stopped_ = true;
    stopping_ = true;
    stop_cv_.NotifyAll();
  }
  // The node first: proposals of the loop fail at once (stopped).
  if (node_ != nullptr) node_->Stop();
  if (applied_ != nullptr) applied_->Close();
  if (thread_.joinable()) thread_.join();
}

bool ClusterMember::stopping() const {
  util::MutexLock l(mu_);
  return stopping_;
}

server::Replication ClusterMember::replication() {
  server::Replication r;
  r.proposer = forwarder_.get();
  r.applier = fsm_->applier();
  r.alarms = fsm_->alarms();
  r.view = this;
  r.services = {internal_.get()};
  return r;
}

std::vector<etcdserverpb::Member> ClusterMember::Members() const {
  if (fsm_->members()->seeded()) {
    std::vector<etcdserverpb::Member> out;
    for (auto& [id, m] : fsm_->members()->All()) out.push_back(std::move(m));
    return out;
  }
  // Before the seed: the initial cluster, with what each published.
  const std::map<uint64_t, etcdserverpb::Member> published = fsm_->members()->All();
  std::vector<etcdserverpb::Member> out;
  for (const Peer& p : options_.peers) {
    etcdserverpb::Member m;
    m.set_id(p.id);
    m.set_name(p.name);
    m.add_peerurls(p.peer_url);
    if (auto it = published.find(p.id); it != published.end()) {
      *m.mutable_clienturls() = it->second.clienturls();
    }
    out.push_back(std::move(m));
  }
  return out;
}

server::RaftView ClusterMember::Raft() const {
  const NodeStatus s = node_->status();
  return server::RaftView{s.leader_id, s.term, s.last_index, s.applied_index};
}

bool ClusterMember::published() const {
  return fsm_->members()->Get(options_.id).has_value();
}

void ClusterMember::Loop() {
  bool published = false;
  int role = -1;  // the state the lessor was last set for
  while (!stopping()) {
    const NodeStatus s = node_->status();
    const int now = s.state == RAFT_LEADER ? RAFT_LEADER : RAFT_FOLLOWER;
    if (now != role) {
      // Only the leader decides lease expiry; a new leader gives every
      // lease a full TTL plus an election's time (etcd's Promote).
      if (now == RAFT_LEADER) {
        db()->lessor()->Promote(std::chrono::milliseconds(options_.election_timeout_ms));
      } else {
        db()->lessor()->Demote();
      }
      role = now;
    }
    if (!published) {
      revkvpb::InternalRequest req;
      revkvpb::MemberAttrRequest* a = req.mutable_member_attr();
      a->set_id(options_.id);
      a->set_name(options_.name);
      for (const std::string& u : options_.client_urls) a->add_client_urls(u);
      published = forwarder_->Propose(std::move(req)).ok();
      if (!published) {
        // Wait a little before the next try (or stop).
        util::MutexLock l(mu_);
        stop_cv_.WaitUntil(mu_, std::chrono::steady_clock::now() + kLoopStep);
      }
      continue;
    }
    FollowMembership();
    node_->WaitFor(
        [role](const NodeStatus& st) {
          return (st.state == RAFT_LEADER ? RAFT_LEADER : RAFT_FOLLOWER) != role;
        },
        std::chrono::steady_clock::now() + kLoopStep);
  }
}

}  // namespace revkv::cluster
