// `revkv serve`: wiring for the etcd v3 gRPC server (server/server.h), as
// a single member or, given --initial-cluster, a Raft cluster member
// (serve_cluster.h, raft/cluster_member.h).
// Parses etcd's flags (and their ETCD_* environment variables) for what the
// server supports, opens the data directory, serves until SIGTERM/SIGINT,
// then stops accepting, lets calls in flight finish and closes the DB; a
// second signal exits at once. Logs one JSON line at start (ready, with the
// address), at stop and on error, on stderr.
//
// Thread-safety: call once, from main, before any other thread starts (it
// blocks SIGINT/SIGTERM for the process's threads).
#ifndef REVKV_CMD_REVKV_SERVE_COMMAND_H_
#define REVKV_CMD_REVKV_SERVE_COMMAND_H_

#include <cstdint>
#include <string>
#include <vector>

#include "cmd/revkv/serve_config.h"

namespace revkv::cli {

// Runs `revkv serve args...`; returns the exit code.
int RunServe(const std::vector<std::string>& args);

}  // namespace revkv::cli

#endif  // REVKV_CMD_REVKV_SERVE_COMMAND_H_
