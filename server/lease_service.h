// LeaseService: etcd's etcdserverpb.Lease over the DB's lessor
// (lease/lessor.h), answering as etcd 3.4's v3rpc LeaseServer does.
//
// Grant and Revoke are writes: proposed as LeaseGrant / LeaseRevoke entries
// (proposer.h) and answered with their apply result. A grant asking for ID
// 0 gets one chosen here, before proposing, so that the entry names it and
// every member grants the same lease: revkv's ids are deterministic -- the
// one after the last chosen (at first, after the largest the lessor holds),
// skipping ids in use -- where etcd's are time-based. A given id is
// honoured; a taken one fails with "etcdserver: lease already exists". A
// chosen id taken before its grant applied (by a grant naming it, or in a
// cluster by another member's choice) is chosen again, up to
// kGrantAttempts times.
//
// KeepAlive, TimeToLive and Leases read the lessor directly (etcd's leader
// answers them without the log). On a cluster follower, whose lessor is
// not primary (only the leader's tracks expiry), keep-alives and
// TimeToLive go to the leader's lessor (ClusterView::LeaderRenew,
// LeaderTimeToLive), as etcd's follower forwards them; Leases lists the
// follower's own copy (the same leases, by the log). A keep-alive for an unknown lease answers
// TTL 0, TimeToLive of one TTL -1 (etcd's forms, which etcdctl prints as
// "expired"); Leases lists ids by expiry, soonest first, as etcd does.
//
// Thread-safety: thread-safe (gRPC calls it from its thread pool).
#ifndef REVKV_SERVER_LEASE_SERVICE_H_
#define REVKV_SERVER_LEASE_SERVICE_H_

#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "revkv/db.h"
#include "server/member.h"
#include "server/proposer.h"
#include "server/quota.h"
#include "server/proto/rpc.grpc.pb.h"
#include "util/mutex.h"

namespace revkv::server {

// The lease's time to live as `lessor` knows it, without the header (ttl
// -1 for a lease that does not exist, as etcd answers). ErrNotPrimary when
// the lessor tracks no expiry (a cluster follower's: the leader's knows).
absl::Status TimeToLiveFromLessor(lease::Lessor* lessor,
                                  const etcdserverpb::LeaseTimeToLiveRequest& req,
                                  etcdserverpb::LeaseTimeToLiveResponse* resp);

class LeaseService final : public etcdserverpb::Lease::Service {
 public:
  static constexpr int kGrantAttempts = 8;

  // None owned; all must outlive the service.
  LeaseService(revkv::DB* db, Proposer* proposer, QuotaGuard* quota, const Member* member)
      : db_(db), proposer_(proposer), quota_(quota), member_(member) {}

  grpc::Status LeaseGrant(grpc::ServerContext*, const etcdserverpb::LeaseGrantRequest* req,
                          etcdserverpb::LeaseGrantResponse* resp) override;
  grpc::Status LeaseRevoke(grpc::ServerContext*, const etcdserverpb::LeaseRevokeRequest* req,
                           etcdserverpb::LeaseRevokeResponse* resp) override;
  // Answers each request on the stream in order until the client closes
  // its side or the call is cancelled.
  grpc::Status LeaseKeepAlive(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<etcdserverpb::LeaseKeepAliveResponse,
                               etcdserverpb::LeaseKeepAliveRequest>* stream) override;
  grpc::Status LeaseTimeToLive(grpc::ServerContext*,
                               const etcdserverpb::LeaseTimeToLiveRequest* req,
                               etcdserverpb::LeaseTimeToLiveResponse* resp) override;
  grpc::Status LeaseLeases(grpc::ServerContext*, const etcdserverpb::LeaseLeasesRequest* req,
                           etcdserverpb::LeaseLeasesResponse* resp) override;

  // One keep-alive of the stream: the response to `req`, or the error that
  // ends the stream. (Public so that tests can drive it without a gRPC
  // stream.) May wait while the lease has expired and its revoke is on
  // its way, as etcd's Renew does.
  grpc::Status KeepAliveOnce(const etcdserverpb::LeaseKeepAliveRequest& req,
                             etcdserverpb::LeaseKeepAliveResponse* resp);

 private:
  // An id for a grant that asked for 0.
  int64_t ChooseId() ABSL_LOCKS_EXCLUDED(mu_);

  revkv::DB* db_;
  Proposer* proposer_;
  QuotaGuard* quota_;  // LeaseGrant passes it first (etcd's quotaLeaseServer)
  const Member* member_;
  util::Mutex mu_;
  // The last id chosen (0: none yet; then the lessor's largest).
  int64_t last_id_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace revkv::server

#endif  // REVKV_SERVER_LEASE_SERVICE_H_
