// The lessor's errors, with etcd's messages where they are the wire
// contract (etcdserver/api/v3rpc/rpctypes): the gRPC Lease service passes
// them on as they are.
//
// Each error carries a payload under kErrorPayloadUrl naming it; the Is*
// helpers recognise an error by its code and that payload, never by its
// message text.
//
// Thread-safety: pure functions.
#ifndef REVKV_LEASE_ERRORS_H_
#define REVKV_LEASE_ERRORS_H_

#include <string>

#include "absl/status/status.h"
#include "util/status_payload.h"

namespace revkv::lease {

inline constexpr char kLeaseNotFoundMessage[] = "etcdserver: requested lease not found";
inline constexpr char kLeaseExistsMessage[] = "etcdserver: lease already exists";
inline constexpr char kLeaseTTLTooLargeMessage[] = "etcdserver: too large lease TTL";
inline constexpr char kNotPrimaryMessage[] = "lease: not a primary lessor";

inline constexpr char kErrorPayloadUrl[] = "revkv.lease.error";

// gRPC NotFound, as etcd's ErrGRPCLeaseNotFound.
inline absl::Status ErrLeaseNotFound() {
  return util::WithName(absl::NotFoundError(kLeaseNotFoundMessage), kErrorPayloadUrl,
                        "not-found");
}
// gRPC FailedPrecondition, as etcd's ErrGRPCLeaseExist.
inline absl::Status ErrLeaseExists() {
  return util::WithName(absl::FailedPreconditionError(kLeaseExistsMessage), kErrorPayloadUrl,
                        "exists");
}
// gRPC OutOfRange, as etcd's ErrGRPCLeaseTTLTooLarge.
inline absl::Status ErrLeaseTTLTooLarge() {
  return util::WithName(absl::OutOfRangeError(kLeaseTTLTooLargeMessage), kErrorPayloadUrl,
                        "ttl-too-large");
}
// The lessor is not the primary (demoted, or closed): etcd's ErrNotPrimary,
// which its server answers as "not leader" for the client to retry.
inline absl::Status ErrNotPrimary() {
  return util::WithName(absl::UnavailableError(kNotPrimaryMessage), kErrorPayloadUrl,
                        "not-primary");
}
// A record of the lease bucket that fails verification; `what` names the
// bucket, the key and the fault.
inline absl::Status ErrBadLeaseRecord(const std::string& what) {
  return util::WithName(absl::DataLossError(what), kErrorPayloadUrl, "bad-record");
}

inline bool IsLeaseNotFound(const absl::Status& s) {
  return util::IsNamed(s, absl::StatusCode::kNotFound, kErrorPayloadUrl, "not-found");
}
inline bool IsLeaseExists(const absl::Status& s) {
  return util::IsNamed(s, absl::StatusCode::kFailedPrecondition, kErrorPayloadUrl, "exists");
}
inline bool IsLeaseTTLTooLarge(const absl::Status& s) {
  return util::IsNamed(s, absl::StatusCode::kOutOfRange, kErrorPayloadUrl, "ttl-too-large");
}
inline bool IsNotPrimary(const absl::Status& s) {
  return util::IsNamed(s, absl::StatusCode::kUnavailable, kErrorPayloadUrl, "not-primary");
}
inline bool IsBadLeaseRecord(const absl::Status& s) {
  return util::IsNamed(s, absl::StatusCode::kDataLoss, kErrorPayloadUrl, "bad-record");
}

}  // namespace revkv::lease

#endif  // REVKV_LEASE_ERRORS_H_
