#include "server/lease_service.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <utility>
#include <variant>
#include <vector>

#include "lease/errors.h"
#include "server/grpc_status.h"
#include "server/kv_calls.h"

namespace revkv::server {
using kv_calls::Answer;

absl::Status TimeToLiveFromLessor(lease::Lessor* lessor,
                                  const etcdserverpb::LeaseTimeToLiveRequest& req,
                                  etcdserverpb::LeaseTimeToLiveResponse* resp) {
  absl::StatusOr<lease::LeaseStatus> st = lessor->TimeToLive(req.id(), req.keys());
  if (lease::IsLeaseNotFound(st.status())) {
    resp->set_id(req.id());
    resp->set_ttl(-1);
    return absl::OkStatus();
  }
  if (!st.ok()) return st.status();
  if (st->remaining == std::chrono::nanoseconds::max()) return lease::ErrNotPrimary();
  resp->set_id(st->id);
  resp->set_ttl(st->RemainingSeconds());  // etcd's: whole seconds left, truncated
  resp->set_grantedttl(st->granted_ttl);
  for (std::string& k : st->keys) resp->add_keys(std::move(k));
  return absl::OkStatus();
}

int64_t LeaseService::ChooseId() {
  lease::Lessor* lessor = db_->lessor();
  // The lessor is asked without mu_ held: mu_ stays a leaf.
  bool started;
  {
    util::MutexLock l(mu_);
    started = last_id_ != 0;
  }
  if (!started) {
    const std::vector<lease::LeaseId> ids = lessor->Leases();
    util::MutexLock l(mu_);
    if (last_id_ == 0 && !ids.empty() && ids.back() > 0) last_id_ = ids.back();
  }
  // Bounded: a lessor cannot hold every positive id. Two grants never get
  // the same id from here; one given explicitly may still take it first
  // (its grant then fails as "lease already exists", as etcd's can).
  for (;;) {
    int64_t id;
    {
      util::MutexLock l(mu_);
      // Ids stay positive (as etcd's); past the largest, start again at 1.
      last_id_ = last_id_ == std::numeric_limits<int64_t>::max() ? 1 : last_id_ + 1;
      id = last_id_;
    }
    if (lease::IsLeaseNotFound(lessor->TimeToLive(id, false).status())) return id;
  }
}

grpc::Status LeaseService::LeaseGrant(grpc::ServerContext*,
                                      const etcdserverpb::LeaseGrantRequest* req,
                                      etcdserverpb::LeaseGrantResponse* resp) {
  if (absl::Status s = quota_->Check(QuotaCost(*req)); !s.ok()) return ToGrpcStatus(s);
  revkvpb::InternalRequest entry;
  *entry.mutable_lease_grant() = *req;
  if (req->id() != lease::kNoLease) {
    return Answer(proposer_->Propose(std::move(entry)), *member_, resp);
  }
  // The id chosen here may be taken before the grant applies: by a grant
  // naming it, or in a cluster by another member's choice still on its way
  // through the log (each member chooses past what it has applied). The
  // client asked for any id: choose again.
  absl::StatusOr<ApplyResult> result;
  for (int attempt = 0; attempt < kGrantAttempts; ++attempt) {
    entry.mutable_lease_grant()->set_id(ChooseId());
    result = proposer_->Propose(entry);
    if (!lease::IsLeaseExists(result.status())) break;
  }
  return Answer(std::move(result), *member_, resp);
}

grpc::Status LeaseService::LeaseRevoke(grpc::ServerContext*,
                                       const etcdserverpb::LeaseRevokeRequest* req,
                                       etcdserverpb::LeaseRevokeResponse* resp) {
  revkvpb::InternalRequest entry;
  *entry.mutable_lease_revoke() = *req;
  return Answer(proposer_->Propose(std::move(entry)), *member_, resp);
}

grpc::Status LeaseService::KeepAliveOnce(const etcdserverpb::LeaseKeepAliveRequest& req,
                                         etcdserverpb::LeaseKeepAliveResponse* resp) {
  // The header's revision is read before the renew, as etcd does: a client
  // never sees a keep-alive at a revision after the lease's revoke.
  member_->Stamp(resp->mutable_header(), db_->Rev());
  resp->set_id(req.id());
  absl::StatusOr<int64_t> ttl = db_->lessor()->Renew(req.id());
  if (lease::IsNotPrimary(ttl.status()) && member_->cluster != nullptr) {
    ttl = member_->cluster->LeaderRenew(req.id());
  }
  if (lease::IsLeaseNotFound(ttl.status())) {
    resp->set_ttl(0);
    return grpc::Status::OK;
  }
  if (!ttl.ok()) return ToGrpcStatus(ttl.status());
  resp->set_ttl(*ttl);
  return grpc::Status::OK;
}

grpc::Status LeaseService::LeaseKeepAlive(
    grpc::ServerContext*,
    grpc::ServerReaderWriter<etcdserverpb::LeaseKeepAliveResponse,
                             etcdserverpb::LeaseKeepAliveRequest>* stream) {
  etcdserverpb::LeaseKeepAliveRequest req;
  while (stream->Read(&req)) {
    etcdserverpb::LeaseKeepAliveResponse resp;
    if (grpc::Status s = KeepAliveOnce(req, &resp); !s.ok()) return s;
    // A failed write: the client has gone, nobody reads the status.
    if (!stream->Write(resp)) return grpc::Status::OK;
  }
  return grpc::Status::OK;
}

grpc::Status LeaseService::LeaseTimeToLive(grpc::ServerContext*,
                                           const etcdserverpb::LeaseTimeToLiveRequest* req,
                                           etcdserverpb::LeaseTimeToLiveResponse* resp) {
  const int64_t rev = db_->Rev();
  absl::Status s = TimeToLiveFromLessor(db_->lessor(), *req, resp);
  if (lease::IsNotPrimary(s) && member_->cluster != nullptr) {
    absl::StatusOr<etcdserverpb::LeaseTimeToLiveResponse> led =
        member_->cluster->LeaderTimeToLive(*req);
    s = led.status();
    if (led.ok()) *resp = std::move(*led);
  }
  if (!s.ok()) return ToGrpcStatus(s);
  member_->Stamp(resp->mutable_header(), rev);
  return grpc::Status::OK;
}

grpc::Status LeaseService::LeaseLeases(grpc::ServerContext*, const etcdserverpb::LeaseLeasesRequest*,
                                       etcdserverpb::LeaseLeasesResponse* resp) {
  lease::Lessor* lessor = db_->lessor();
  std::vector<std::pair<std::chrono::nanoseconds, lease::LeaseId>> by_expiry;
  for (lease::LeaseId id : lessor->Leases()) {
    absl::StatusOr<lease::LeaseStatus> st = lessor->TimeToLive(id, false);
    if (!st.ok()) continue;  // revoked since Leases: not listed
    by_expiry.emplace_back(st->remaining, id);
  }
  std::sort(by_expiry.begin(), by_expiry.end());
  for (const auto& [remaining, id] : by_expiry) resp->add_leases()->set_id(id);
  member_->Stamp(resp->mutable_header(), db_->Rev());
  return grpc::Status::OK;
}

}  // namespace revkv::server
