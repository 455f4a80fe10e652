#include "server/errors.h"

#include <string>

#include "lease/errors.h"
#include "mvcc/errors.h"
#include "util/status_payload.h"

namespace revkv::server {
namespace {

struct EtcdError {
  const char* name;
  absl::StatusCode code;
  const char* message;
};

constexpr EtcdError kErrors[] = {
    {"empty-key", absl::StatusCode::kInvalidArgument,
     "etcdserver: key is not provided"},
    {"key-not-found", absl::StatusCode::kInvalidArgument,
     "etcdserver: key not found"},
    {"value-provided", absl::StatusCode::kInvalidArgument,
     "etcdserver: value is provided"},
    {"lease-provided", absl::StatusCode::kInvalidArgument,
     "etcdserver: lease is provided"},
    {"too-many-ops", absl::StatusCode::kInvalidArgument,
     "etcdserver: too many operations in txn request"},
    {"duplicate-key", absl::StatusCode::kInvalidArgument,
     "etcdserver: duplicate key given in txn request"},
    {"request-too-large", absl::StatusCode::kInvalidArgument,
     "etcdserver: request is too large"},
    {"invalid-sort-option", absl::StatusCode::kInvalidArgument,
     "etcdserver: invalid sort option"},
    {"lease-not-found", absl::StatusCode::kNotFound,
     "etcdserver: requested lease not found"},
    {"stopped", absl::StatusCode::kUnavailable, "etcdserver: server stopped"},
    {"not-capable", absl::StatusCode::kUnavailable,
     "etcdserver: not capable"},
    {"no-space", absl::StatusCode::kResourceExhausted,
     "etcdserver: mvcc: database space exceeded"},
    {"corrupt", absl::StatusCode::kDataLoss, "etcdserver: corrupt cluster"},
    {"not-leader", absl::StatusCode::kUnavailable, "etcdserver: not leader"},
    {"leader-changed", absl::StatusCode::kUnavailable,
     "etcdserver: leader changed"},
    {"no-leader", absl::StatusCode::kUnavailable, "etcdserver: no leader"},
    {"timeout", absl::StatusCode::kUnavailable,
     "etcdserver: request timed out"},
    {"member-exist", absl::StatusCode::kFailedPrecondition,
     "etcdserver: member ID already exist"},
    {"peer-url-exist", absl::StatusCode::kFailedPrecondition,
     "etcdserver: Peer URLs already exists"},
    {"member-bad-urls", absl::StatusCode::kInvalidArgument,
     "etcdserver: given member URLs are invalid"},
    {"member-not-found", absl::StatusCode::kNotFound, "etcdserver: member not found"},
    {"member-not-learner", absl::StatusCode::kFailedPrecondition,
     "etcdserver: can only promote a learner member"},
    {"learner-not-ready", absl::StatusCode::kFailedPrecondition,
     "etcdserver: can only promote a learner member which is in sync with leader"},
    {"too-many-learners", absl::StatusCode::kFailedPrecondition,
     "etcdserver: too many learner members in cluster"},
    {"bad-leader-transferee", absl::StatusCode::kFailedPrecondition,
     "etcdserver: bad leader transferee"},
};

absl::Status Make(int i) {
  const EtcdError& e = kErrors[i];
  return util::WithName(absl::Status(e.code, e.message), kEtcdErrorUrl, e.name);
}

}  // namespace

absl::Status ErrEmptyKey() { return Make(0); }
absl::Status ErrKeyNotFound() { return Make(1); }
absl::Status ErrValueProvided() { return Make(2); }
absl::Status ErrLeaseProvided() { return Make(3); }
absl::Status ErrTooManyOps() { return Make(4); }
absl::Status ErrDuplicateKey() { return Make(5); }
absl::Status ErrRequestTooLarge() { return Make(6); }
absl::Status ErrInvalidSortOption() { return Make(7); }
absl::Status ErrLeaseNotFound() { return Make(8); }
absl::Status ErrStopped() { return Make(9); }
absl::Status ErrNotCapable() { return Make(10); }
absl::Status ErrNoSpace() { return Make(11); }
absl::Status ErrCorrupt() { return Make(12); }
absl::Status ErrNotLeader() { return Make(13); }
absl::Status ErrLeaderChanged() { return Make(14); }
absl::Status ErrNoLeader() { return Make(15); }
absl::Status ErrTimeout() { return Make(16); }
absl::Status ErrMemberExist() { return Make(17); }
absl::Status ErrPeerURLExist() { return Make(18); }
absl::Status ErrMemberBadURLs() { return Make(19); }
absl::Status ErrMemberNotFound() { return Make(20); }
absl::Status ErrMemberNotLearner() { return Make(21); }
absl::Status ErrLearnerNotReady() { return Make(22); }
absl::Status ErrTooManyLearners() { return Make(23); }
absl::Status ErrBadLeaderTransferee() { return Make(24); }

bool IsEtcdError(const absl::Status& s, const char* name) {
  for (const EtcdError& e : kErrors) {
    if (std::string(e.name) == name) return util::IsNamed(s, e.code, kEtcdErrorUrl, name);
  }
  return false;
}

WireError ToWireError(const absl::Status& s) {
  if (s.ok()) return {0, ""};
  const int out_of_range = int(absl::StatusCode::kOutOfRange);
  if (mvcc::IsCompacted(s)) {
    return {out_of_range, std::string("etcdserver: ") + mvcc::kCompactedMessage};
  }
  if (mvcc::IsFutureRev(s)) {
    return {out_of_range, std::string("etcdserver: ") + mvcc::kFutureRevMessage};
  }
  if (mvcc::IsClosed(s)) return ToWireError(ErrStopped());
  // The lessor's errors carry etcd's messages already (lease/errors.h).
  if (lease::IsLeaseNotFound(s)) return ToWireError(ErrLeaseNotFound());
  if (lease::IsLeaseExists(s) || lease::IsLeaseTTLTooLarge(s)) {
    return {int(s.code()), std::string(s.message())};
  }
  if (lease::IsNotPrimary(s)) return {int(absl::StatusCode::kUnavailable), "etcdserver: not leader"};
  for (const EtcdError& e : kErrors) {
    if (util::IsNamed(s, e.code, kEtcdErrorUrl, e.name)) return {int(e.code), e.message};
  }
  return {int(absl::StatusCode::kUnknown), std::string(s.message())};
}

}  // namespace revkv::server
