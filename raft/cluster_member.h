// ClusterMember: one `revkv serve` member of a Raft cluster -- its Fsm (the
// DB in the data directory and the applier over it), its RaftNode (the
// raft log in `raft_dir`, the TCP transport on its peer address), and what
// the server needs from it (server::Replication): the Forwarder as
// proposer, the Fsm's applier and alarm store, this object as the
// ClusterView, and the InternalService its peers call.
//
// Members: the table in the DB's members bucket (server/member_store.h),
// changed only through the log, so MemberList answers alike everywhere.
// The first leader records the initial members there (a SEED entry: raft's
// bootstrap configuration, with the names and peer URLs of the initial
// cluster); until then Members() lists the initial cluster. A background
// thread publishes this member's name and client URLs through the log (a
// member_attr entry, retried until applied).
//
// Membership changes (membership.cc): AddMember, RemoveMember,
// PromoteMember and UpdateMember propose a member_change entry (forwarded
// to the leader like any write) and answer once it is applied here. Raft's
// own configuration follows the table: the leader's background thread
// compares the two every loop step and makes one raft change at a time --
// raft_add (a spare), then raft_assign to RAFT_STANDBY (replicated, not
// voting: etcd's learner), then to RAFT_VOTER unless the table says
// learner (canonical raft promotes once the member has caught up);
// raft_remove for a member the table no longer lists, an election
// timeout after it first saw it so (the member must hear of its removal
// through the log first; the leader hands leadership on first if it is
// the one removed). So a change survives a
// leader change: the next leader carries it on. PromoteMember is refused
// on the leader, before it is proposed, while the learner's replicated
// index is below 90% of the leader's (etcd's readiness rule). A peer URL
// update changes the table only: raft keeps dialing the address it was
// added with (canonical raft cannot change a server's address).
//
// A removed member stops: once the table says it was removed and raft's
// configuration no longer holds it (or two election timeouts after the
// first), the thread
// calls on_removed once (`revkv serve` then shuts down as on SIGTERM).
//
// MoveLeader: raft_transfer on the leader, answered once the target
// leads (timeout otherwise).
//
// The same thread follows leadership for leases (etcd's lessor Promote/
// Demote): the leader's lessor is primary and decides expiry (its
// expirer proposes revokes through the log); a follower's is not, so it
// expires nothing, and its server sends keep-alives and time-to-live
// requests to the leader's (LeaderRenew, LeaderTimeToLive).
//
// Thread-safety: thread-safe. Lock order: mu_ (the loop thread's stop
// flag) is a leaf; see read_index.h and forwarder.h for theirs.
#ifndef REVKV_RAFT_CLUSTER_MEMBER_H_
#define REVKV_RAFT_CLUSTER_MEMBER_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "raft/applied_index.h"
#include "raft/forwarder.h"
#include "raft/fsm.h"
#include "raft/internal_service.h"
#include "raft/node.h"
#include "raft/peer_transport.h"
#include "raft/proposer.h"
#include "raft/read_index.h"
#include "server/cluster_view.h"
#include "server/server.h"
#include "util/mutex.h"

namespace revkv::cluster {

struct Peer {
  uint64_t id = 0;
  std::string name;
  std::string peer_url;  // as given ("http://127.0.0.1:2380")
  std::string address;   // raft's "IP:port" of it
};

struct ClusterMemberOptions {
  uint64_t id = 0;  // this member: one of `peers`
  std::string name;
  std::vector<std::string> client_urls;  // advertised (published)
  std::vector<Peer> peers;               // every member, this one included
  std::string data_dir;                  // the DB (revkv::DB::Open's dir)
  std::string raft_dir;                  // raft's log; must exist
  // Bootstrap `peers` as a new cluster's configuration when the raft log
  // is empty (--initial-cluster-state new).
  bool bootstrap = true;
  unsigned election_timeout_ms = 1000;
  unsigned heartbeat_timeout_ms = 100;
  unsigned snapshot_threshold = 10000;
  unsigned snapshot_trailing = 5000;
  int64_t max_request_bytes = 1536 * 1024;
  std::chrono::milliseconds request_timeout{7000};
  // The id of a member added with `peer_urls` (sorted, comma-joined:
  // MemberAdd's request carries no name); a member joining with that one
  // URL computes the same. Null: a hash of them.
  std::function<uint64_t(const std::string& peer_urls)> added_member_id;
  // Called once (on the member's thread) when this member was removed.
  std::function<void()> on_removed;
  // Called (on the raft thread) before a snapshot from the leader replaces
  // the DB's data in place; see fsm.h. Null: nothing is called.
  std::function<void()> on_restore;
  // Called once (on the raft thread) when the state machine fails for good
  // (fsm.h: its data file cannot be written, an entry does not decode):
  // the member can apply nothing more until it restarts.
  std::function<void(const absl::Status&)> on_failed;
  // How calls reach other members; null: gRPC to the first http:// client
  // URL each published. Not owned (tests pass an in-process one).
  PeerTransport* transport = nullptr;
};

class ClusterMember : public server::ClusterView {
 public:
  static absl::StatusOr<std::unique_ptr<ClusterMember>> Start(const ClusterMemberOptions& options,
                                                              const revkv::Options& db_options);
  ClusterMember(const ClusterMember&) = delete;
  ClusterMember& operator=(const ClusterMember&) = delete;
  // Stop, then closes the DB.
  ~ClusterMember() override;

