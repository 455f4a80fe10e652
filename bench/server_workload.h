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
// Rows: ops/s and latency percentiles per engine; ratio revkv/etcd of
// ops/s (put-c1: of the p50 latency, etcd/revkv, so higher is better
// everywhere). Calls that fail are counted and named below the table.
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
  uint64_t conns = 4;          // --conns: gRPC connections per engine
  double duration_s = 3.0;     // --duration per measurement
  std::string etcd = "/usr/bin/etcd";  // --etcd: "none" skips etcd
  std::string revkv;           // --revkv: the binary to serve; empty: this one
};

absl::StatusOr<ServerBenchOptions> ParseServerFlags(const std::vector<std::string>& args);
absl::StatusOr<Report> RunServer(const ServerBenchOptions& o, Progress& progress);

extern const char kServerFlagsUsage[];

}  // namespace revkv::bench

#endif  // REVKV_BENCH_SERVER_WORKLOAD_H_
