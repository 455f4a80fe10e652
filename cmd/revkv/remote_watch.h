// Pieces of client mode's watch shared by the one-watch command
// (remote_watch.cc) and its interactive form (remote_watch_interactive.cc).
//
// Thread-safety: pure functions, but PrintWatchResponse writes to the
// invocation's streams (callers serialise it).
#ifndef REVKV_CMD_REVKV_REMOTE_WATCH_H_
#define REVKV_CMD_REVKV_REMOTE_WATCH_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cmd/revkv/commands.h"
#include "server/proto/rpc.pb.h"

namespace revkv::cli {

// A watch's key words and the command to run per event (after "--").
struct WatchArgs {
  std::vector<std::string> keys;  // key [range_end [ignored...]]
  std::vector<std::string> exec;  // empty: print only
};
// etcdctl's parseWatchArgs + getWatchChan checks on the positional words
// (those after "--" included; `before_dash`: how many precede it, -1 for
// no "--"), with inv's ETCDCTL_WATCH_KEY / _RANGE_END in front. Errors
// carry exit code 128 and etcdctl's text; an interactive line's conflict
// with the environment's key is its caller's to check.
absl::StatusOr<WatchArgs> ParseWatchArgs(const std::vector<std::string>& positional,
                                         int before_dash, bool prefix, const Invocation& inv,
                                         bool interactive);
// The create request clientv3 sends for it.
void FillCreate(const WatchArgs& w, bool prefix, int64_t rev, bool prev_kv,
                etcdserverpb::WatchCreateRequest* c);
// etcdctl's printing of one response of a watcher: the cancel line
// (stderr), the progress line, the response in inv's format, then the
// exec command per event.
absl::Status PrintWatchResponse(const Invocation& inv, const etcdserverpb::WatchResponse& r,
                                const std::vector<std::string>& exec);
absl::StatusOr<std::string> WatchText(const Invocation& inv, const etcdserverpb::WatchResponse& r);
// clientv3's WatchResponse.Err() text for a canceled watch.
std::string CancelText(const etcdserverpb::WatchResponse& r);
// watch -i: watch and progress lines from stdin until it ends.
absl::Status InteractiveWatch(Invocation& inv);

}  // namespace revkv::cli

#endif  // REVKV_CMD_REVKV_REMOTE_WATCH_H_
