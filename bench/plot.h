// The `--plot FILE.svg` output: for every workload of a Report, throughput
// over time (ops/s per Timeline interval, last round) and the latency
// distribution (CDF over all rounds, log latency axis), one polyline per
// engine. A self-contained SVG 1.1 document (no scripts, no external
// resources) that a browser opens directly.
//
// Thread-safe (pure functions).
#ifndef REVKV_BENCH_PLOT_H_
#define REVKV_BENCH_PLOT_H_

#include <string>

#include "absl/status/status.h"
#include "bench/report.h"

namespace revkv::bench {

std::string RenderSvg(const Report& report);
// Writes RenderSvg(report) to `path` (relative paths are taken from where
// `bazel run` was started).
absl::Status WriteSvg(const Report& report, const std::string& path);

}  // namespace revkv::bench

#endif  // REVKV_BENCH_PLOT_H_
