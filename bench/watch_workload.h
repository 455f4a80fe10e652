// `revkv bench watch`: the cost of etcd-style watches (mvcc/watchable_store.h)
// through revkv::DB.
//
// Per watcher count W (--watchers, default 1,1000,100000) and layout (keys:
// W watchers on W distinct keys; prefix: W watchers on one shared prefix):
// one writer puts for --duration seconds to the watched keys (random ones;
// under the prefix for "prefix"), while one consumer thread reads the one
// stream holding the watchers. Rows:
//   put-wW-keys / put-wW-prefix  the writer's puts/s and put latency, against
//                                the same writer with no watcher (the peer
//                                column, "no watchers"; ratio = with/without)
//   deliver-wW-...               events delivered per second and the latency
//                                from the start of the put to the consumer
//                                holding the event (commit to delivery)
//   catchup-N                    a watcher starting N revisions in the past
//                                (--catchup, default 1,000,000) while puts
//                                continue: events/s until it is caught up
// and below the table the resident memory per idle watcher (RSS delta / W)
// for each W.
//
// Thread-compatible: call from the main thread.
#ifndef REVKV_BENCH_WATCH_WORKLOAD_H_
#define REVKV_BENCH_WATCH_WORKLOAD_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/flags.h"
#include "bench/progress.h"
#include "bench/report.h"

namespace revkv::bench {

struct WatchBenchOptions {
  CommonFlags common;
  std::vector<uint64_t> watchers = {1, 1000, 100000};  // --watchers
  uint64_t catchup = 1'000'000;                        // --catchup: revisions behind
  double duration_s = 2.0;                             // --duration per measurement
  bool prefix = true;                                  // --prefix=false: distinct keys only
};

absl::StatusOr<WatchBenchOptions> ParseWatchFlags(const std::vector<std::string>& args);
absl::StatusOr<Report> RunWatch(const WatchBenchOptions& o, Progress& progress);

extern const char kWatchFlagsUsage[];

}  // namespace revkv::bench

#endif  // REVKV_BENCH_WATCH_WORKLOAD_H_
