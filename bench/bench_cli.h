// `revkv bench [subcommand] [flags]`: the dispatch to the suites, the usage
// text, and the output of a Report in the format the flags ask for.
//
// Thread-compatible: call from the main thread.
#ifndef REVKV_BENCH_BENCH_CLI_H_
#define REVKV_BENCH_BENCH_CLI_H_

#include <string>
#include <vector>

#include "bench/flags.h"
#include "bench/report.h"

namespace revkv::bench {

// Runs `revkv bench` with `args`, the words after "bench". No subcommand (or
// only flags): the standard suite. Results go to stdout, progress to stderr,
// errors to stderr as "Error: ..." with exit code 1. Returns the exit code.
int RunBench(const std::vector<std::string>& args);

// Prints `report` to stdout as a table, JSON lines (--json) or CSV (--csv),
// and writes the SVG plot when --plot is given. Returns the exit code.
int EmitReport(const Report& report, const CommonFlags& flags);

// The usage text of `revkv bench help`.
extern const char kBenchUsage[];

}  // namespace revkv::bench

#endif  // REVKV_BENCH_BENCH_CLI_H_
