// Conversions for member-to-member calls (revkvpb.Internal): an
// absl::Status with its payloads (so etcd's and mvcc's errors stay
// recognisable by code and payload on the other member), and an apply
// result as a ForwardResponse.
//
// Thread-safety: pure functions.
#ifndef REVKV_RAFT_FORWARD_PROTO_H_
#define REVKV_RAFT_FORWARD_PROTO_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/applier.h"
#include "server/proto/raft_internal.pb.h"

namespace revkv::cluster {

void StatusToProto(const absl::Status& s, revkvpb::StatusProto* out);
absl::Status StatusFromProto(const revkvpb::StatusProto& p);

// `result` into `out` (its error, or the response in its oneof).
void ResultToProto(absl::StatusOr<server::ApplyResult> result, revkvpb::ForwardResponse* out);
// The result `in` carries; Internal if it carries none.
absl::StatusOr<server::ApplyResult> ResultFromProto(revkvpb::ForwardResponse in);

}  // namespace revkv::cluster

#endif  // REVKV_RAFT_FORWARD_PROTO_H_
