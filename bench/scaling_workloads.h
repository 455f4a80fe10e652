// The workloads of `revkv bench scaling`: operations whose cost grows with
// their size n -- a transaction of n ops (through the CLI's txn path and
// through mvcc's TxnWrite), a range, a delete-range, a compaction, a hash of
// n keys, opening a store of n keys. Each run builds what the operation
// needs in a store of its own (not timed), times the operation once in CPU
// time, checks its result, and removes the store.
//
// Thread-compatible: one workload at a time.
#ifndef REVKV_BENCH_SCALING_WORKLOADS_H_
#define REVKV_BENCH_SCALING_WORKLOADS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/dataset.h"
#include "bench/sysinfo.h"

namespace revkv::bench {

struct ScalingEnv {
  const DataSet* data = nullptr;  // at least n keys
  const WorkDir* dir = nullptr;
};

struct ScalingWorkload {
  const char* name;
  const char* element;  // what one of the n elements is
  // CPU seconds (all the process's threads) the operation on n elements took.
  absl::StatusOr<double> (*run)(const ScalingEnv& env, uint64_t n);
};

// Every workload, in the order the report lists them.
const std::vector<ScalingWorkload>& ScalingWorkloads();

}  // namespace revkv::bench

#endif  // REVKV_BENCH_SCALING_WORKLOADS_H_
