#include "bench/bench_cli.h"

#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "bench/btree_suite.h"
#include "bench/cas_workload.h"
#include "bench/mvcc_suite.h"
#include "bench/output.h"
#include "bench/progress.h"
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

std::string Usage() {
  return std::string(kBenchUsage) + kStoreBenchFlagsUsage + "\n" + kScalingFlagsUsage;
}

void PrintUsage() {
  const std::string u = Usage();
  std::fwrite(u.data(), 1, u.size(), stdout);
}

void PrintError(const absl::Status& s) {
  std::fprintf(stderr, "Error: %s\n", std::string(s.message()).c_str());
}

int StoreBenchMain(const std::string& sub, const std::vector<std::string>& args) {
  absl::StatusOr<StoreBenchOptions> o = ParseStoreBenchFlags(sub, args);
  if (!o.ok()) {
    PrintError(o.status());
    return 1;
  }
  if (o->common.help) {
    PrintUsage();
    return 0;
  }
  Progress progress = Progress::Stderr();
  absl::StatusOr<Report> r = RunStoreBench(*o, progress);
  if (!r.ok()) {
    PrintError(r.status());
    return 1;
  }
  return EmitReport(*r, o->common);
}

}  // namespace

int RunBench(const std::vector<std::string>& args) {
  if (args.empty() || args[0].rfind("-", 0) == 0) return StoreBenchMain("suite", args);
  const std::string& sub = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (sub == "help") {
    PrintUsage();
    return 0;
  }
  if (sub == "suite" || sub == "put" || sub == "range" || sub == "txn-put" || sub == "mixed") {
    return StoreBenchMain(sub, rest);
  }
  if (sub == "btree") return BtreeSuiteMain(rest);
  if (sub == "mvcc") return MvccSuiteMain(rest);
  if (sub == "backend") return BackendSuiteMain(rest);
  if (sub == "scaling") return ScalingMain(rest, Usage());
  if (sub == "cas") return CasMain(rest, Usage());
  std::fprintf(stderr, "Error: unknown bench subcommand \"%s\"\n", sub.c_str());
  return 1;
}

}  // namespace revkv::bench
