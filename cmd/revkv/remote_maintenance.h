// Calls of etcd's Maintenance service that more than one client-mode
// command makes (remote_maintenance.cc, remote_endpoint.cc).
//
// Thread-safety: as the connection's (remote_channel.h).
#ifndef REVKV_CMD_REVKV_REMOTE_MAINTENANCE_H_
#define REVKV_CMD_REVKV_REMOTE_MAINTENANCE_H_

#include "absl/status/statusor.h"
#include "cmd/revkv/remote_channel.h"
#include "server/proto/rpc.grpc.pb.h"

namespace revkv::cli {

// The alarms raised (AlarmRequest GET); errors as FromGrpc's.
absl::StatusOr<etcdserverpb::AlarmResponse> ListAlarms(
    const Stubbed<etcdserverpb::Maintenance>& m);

}  // namespace revkv::cli

#endif  // REVKV_CMD_REVKV_REMOTE_MAINTENANCE_H_
