#include "bench/btree_suite.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "bench/btree_runner.h"
#include "bench/engine.h"
#include "bench/measurement.h"
#include "bench/sysinfo.h"

namespace revkv::bench {

const char kBtreeFlagsUsage[] =
    "FLAGS (btree):\n"
    "\t--rounds R\t\trounds; the table shows medians (default 3; --quick: 1)\n"
    "\t--gets N\t\tpoint gets of get-rand and get-txn (default max(keys, 200000))\n"
    "\t--commits N\t\ttransactions of commit-latency (default 1000)\n"
    "\t--duration S\t\tseconds of concurrent-read (default 5; --quick: 1)\n"
    "\t--scan-entries N\tentries scan visits, at least one pass (default 5000000)\n";

absl::StatusOr<BtreeSuiteOptions> ParseBtreeSuiteFlags(const std::vector<std::string>& args) {
  BtreeSuiteOptions o;
  CommonFlags& c = o.common;
  FlagSet fs;
  AddCommonFlags(&fs, &c);
  bool rounds_set = false, duration_set = false;
  fs.AddUint("--rounds", &o.rounds, &rounds_set);
  fs.AddUint("--gets", &o.gets);
  fs.AddUint("--commits", &o.commits);
  fs.AddDouble("--duration", &o.duration_s, &duration_set);
  fs.AddUint("--scan-entries", &o.scan_entries);
  if (absl::Status s = fs.Parse(args); !s.ok()) return s;
  if (c.quick) {
    if (!c.keys_set) c.keys = 20'000;
    if (!rounds_set) o.rounds = 1;
    if (!duration_set) o.duration_s = 1.0;
  }
  if (absl::Status s = ValidateCommonFlags(c); !s.ok()) return s;
  if (absl::Status s = ValidateRounds(o.rounds); !s.ok()) return s;
  return o;
}

namespace {

// The rows in report order, with what one operation (one latency sample) is
// and what the ratio compares where it is not ops/s.
const std::vector<RowSpec>& BtreeRows() {
  static const auto* rows = new std::vector<RowSpec>{
      {"seq-put", "latency of a write txn (--batch puts)"},
      {"file-size-seq", "the file after seq-put; ratio of bytes (lower is better)", ByFileBytes},
      {"rand-put", "latency of a write txn (--batch puts)"},
      {"file-size", "the file after rand-put; ratio of bytes (lower is better)", ByFileBytes},
      {"get-rand", "latency of a get (read txn per 1,000)"},
      {"get-txn", "latency of begin + get + end"},
      {"scan", "entries visited by full cursor scans, a read txn each"},
      {"commit-latency", "latency of a 1-put write txn; ratio of p50 latency (lower is better)",
       ByP50},
      {"concurrent-read", "the readers' gets, latency of a get (read txn per 1,000)"},
      {"concurrent-write", "the writer's puts meanwhile, latency of a write txn (--batch puts)"},
  };
  return *rows;
}

std::vector<std::string> Header(const BtreeSuiteOptions& o, uint64_t gets, const Engine& revkv,
                                const Engine& lmdb) {
  const CommonFlags& c = o.common;
  return {"revkv bench btree: " + FormatCount(static_cast<double>(c.keys)) + " keys of " +
              std::to_string(c.key_size) + " B, values of " + std::to_string(c.value_size) +
              " B, batch " + FormatCount(static_cast<double>(c.batch)) + ", " +
              std::to_string(c.readers) + " reader(s), " + FormatCount(static_cast<double>(gets)) +
              " gets, " + FormatCount(static_cast<double>(o.commits)) + " commits, median of " +
              std::to_string(o.rounds) + " round(s)",
          "  revkv: " + revkv.Description(), "  lmdb:  " + lmdb.Description()};
}

}  // namespace

absl::StatusOr<Report> RunBtreeSuite(const BtreeSuiteOptions& o, Progress& progress) {
  const uint64_t gets = o.gets != 0 ? o.gets : std::max<uint64_t>(o.common.keys, 200'000);
  absl::StatusOr<BtreeData> data = MakeBtreeData(o.common, gets);
  if (!data.ok()) return data.status();
  absl::StatusOr<std::unique_ptr<WorkDir>> dir = WorkDir::Create(o.common.dir);
  if (!dir.ok()) return dir.status();
  std::unique_ptr<Engine> engines[2] = {NewRevkvEngine(), NewLmdbEngine()};

  Report report;
  report.suite = "btree";
  report.header = Header(o, gets, *engines[0], *engines[1]);
  AnnounceRun(**dir, progress, &report);
  Samples samples;
  for (uint64_t round = 0; round < o.rounds; ++round) {
    for (uint64_t k = 0; k < 2; ++k) {
      Engine& e = *engines[(round + k) % 2];  // who goes first alternates
      if (absl::Status s = RunBtreeRound(o, *data, e, **dir, round, progress, &samples); !s.ok()) {
        return s;
      }
    }
  }
  report.rows = MakeRows("btree", samples, BtreeRows());
  report.footer = {
      "ops/s: operations per second, median over rounds; revkv/lmdb: the median of the per-round",
      "ratios of ops/s (above 1: revkv is faster) unless the row's note says otherwise.",
      "p50/p99/p99.9: latency of one operation in µs, all rounds. file: the data file after the",
      "workload. peak RSS: the process's peak resident memory while the workload ran (one",
      "engine open at a time). Every commit is durable (fsync)."};
  return report;
}

}  // namespace revkv::bench
