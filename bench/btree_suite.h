// `revkv bench btree`: revkv's btree against LMDB, in the same process.
//
// Every workload runs on both engines in each of R rounds; the engine that
// goes first alternates between rounds, and the report gives, per workload,
// the median over rounds of each engine's numbers and the median of the
// per-round ratios revkv/lmdb, so that drift of the machine cancels out.
//
// Per round and engine, in order (one engine's files open at a time):
//   seq-put         N keys in ascending order, --batch puts per write txn,
//                   each commit durable (fsync); then file-size-seq.
//   rand-put        the same N keys in a random order into a fresh file;
//                   then file-size, the data file's size.
//   get-rand        --gets random point gets of existing keys, one thread,
//                   one read txn per 1,000 gets (a reader batching lookups,
//                   as etcd's backend does); latency per get.
//   get-txn         the same, one read txn per get (View() per request);
//                   latency of begin + get + end.
//   scan            full cursor scans (one read txn each) until about
//                   --scan-entries entries were visited.
//   commit-latency  --commits write txns of one random overwrite each, each
//                   committed durably; latency per commit.
//   concurrent-read --readers threads doing random gets (read txn per 1,000)
//                   while a writer commits --batch random overwrites per txn
//                   for --duration seconds; reader gets/s (all readers).
//   concurrent-write the writer of that run: puts/s, latency per commit.
//
// The ratio compares ops/s, but for commit-latency (p50 latency) and the
// file-size rows (bytes). Keys and values come from the shared DataSet.
#ifndef REVKV_BENCH_BTREE_SUITE_H_
#define REVKV_BENCH_BTREE_SUITE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/flags.h"
#include "bench/progress.h"
#include "bench/report.h"

namespace revkv::bench {

struct BtreeSuiteOptions {
  CommonFlags common;
  uint64_t rounds = 3;                // --quick: 1
  uint64_t gets = 0;                  // 0: max(keys, 200,000)
  uint64_t commits = 1'000;           // commit-latency transactions
  double duration_s = 5.0;            // concurrent-read; --quick: 1
  uint64_t scan_entries = 5'000'000;  // scan: entries visited, at least one pass
};

// Parses the flags that follow `revkv bench btree`: the common flags plus
// --rounds, --gets, --commits, --duration, --scan-entries. --quick sets
// keys=20,000, rounds=1, duration=1 unless those flags are given too.
absl::StatusOr<BtreeSuiteOptions> ParseBtreeSuiteFlags(const std::vector<std::string>& args);

absl::StatusOr<Report> RunBtreeSuite(const BtreeSuiteOptions& options, Progress& progress);

// The usage text of the flags above but the common ones.
extern const char kBtreeFlagsUsage[];

}  // namespace revkv::bench

#endif  // REVKV_BENCH_BTREE_SUITE_H_
