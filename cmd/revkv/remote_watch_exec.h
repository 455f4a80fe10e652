// watch's exec form (`revkv watch KEY -- CMD ARGS...`): CMD runs once per
// event, in order, with etcdctl's ETCD_WATCH_REVISION, ETCD_WATCH_EVENT_TYPE,
// ETCD_WATCH_KEY and ETCD_WATCH_VALUE (Go-quoted) added to the environment
// and revkv's stdout and stderr as its own. A command that cannot start or
// fails ends the watch as etcdctl's does: `command ["CMD" "ARG"] error
// (exit status N)` and exit code 1.
//
// Thread-safety: used by one thread.
#ifndef REVKV_CMD_REVKV_REMOTE_WATCH_EXEC_H_
#define REVKV_CMD_REVKV_REMOTE_WATCH_EXEC_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "server/proto/rpc.pb.h"

namespace revkv::cli {

absl::Status RunForEvents(const std::vector<std::string>& command,
                          const etcdserverpb::WatchResponse& r);

}  // namespace revkv::cli

#endif  // REVKV_CMD_REVKV_REMOTE_WATCH_EXEC_H_
