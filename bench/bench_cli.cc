#include "bench/bench_cli.h"

#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "bench/btree_suite.h"
#include "bench/cas_workload.h"
#include "bench/watch_workload.h"
#include "bench/flags.h"
#include "bench/mvcc_suite.h"
#include "bench/plot.h"
#include "bench/progress.h"
#include "bench/report.h"
#include "bench/scaling.h"
#include "bench/store_suite.h"

namespace revkv::bench {

const char kBenchUsage[] =
    "NAME:\n"
    "\trevkv bench - benchmarks of revkv, measured against LMDB in the same run\n"
    "\n"
    "USAGE:\n"
    "\trevkv bench [subcommand] [flags]\n"
    "\n"
    "SUBCOMMANDS:\n"
    "\tsuite\t\tthe standard set on the mvcc store and LMDB, one table (the default)\n"
    "\tput\t\tload --keys keys, one put each, commits per --batch puts\n"
    "\trange\t\tpoint reads, ranges of --range-keys keys, reads at an old revision\n"
    "\ttxn-put\t\twrite transactions of --txn-ops puts (revkv)\n"
    "\tmixed\t\t--readers readers and one writer at once\n"
    "\tbtree\t\trevkv's btree file engine against LMDB\n"
    "\tmvcc\t\tthe mvcc store against the btree beneath it\n"
    "\tbackend\t\tthe backend: batched puts, concurrent reads, defrag\n"
    "\tscaling\t\tcost per element of each size-dependent operation at N and 8N\n"
    "\tcas\t\tlibkv Get + AtomicPut from --clients threads, each durable (see bench cas --help)\n"
    "\twatch\t\tputs with --watchers watchers against none, delivery latency, catch-up rate\n"
    "\thelp\t\tthis text\n"
    "\n"
    "FLAGS (every subcommand):\n"
    "\t--keys N\t\tkeys to load (default 1000000; --quick: 20000)\n"
    "\t--key-size B\t\tkey bytes (default 16)\n"
    "\t--value-size B\t\tvalue bytes (default 128)\n"
    "\t--batch N\t\tputs per write transaction / commit (default 10000)\n"
    "\t--readers T\t\treader threads of the concurrent workloads (default 2)\n"
    "\t--seed S\t\trandom seed (default 1)\n"
    "\t--dir DIR\t\tdata directory (default: a temporary one, removed after)\n"
    "\t--quick\t\t\ta smoke-test sized run (seconds)\n"
    "\t--json\t\t\tone JSON object per line per (workload, engine)\n"
    "\t--csv\t\t\ta header and one CSV row per (workload, engine)\n"
    "\t--plot FILE.svg\t\tdraw throughput over time and latency CDFs to FILE.svg\n"
    "\n"
    "FLAGS (suite, put, range, txn-put, mixed):\n";

namespace {

const char kOutputUsage[] =
    "OUTPUT (every subcommand but scaling):\n"
    "\tOne row per workload: revkv ops/s and lmdb ops/s (medians over rounds), revkv/lmdb\n"
    "\t(median of the per-round ratios; above 1: revkv is faster), p50/p99/p99.9 latency of\n"
    "\tone operation in µs (all rounds), the data file's size and the peak RSS while the\n"
    "\tworkload ran. \"-\": the workload does not exist on that engine. Progress goes to\n"
    "\tstderr (a live bar on a terminal, plain lines otherwise), results to stdout.\n";

// The usage of every subcommand, in one text: `revkv bench help` and every
// subcommand's --help print it.
std::string Usage() {
  return std::string(kBenchUsage) + kStoreBenchFlagsUsage + "\n" + kBtreeFlagsUsage + "\n" +
         kOutputUsage + "\n" + kScalingFlagsUsage + "\n" + kCasFlagsUsage + "\n" +
         kWatchFlagsUsage;
}

int Print(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
  return 0;
}

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "Error: %s\n", std::string(s.message()).c_str());
  return 1;
}

// Prints `report` as JSON lines, CSV or the table, as the flags ask, and
// writes the SVG plot when --plot is given.
int Emit(const Report& report, const CommonFlags& flags) {
  Print(flags.json ? FormatJson(report) : flags.csv ? FormatCsv(report) : FormatTable(report));
  if (flags.plot.empty()) return 0;
  if (absl::Status s = WriteSvg(report, flags.plot); !s.ok()) return Fail(s);
  std::fprintf(stderr, "plot written to %s\n", flags.plot.c_str());
  return 0;
}

// Scaling's own schema (scaling.h); it draws no plot.
int Emit(const ScalingReport& report, const CommonFlags& flags) {
  return Print(FormatScaling(report, flags));
}

const CommonFlags& CommonOf(const CommonFlags& c) { return c; }
template <typename Options>
const CommonFlags& CommonOf(const Options& o) {
  return o.common;
}

// The flow of every subcommand: the parsed flags (or their error), --help,
// the run with progress on stderr, the output on stdout.
template <typename Options, typename Run>
int Main(const absl::StatusOr<Options>& o, Run run) {
  if (!o.ok()) return Fail(o.status());
  const CommonFlags& flags = CommonOf(*o);
  if (flags.help) return Print(Usage());
  Progress progress = Progress::Stderr();
  auto report = run(*o, progress);
  if (!report.ok()) return Fail(report.status());
  return Emit(*report, flags);
}

int StoreBenchMain(const std::string& sub, const std::vector<std::string>& args) {
  return Main(ParseStoreBenchFlags(sub, args), RunStoreBench);
}

}  // namespace

int RunBench(const std::vector<std::string>& args) {
  if (args.empty() || args[0].rfind("-", 0) == 0) return StoreBenchMain("suite", args);
  const std::string& sub = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (sub == "help") return Print(Usage());
  if (sub == "suite" || sub == "put" || sub == "range" || sub == "txn-put" || sub == "mixed") {
    return StoreBenchMain(sub, rest);
  }
  if (sub == "btree") return Main(ParseBtreeSuiteFlags(rest), RunBtreeSuite);
  if (sub == "mvcc") return Main(ParseLayerFlags(rest), RunMvccSuite);
  if (sub == "backend") return Main(ParseLayerFlags(rest), RunBackendSuite);
  if (sub == "scaling") return Main(ParseScalingFlags(rest), RunScaling);
  if (sub == "cas") return Main(ParseCasFlags(rest), RunCas);
  if (sub == "watch") return Main(ParseWatchFlags(rest), RunWatch);
  std::fprintf(stderr, "Error: unknown bench subcommand \"%s\"\n", sub.c_str());
  return 1;
}

}  // namespace revkv::bench
