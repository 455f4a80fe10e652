// The scaling section of `revkv bench suite` and `revkv bench range`
// (--scale F, default 4; 1: off): how the cost per operation grows with the
// store's size, on every run. A range of consecutive keys gets slower per key
// as revkv's store grows (records are kept in revision order, so consecutive
// keys are random page reads); point reads should stay flat.
//
// What it promises: after the main rounds, per engine (revkv, and LMDB unless
// --lmdb=false), a FRESH store of F x --keys keys is loaded (the same key and
// value sizes, load order and --batch), then range-point and range-N
// (--range-keys) run on it for --duration each, one round. The N-key figures
// are the main rounds' (medians; the load: all its puts' time over its puts),
// not measured again. It adds:
//   - a table printed after the main one: µs per operation at N and FN and
//     the ratio FN/N (1.00: flat) per engine, for the load's puts,
//     range-point, range-N and range-N per key;
//   - rows for JSON and CSV named WORKLOAD@FN (put@4N, range-point@4N,
//     range-1000@4N), whose `n` is operations, as in every row.
//
// Thread-safety: not thread-safe; the single harness thread runs it (the
// workloads start and join no threads of their own here).
#ifndef REVKV_BENCH_SUITE_SCALING_H_
#define REVKV_BENCH_SUITE_SCALING_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "bench/progress.h"
#include "bench/report.h"
#include "bench/store_suite.h"
#include "bench/sysinfo.h"

namespace revkv::bench {

// Keys a scaled store may hold at most (F x --keys).
inline constexpr uint64_t kMaxScaledKeys = 100'000'000;

// Checks --scale against --keys and the other common flags (the key size
// must hold F x --keys digits); the error names --scale.
absl::Status ValidateScale(const StoreBenchOptions& o);

// "4N": the suffix of the big store's workloads and the table's column.
std::string ScaleName(uint64_t scale);

// Runs the section when o.scale > 1: loads and measures the F x N stores in
// subdirectories of `dir`, then adds to `report` its table (report->sections)
// and its rows (report->extra_rows). `main` holds the main rounds' samples;
// `load_workload` names the N-key load there ("put" in the suite, "load" in
// range).
absl::Status RunSuiteScaling(const StoreBenchOptions& o, const Samples& main,
                             const std::string& load_workload, const WorkDir& dir,
                             Progress& progress, Report* report);

}  // namespace revkv::bench

#endif  // REVKV_BENCH_SUITE_SCALING_H_
