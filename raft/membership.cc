// ClusterMember's membership changes and their follow-up in raft's
// configuration (see cluster_member.h).
#include <algorithm>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "raft/cluster_member.h"
#include "server/errors.h"

namespace revkv::cluster {
namespace {

using Change = revkvpb::MemberChangeRequest;

// How long a removed member waits for raft to drop it before it stops
// (in elections): a removed follower seldom hears of its removal, since
// the leader stops replicating to it at once.
constexpr unsigned kRemovedGraceElections = 2;
// etcd's readiness rule: a learner may be promoted once its match index
// reaches 90% of the leader's.
constexpr double kReadyFraction = 0.9;

// raft's "IP:port" for a peer URL ("http://IP:port").
std::string RaftAddress(const std::string& url) {
  std::string a = url;
  if (a.rfind("http://", 0) == 0) a = a.substr(7);
  if (!a.empty() && a.back() == '/') a.pop_back();
  return a;
}

const raft_server* FindServer(const raft* r, uint64_t id) {
  for (unsigned i = 0; i < r->configuration.n; ++i) {
    if (r->configuration.servers[i].id == id) return &r->configuration.servers[i];
  }
  return nullptr;
}

void OnChanged(raft_change* req, int /*status*/) { delete req; }

absl::Status ChangeError(const char* what, int rv) {
  if (rv == RAFT_NOTLEADER) return server::ErrNotLeader();
  return absl::InternalError(absl::StrCat("raft: ", what, ": ", raft_strerror(rv)));
}

}  // namespace

absl::Status ClusterMember::ProposeChange(Change change) {
  revkvpb::InternalRequest req;
  *req.mutable_member_change() = std::move(change);
  absl::StatusOr<server::ApplyResult> r = forwarder_->Propose(std::move(req));
  return r.status();
}

absl::StatusOr<etcdserverpb::Member> ClusterMember::AddMember(
    const std::vector<std::string>& peer_urls, bool is_learner) {
  if (peer_urls.empty()) return server::ErrMemberBadURLs();
  for (const std::string& u : peer_urls) {
    if (u.rfind("http://", 0) != 0 || RaftAddress(u).find(':') == std::string::npos) {
      return server::ErrMemberBadURLs();
    }
  }
  Change c;
  c.set_op(Change::ADD);
  std::vector<std::string> sorted = peer_urls;
  std::sort(sorted.begin(), sorted.end());
  const std::string urls = absl::StrJoin(sorted, ",");
  c.set_id(options_.added_member_id ? options_.added_member_id(urls)
                                    : (std::hash<std::string>()(urls) | 1));
  for (const std::string& u : peer_urls) c.add_peer_urls(u);
  c.set_is_learner(is_learner);
  etcdserverpb::Member m;
  m.set_id(c.id());
  *m.mutable_peerurls() = c.peer_urls();
  m.set_islearner(is_learner);
  if (absl::Status s = ProposeChange(std::move(c)); !s.ok()) return s;
  return m;
}

absl::Status ClusterMember::RemoveMember(uint64_t id) {
  Change c;
  c.set_op(Change::REMOVE);
  c.set_id(id);
  return ProposeChange(std::move(c));
}

absl::Status ClusterMember::PromoteMember(uint64_t id) {
  Change c;
  c.set_op(Change::PROMOTE);
  c.set_id(id);
  return ProposeChange(std::move(c));
}

absl::Status ClusterMember::UpdateMember(uint64_t id, const std::vector<std::string>& peer_urls) {
  if (peer_urls.empty()) return server::ErrMemberBadURLs();
  Change c;
  c.set_op(Change::UPDATE);
  c.set_id(id);
  for (const std::string& u : peer_urls) c.add_peer_urls(u);
  return ProposeChange(std::move(c));
}

absl::Status ClusterMember::MoveLeader(uint64_t target) {
  if (node_->status().state != RAFT_LEADER) return server::ErrNotLeader();
  std::optional<etcdserverpb::Member> m = fsm_->members()->Get(target);
  bool known = m.has_value();
  if (!fsm_->members()->seeded()) {
    for (const Peer& p : options_.peers) known = known || p.id == target;
  }
  if (!known || (m.has_value() && m->islearner())) return server::ErrBadLeaderTransferee();
  if (target == options_.id) return absl::OkStatus();
  int rv = 0;
  absl::Status s = node_->RunOnLoop([&](raft* r) {
    auto t = std::make_unique<struct raft_transfer>();
    rv = raft_transfer(r, t.get(), target, [](struct raft_transfer*) {});
    if (rv == 0) transfers_.push_back(std::move(t));
  });
  if (!s.ok()) return s;
  // Not a voter in raft's configuration (yet): as etcd, a bad transferee.
  if (rv == RAFT_BADID) return server::ErrBadLeaderTransferee();
  if (rv != 0) return ChangeError("raft_transfer", rv);
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(3 * options_.election_timeout_ms);
  if (!node_->WaitFor([target](const NodeStatus& st) { return st.leader_id == target; },
                      deadline)) {
    return server::ErrTimeout();
  }
  return absl::OkStatus();
}

absl::Status ClusterMember::CheckChange(raft* r, const Change& c) {
  if (c.op() != Change::PROMOTE) return absl::OkStatus();
  std::optional<etcdserverpb::Member> m = fsm_->members()->Get(c.id());
  // Unknown, or a voter: the apply answers (member-not-found, -not-learner).
  if (!m.has_value() || !m->islearner()) return absl::OkStatus();
  for (unsigned i = 0; i < r->configuration.n; ++i) {
    const raft_server& s = r->configuration.servers[i];
    if (s.id != c.id()) continue;
    if (s.role == RAFT_SPARE) return server::ErrLearnerNotReady();
    const raft_index match = r->leader_state.progress[i].match_index;
    if (double(match) < double(raft_last_index(r)) * kReadyFraction) {
      return server::ErrLearnerNotReady();
    }
    return absl::OkStatus();
  }
  return server::ErrLearnerNotReady();  // raft has not added it yet
}

void ClusterMember::ReconcileOnLoop(raft* r) {
  if (raft_state(r) != RAFT_LEADER || r->leader_state.change != nullptr ||
      r->leader_state.promotee_id != 0 || r->configuration_uncommitted_index != 0) {
    return;  // one change at a time
  }
  const std::map<uint64_t, etcdserverpb::Member> want = fsm_->members()->All();
  const auto now = std::chrono::steady_clock::now();
  for (unsigned i = 0; i < r->configuration.n; ++i) {
    const raft_server& s = r->configuration.servers[i];
    if (want.contains(s.id)) continue;
    // The removed member hears of its removal only from the leader's
    // heartbeats (the commit index of the REMOVE entry), which stop once
    // raft's configuration drops it: give it an election's time first.
    const auto since = removal_seen_.try_emplace(s.id, now).first;
    if (now - since->second < std::chrono::milliseconds(options_.election_timeout_ms)) return;
    if (s.id == options_.id) {
      // Removed while leading: hand leadership on; the next leader removes
      // this member.
      if (r->transfer == nullptr) {
        auto t = std::make_unique<struct raft_transfer>();
        if (raft_transfer(r, t.get(), 0, [](struct raft_transfer*) {}) == 0) {
          transfers_.push_back(std::move(t));
        }
      }
      return;
    }
    auto* req = new raft_change{};
    if (raft_remove(r, req, s.id, &OnChanged) != 0) delete req;
    return;
  }
  for (const auto& [id, m] : want) {
    const raft_server* s = FindServer(r, id);
    auto* req = new raft_change{};
    int rv = -1;
    if (s == nullptr) {
      if (m.peerurls().empty()) {
        delete req;
        continue;
      }
      rv = raft_add(r, req, id, RaftAddress(m.peerurls(0)).c_str(), &OnChanged);
    } else if (s->role == RAFT_SPARE) {
      rv = raft_assign(r, req, id, RAFT_STANDBY, &OnChanged);
    } else if (s->role == RAFT_STANDBY && !m.islearner()) {
      rv = raft_assign(r, req, id, RAFT_VOTER, &OnChanged);
    } else {
      delete req;
      continue;
    }
    if (rv != 0) delete req;
    return;
  }
}

void ClusterMember::FollowMembership() {
  server::MemberStore* table = fsm_->members();
  const NodeStatus st = node_->status();
  if (st.state == RAFT_LEADER && !table->seeded()) {
    // The initial members, as raft's configuration has them.
    Change c;
    c.set_op(Change::SEED);
    node_
        ->RunOnLoop([&](raft* r) {
          for (unsigned i = 0; i < r->configuration.n; ++i) {
            const raft_server& s = r->configuration.servers[i];
            etcdserverpb::Member* m = c.add_seed();
            m->set_id(s.id);
            m->set_islearner(s.role != RAFT_VOTER);
            std::string url = absl::StrCat("http://", s.address);
            for (const Peer& p : options_.peers) {
              if (p.id == s.id) {
                url = p.peer_url;
                m->set_name(p.name);
              }
            }
            m->add_peerurls(url);
          }
        })
        .IgnoreError();                                                // stopping
    if (c.seed_size() > 0) ProposeChange(std::move(c)).IgnoreError();  // retried next step
    return;
  }
  if (st.state == RAFT_LEADER) {
    node_->RunOnLoop([this](raft* r) { ReconcileOnLoop(r); }).IgnoreError();
  }
  if (removed_told_ || !table->removed(options_.id)) return;
  const auto now = std::chrono::steady_clock::now();
  if (!removed_seen_.has_value()) removed_seen_ = now;
  bool in_config = true;
  node_->RunOnLoop([&](raft* r) { in_config = FindServer(r, options_.id) != nullptr; })
      .IgnoreError();
  const auto grace =
      std::chrono::milliseconds(kRemovedGraceElections * options_.election_timeout_ms);
  if (in_config && now - *removed_seen_ < grace) return;
  removed_told_ = true;
  if (options_.on_removed) options_.on_removed();
}

}  // namespace revkv::cluster
