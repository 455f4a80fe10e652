// `revkv bench btree`: revkv's btree against LMDB, in the same process.
//
// Every workload runs on both engines in each of R rounds; the engine that
// goes first alternates between rounds, and the table reports, per workload,
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
// Keys are the decimal index zero-padded to --key-size bytes; values are
// --value-size random bytes.
#ifndef REVKV_BENCH_BTREE_SUITE_H_
#define REVKV_BENCH_BTREE_SUITE_H_

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/histogram.h"
#include "bench/report.h"
#include "bench/timeline.h"

namespace revkv::bench {

struct BtreeSuiteOptions {
  uint64_t keys = 1'000'000;
  uint64_t key_size = 16;
  uint64_t value_size = 128;
  uint64_t batch = 10'000;
  int rounds = 3;
  int readers = 2;
  uint64_t seed = 1;
  // Where the files go; empty: a new temporary directory, removed after.
  // Given: per-engine subdirectories inside it, removed after.
  std::string dir;
  bool quick = false;
  bool json = false;
  bool csv = false;
  std::string plot;  // --plot FILE.svg
  bool help = false;
  uint64_t gets = 0;             // 0: max(keys, 200,000)
  uint64_t commits = 1'000;      // commit-latency transactions
  double duration_s = 5.0;       // concurrent-read; --quick: 1
  uint64_t scan_entries = 5'000'000;  // scan: entries visited, at least one pass
};

// Parses the flags that follow `revkv bench btree` with the shared parser
// (flags.h): the common flags plus --rounds, --gets, --commits, --duration,
// --scan-entries. --quick sets keys=20,000, rounds=1, duration=1 unless those
// flags are given too.
absl::StatusOr<BtreeSuiteOptions> ParseBtreeSuiteFlags(const std::vector<std::string>& args);

// One (workload, engine) result: medians over rounds. Negative values and
// zero counts mean "not applicable".
struct BtreeResult {
  std::string workload;
  std::string engine;  // "revkv" or "lmdb"
  double n = 0;        // operations measured
  double seconds = -1;
  double ops_per_s = -1;
  double p50_us = -1, p99_us = -1, p999_us = -1;
  double file_bytes = -1;
  double peak_rss_bytes = -1;
  // Every round's latencies, the last round's timeline (for --plot); null: none.
  std::shared_ptr<const Histogram> latency;
  std::shared_ptr<const Timeline> timeline;
};

// One workload's comparison.
struct BtreeComparison {
  std::string workload;
  std::string metric;       // what the ratio compares
  bool higher_is_better = true;
  double ratio = 0;         // median over rounds of revkv/lmdb
  std::string latency_of;   // what one latency sample is; empty: none
  BtreeResult revkv, lmdb;
};

struct BtreeSuiteReport {
  BtreeSuiteOptions options;
  std::string revkv_description, lmdb_description;
  std::vector<BtreeComparison> rows;
};

// Runs the suite, writing progress lines to `progress` (may be null).
absl::StatusOr<BtreeSuiteReport> RunBtreeSuite(const BtreeSuiteOptions& options,
                                               std::FILE* progress);

// The human table, and the JSON lines (one object per workload and engine).
std::string FormatBtreeTable(const BtreeSuiteReport& report);
std::string FormatBtreeJson(const BtreeSuiteReport& report);
// The report in the shared form (report.h), for JSON, CSV and the plot.
Report BtreeToReport(const BtreeSuiteReport& report);

// The CLI entry point: parses args (the words after `bench btree`), runs,
// prints the table or JSON to stdout. Returns the exit code.
int BtreeSuiteMain(const std::vector<std::string>& args);

// Usage text of `revkv bench btree --help`.
extern const char kBtreeUsage[];

}  // namespace revkv::bench

#endif  // REVKV_BENCH_BTREE_SUITE_H_