  // Stops the background thread and the raft node (proposals in flight
  // fail); the server must be shut down first. Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  // What the server runs on; valid until Stop.
  server::Replication replication();
  revkv::DB* db() { return fsm_->db(); }

  // server::ClusterView
  std::vector<etcdserverpb::Member> Members() const override;
  server::RaftView Raft() const override;
  absl::Status ReadBarrier() override { return forwarder_->ReadBarrier(); }
  absl::StatusOr<int64_t> LeaderRenew(int64_t id) override {
    return forwarder_->LeaseRenew(id, db()->lessor());
  }
  absl::StatusOr<etcdserverpb::LeaseTimeToLiveResponse> LeaderTimeToLive(
      const etcdserverpb::LeaseTimeToLiveRequest& req) override {
    return forwarder_->LeaseTimeToLive(req, db()->lessor());
  }
  absl::StatusOr<etcdserverpb::Member> AddMember(const std::vector<std::string>& peer_urls,
                                                 bool is_learner) override;
  absl::Status RemoveMember(uint64_t id) override;
  absl::Status PromoteMember(uint64_t id) override;
  absl::Status UpdateMember(uint64_t id, const std::vector<std::string>& peer_urls) override;
  absl::Status MoveLeader(uint64_t target) override;

  RaftNode* node() { return node_.get(); }
  InternalService* internal_service() { return internal_.get(); }
  Forwarder* forwarder() { return forwarder_.get(); }
  ReadIndex* read_index() { return read_index_.get(); }
  // Whether this member's attributes were applied (published).
  bool published() const;

 private:
  explicit ClusterMember(ClusterMemberOptions options) : options_(std::move(options)) {}
  // Publishes the attributes (until applied), then follows leadership and
  // membership.
  void Loop() ABSL_LOCKS_EXCLUDED(mu_);
  // One step of the membership follow-up (membership.cc): the seed, one
  // raft configuration change on the leader, this member's removal.
  void FollowMembership() ABSL_LOCKS_EXCLUDED(mu_);
  // On the loop thread: one raft change toward the table (leader only).
  void ReconcileOnLoop(raft* r);
  // On the loop thread: whether a promotion of `change.id()` may go ahead.
  absl::Status CheckChange(raft* r, const revkvpb::MemberChangeRequest& change);
  absl::Status ProposeChange(revkvpb::MemberChangeRequest change);
  bool stopping() const ABSL_LOCKS_EXCLUDED(mu_);

  const ClusterMemberOptions options_;
  std::unique_ptr<Fsm> fsm_;
  std::unique_ptr<AppliedIndex> applied_;
  std::unique_ptr<RaftNode> node_;
  std::unique_ptr<RaftProposer> proposer_;
  std::unique_ptr<ReadIndex> read_index_;
  std::unique_ptr<PeerTransport> own_transport_;
  std::unique_ptr<Forwarder> forwarder_;
  std::unique_ptr<InternalService> internal_;
  std::thread thread_;
  // The Loop thread's: when it first saw this member removed, and whether
  // on_removed was called.
  std::optional<std::chrono::steady_clock::time_point> removed_seen_;
  bool removed_told_ = false;
  // The loop thread's: leadership transfers raft may still use (freed
  // after the node stopped).
  std::vector<std::unique_ptr<struct raft_transfer>> transfers_;
  // The loop thread's: when the leader first saw each member it must
  // remove from raft's configuration (membership.cc waits an election).
  std::map<uint64_t, std::chrono::steady_clock::time_point> removal_seen_;

  mutable util::Mutex mu_;
  util::CondVar stop_cv_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace revkv::cluster

#endif  // REVKV_RAFT_CLUSTER_MEMBER_H_
