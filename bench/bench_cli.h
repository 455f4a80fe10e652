// `revkv bench [subcommand] [flags]`: the dispatch to the suites, the usage
// text, and the output of a Report in the format the flags ask for.
//
// Thread-compatible: call from the main thread.
#ifndef REVKV_BENCH_BENCH_CLI_H_
#define REVKV_BENCH_BENCH_CLI_H_

#include <string>
#include <vector>


namespace revkv::bench {

// Runs `revkv bench` with `args`, the words after "bench". No subcommand (or
// only flags): the standard suite. Results go to stdout, progress to stderr,
// errors to stderr as "Error: ..." with exit code 1. Returns the exit code.
int RunBench(const std::vector<std::string>& args);

// The usage text of `revkv bench help`.
extern const char kBenchUsage[];

}  // namespace revkv::bench

#endif  // REVKV_BENCH_BENCH_CLI_H_
