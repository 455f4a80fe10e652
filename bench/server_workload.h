// `revkv bench server`: `revkv serve` against a real etcd 3.4 on loopback,
// both driven in the same run by the same gRPC client (etcd's v3 API).
//
// Each engine runs as a child process (bench/server_process.h) on a fresh
// data directory; etcd is measured when its binary (--etcd, default
// /usr/bin/etcd) is installed, else only revkv is. Per engine: --keys keys
// are loaded (256 calls at a time, not measured), then, each for
// --duration seconds with C calls in flight over --conns connections:
//   put-cC                   Put of a random key (C from --put-clients,
//                            default 1,16,256)
//   range-cC-linearizable    point Range of a random loaded key
//   range-cC-serializable    the same, serializable (C: --range-clients,
//                            default 256)
//   txn-cC                   Txn: if the key's mod revision > 0 then Put
//                            it, else Range it (C: --txn-clients, default 64)
//   failover                 with --cluster N >= 3: seconds from SIGKILL
//                            of the leader to the next acknowledged Put
//                            through a survivor, --failovers times (the
//                            killed member restarts with its data between)
// Rows: ops/s and latency percentiles per engine; ratio revkv/etcd of
// ops/s (put-c1 and failover: of the p50 latency, lower is better). Calls
// that fail are counted and named below the table.
//
// With --cluster N, each engine runs N members on loopback with the same
// election timeout and heartbeat (etcd's defaults), and the calls spread
// over every member, the leader's connections first: the single-client
// rows talk to the leader of both engines.
//
// Thread-compatible: call from the main thread.
#ifndef REVKV_BENCH_SERVER_WORKLOAD_H_
#define REVKV_BENCH_SERVER_WORKLOAD_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/flags.h"
#include "bench/progress.h"
#include "bench/report.h"

namespace revkv::bench {

struct ServerBenchOptions {
  CommonFlags common;                          // --keys defaults to 100,000 here
  std::vector<uint64_t> put_clients = {1, 16, 256};
  uint64_t range_clients = 256;
  uint64_t txn_clients = 64;
  uint64_t conns = 4;          // --conns: gRPC connections per engine (or member)
  uint64_t cluster = 1;        // --cluster: members per engine
  uint64_t failovers = 0;      // --failovers: leader kills (default 3 if cluster >= 3)
  double duration_s = 3.0;     // --duration per measurement
  std::string etcd = "/usr/bin/etcd";  // --etcd: "none" skips etcd
  std::string revkv;           // --revkv: the binary to serve; empty: this one
};

absl::StatusOr<ServerBenchOptions> ParseServerFlags(const std::vector<std::string>& args);
absl::StatusOr<Report> RunServer(const ServerBenchOptions& o, Progress& progress);

extern const char kServerFlagsUsage[];

}  // namespace revkv::bench

#endif  // REVKV_BENCH_SERVER_WORKLOAD_H_
