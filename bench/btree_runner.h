// The workloads of `revkv bench btree` (btree_suite.h), one round on one
// engine at a time. Internal to the btree suite.
//
// Thread-safety: RunBtreeRound runs on the calling thread plus the reader
// threads it starts and joins; the BtreeData is only read.
#ifndef REVKV_BENCH_BTREE_RUNNER_H_
#define REVKV_BENCH_BTREE_RUNNER_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/btree_suite.h"
#include "bench/dataset.h"
#include "bench/engine.h"
#include "bench/progress.h"
#include "bench/report.h"
#include "bench/sysinfo.h"

namespace revkv::bench {

// The data set, shared by both engines, plus `queries`: the random key
// indices of the gets.
struct BtreeData : DataSet {
  std::vector<uint32_t> queries;
};

// `gets` random indices drawn from a stream of their own.
absl::StatusOr<BtreeData> MakeBtreeData(const CommonFlags& c, uint64_t gets);

// Runs every workload of round `round` (from 0) on `engine`, in
// subdirectories of `dir`, adding one sample per workload to
// samples[workload][engine.name()].
absl::Status RunBtreeRound(const BtreeSuiteOptions& o, const BtreeData& d, Engine& engine,
                           const WorkDir& dir, uint64_t round, Progress& progress,
                           Samples* samples);

}  // namespace revkv::bench

#endif  // REVKV_BENCH_BTREE_RUNNER_H_
