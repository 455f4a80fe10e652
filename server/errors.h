// etcd's client-facing server errors (etcd 3.4 api/v3rpc/rpctypes), as
// absl::Status values inside revkv, with their wire form for the gRPC edge.
//
// Each error carries a payload under kEtcdErrorUrl naming it; ToWireError
// recognises an error by that name (or by mvcc's error names) and answers
// etcd's exact gRPC code and message, which clients (etcdctl, clientv3)
// match on. Errors nobody named become UNKNOWN with their message.
//
// Thread-safety: pure functions.
#ifndef REVKV_SERVER_ERRORS_H_
#define REVKV_SERVER_ERRORS_H_

#include <string>

#include "absl/status/status.h"

namespace revkv::server {

inline constexpr char kEtcdErrorUrl[] = "revkv.etcdserver.error";

absl::Status ErrEmptyKey();        // InvalidArgument "etcdserver: key is not provided"
absl::Status ErrKeyNotFound();     // InvalidArgument "etcdserver: key not found"
absl::Status ErrValueProvided();   // InvalidArgument "etcdserver: value is provided"
absl::Status ErrLeaseProvided();   // InvalidArgument "etcdserver: lease is provided"
absl::Status ErrTooManyOps();      // InvalidArgument "etcdserver: too many operations in txn request"
absl::Status ErrDuplicateKey();    // InvalidArgument "etcdserver: duplicate key given in txn request"
absl::Status ErrRequestTooLarge(); // InvalidArgument "etcdserver: request is too large"
absl::Status ErrInvalidSortOption();  // InvalidArgument "etcdserver: invalid sort option"
absl::Status ErrLeaseNotFound();   // NotFound "etcdserver: requested lease not found"
absl::Status ErrStopped();         // Unavailable "etcdserver: server stopped"
absl::Status ErrNotCapable();      // Unavailable "etcdserver: not capable"
// ResourceExhausted "etcdserver: mvcc: database space exceeded": a write
// past the backend quota, or any put/lease grant while NOSPACE is raised.
absl::Status ErrNoSpace();
// DataLoss "etcdserver: corrupt cluster": any write while CORRUPT is raised.
absl::Status ErrCorrupt();
absl::Status ErrNotLeader();       // Unavailable "etcdserver: not leader"
absl::Status ErrLeaderChanged();   // Unavailable "etcdserver: leader changed"
absl::Status ErrNoLeader();        // Unavailable "etcdserver: no leader"
absl::Status ErrTimeout();         // Unavailable "etcdserver: request timed out"
// Membership (etcd 3.4 rpctypes' ErrGRPCMember*, ErrGRPCLearnerNotReady, ...).
absl::Status ErrMemberExist();       // FailedPrecondition "etcdserver: member ID already exist"
absl::Status ErrPeerURLExist();      // FailedPrecondition "etcdserver: Peer URLs already exists"
absl::Status ErrMemberBadURLs();     // InvalidArgument "etcdserver: given member URLs are invalid"
absl::Status ErrMemberNotFound();    // NotFound "etcdserver: member not found"
absl::Status ErrMemberNotLearner();  // FailedPrecondition "etcdserver: can only promote a learner member"
// FailedPrecondition "etcdserver: can only promote a learner member which is in sync with leader"
absl::Status ErrLearnerNotReady();
absl::Status ErrTooManyLearners();   // FailedPrecondition "etcdserver: too many learner members in cluster"
absl::Status ErrBadLeaderTransferee();  // FailedPrecondition "etcdserver: bad leader transferee"

// Whether `s` is the named etcd error `name` (one of the above's names:
// "empty-key", "key-not-found", "no-space", ...).
bool IsEtcdError(const absl::Status& s, const char* name);

// etcd's gRPC code (grpc::StatusCode's numbering, which is absl's) and
// wire message for `s`: the errors above, mvcc's compacted and
// future-revision errors ("etcdserver: mvcc: required revision ..."), the
// lessor's (lease/errors.h: not found, exists, TTL too large; not primary
// as etcd's "not leader"), and
// UNKNOWN with the message for anything else. grpc_status.h makes a
// grpc::Status of it.
struct WireError {
  int code;
  std::string message;
};
WireError ToWireError(const absl::Status& s);

}  // namespace revkv::server

#endif  // REVKV_SERVER_ERRORS_H_
