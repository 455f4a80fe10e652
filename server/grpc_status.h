// The gRPC edge of server/errors.h: an absl::Status as the grpc::Status
// etcd answers (code and message clients match on).
//
// Thread-safety: pure functions.
#ifndef REVKV_SERVER_GRPC_STATUS_H_
#define REVKV_SERVER_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"
#include "server/errors.h"

namespace revkv::server {

inline grpc::Status ToGrpcStatus(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  WireError w = ToWireError(s);
  return grpc::Status(grpc::StatusCode(w.code), w.message);
}

}  // namespace revkv::server

#endif  // REVKV_SERVER_GRPC_STATUS_H_
