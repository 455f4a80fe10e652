// `revkv bench suite|put|range|txn-put|mixed`: revkv's mvcc::Store (the
// etcd-like layer) measured with the workloads of store_workloads.h, and LMDB
// in the same process where the workload exists there (put, range-point,
// range-N, mixed).
//
//   suite    the standard set, the default of `revkv bench`: both engines
//            stay open; the --keys load is split into --rounds segments
//            (put), then every round runs range-point, range-N, range-old
//            (revkv), txn-put (revkv) and mixed for --duration seconds each,
//            then hash-by-rev and compact once (revkv).
//   put      per round and engine: a fresh file loaded with --keys puts.
//   range    per round and engine: load, then range-point, range-N and
//            range-old (revkv).
//   txn-put  per round: load, then transactions of --txn-ops puts (revkv).
//   mixed    per round and engine: load, then --readers readers and one
//            writer for --duration seconds (mixed-read, mixed-write).
// suite and range then add the --scale section (suite_scaling.h): the
// cost per operation on a fresh store of F x --keys keys beside the N-key one.
// Except in the suite, one engine's files are open at a time, so the peak
// RSS figures are that engine's alone. The engine that goes first alternates
// between rounds; ratios are medians of the per-round ratios.
//
// Thread-safety: the functions are not reentrant on one Progress.
#ifndef REVKV_BENCH_STORE_SUITE_H_
#define REVKV_BENCH_STORE_SUITE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/flags.h"
#include "bench/progress.h"
#include "bench/report.h"

namespace revkv::bench {

struct StoreBenchOptions {
  std::string subcommand = "suite";  // suite, put, range, txn-put, mixed
  CommonFlags common;
  uint64_t rounds = 3;           // --rounds; subcommands other than suite: 1; --quick: 1
  double duration_s = 1.0;       // --duration per time-boxed workload and round; --quick: 0.25
  bool sequential = false;       // --sequential-keys: load in key order
  uint64_t range_keys = 1000;    // --range-keys: keys per range of range-N (at most --keys)
  uint64_t txn_ops = 4;          // --txn-ops: puts per transaction of txn-put
  bool lmdb = true;              // --lmdb=false: revkv only
  uint64_t scale = 1;            // --scale (suite, range; default 4): the F of suite_scaling.h; 1: off
};

// Parses the flags after `revkv bench <subcommand>`; --quick sets keys
// 20,000, rounds 1 and duration 0.25 s unless those flags are given.
absl::StatusOr<StoreBenchOptions> ParseStoreBenchFlags(const std::string& subcommand,
                                                       const std::vector<std::string>& args);

absl::StatusOr<Report> RunStoreBench(const StoreBenchOptions& o, Progress& progress);

// Usage text of the flags this file adds.
extern const char kStoreBenchFlagsUsage[];

}  // namespace revkv::bench

#endif  // REVKV_BENCH_STORE_SUITE_H_
