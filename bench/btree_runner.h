// The workloads of `revkv bench btree` (btree_suite.h), one round on one
// engine at a time. Internal to the btree suite.
//
// Thread-safety: RunBtreeRound runs on the calling thread plus the reader
// threads it starts and joins; the BtreeData is only read.
#ifndef REVKV_BENCH_BTREE_RUNNER_H_
#define REVKV_BENCH_BTREE_RUNNER_H_

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/btree_suite.h"
#include "bench/dataset.h"
#include "bench/engine.h"
#include "bench/histogram.h"
#include "bench/timeline.h"

namespace revkv::bench {

// The data set (dataset.h), shared by both engines, plus `queries`: the
// random key indices of the gets.
struct BtreeData : DataSet {
  std::vector<uint32_t> queries;
};

absl::StatusOr<BtreeData> MakeBtreeData(const BtreeSuiteOptions& o, uint64_t gets);

// One round's measurement of one workload on one engine; negative: does not
// apply. `latency` and `timeline` feed the --plot output.
struct RoundSample {
  double n = 0;
  double seconds = -1;
  double ops_per_s = -1;
  double p50_us = -1, p99_us = -1, p999_us = -1;
  double file_bytes = -1;
  double peak_rss_bytes = -1;
  Histogram latency;
  Timeline timeline;

  void SetLatency(const Histogram& h);
  void SetRate(double ops, uint64_t ns);
};

using RoundSamples = std::map<std::string, RoundSample>;  // by workload

// Runs every workload of one round on `engine` in directories under `base`,
// writing progress lines to `progress` (may be null). `rss_reset`: whether
// ResetPeakRss works here. Adds what it read to *sink (keeps reads alive).
absl::Status RunBtreeRound(const BtreeSuiteOptions& o, const BtreeData& d, std::FILE* progress,
                           bool rss_reset, Engine& engine, const std::string& base, int round,
                           RoundSamples* samples, uint64_t* sink);

}  // namespace revkv::bench

#endif  // REVKV_BENCH_BTREE_RUNNER_H_
