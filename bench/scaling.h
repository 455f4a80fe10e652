// `revkv bench scaling`: does an operation's cost grow faster than its
// size? Each workload of scaling_workloads.h runs at N and at 8N elements
// (--keys N, default 4,000; --quick 1,000), the fastest of --rounds runs at
// each size (default 3; --quick 1); the row shows the time per element at
// both sizes and their ratio (8N over N). An O(n log n) operation's ratio
// is about log2(8N)/log2(N); a ratio above 1.5 times that is marked
// "superlinear" (a quadratic one's is about 8).
//
// Output: a table; --json, one object per workload (suite, workload, n,
// us_per_element_n, n8, us_per_element_8n, ratio, limit, superlinear);
// --csv, the same fields. No --plot.
//
// Thread-compatible: call from the main thread.
#ifndef REVKV_BENCH_SCALING_H_
#define REVKV_BENCH_SCALING_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/flags.h"
#include "bench/progress.h"

namespace revkv::bench {

struct ScalingOptions {
  CommonFlags common;  // --keys is N
  uint64_t rounds = 3;
  std::vector<std::string> workloads;  // --workloads a,b: only those; empty: all
};

struct ScalingRow {
  std::string workload, element;
  uint64_t n = 0;
  double us_per_element_n = 0, us_per_element_8n = 0;
  double ratio = 0, limit = 0;
  bool superlinear = false;
};

struct ScalingReport {
  std::string header;  // the line above the table
  std::vector<ScalingRow> rows;
};

absl::StatusOr<ScalingOptions> ParseScalingFlags(const std::vector<std::string>& args);
// The ratio above which a row is superlinear: 1.5 * log2(8n) / log2(n).
double SuperlinearLimit(uint64_t n);
absl::StatusOr<ScalingReport> RunScaling(const ScalingOptions& o, Progress& progress);
// The report as a table, JSON lines or CSV, as the flags ask.
std::string FormatScaling(const ScalingReport& r, const CommonFlags& flags);

extern const char kScalingFlagsUsage[];

}  // namespace revkv::bench

#endif  // REVKV_BENCH_SCALING_H_
