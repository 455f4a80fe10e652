#include "bench/store_suite.h"

#include <algorithm>
#include <cinttypes>
#include <memory>
#include <string>
#include <vector>

#include "bench/dataset.h"
#include "bench/kv_target.h"
#include "bench/measurement.h"
#include "bench/store_workloads.h"
#include "bench/suite_scaling.h"
#include "bench/sysinfo.h"
#include "mvcc/store.h"

namespace revkv::bench {

const char kStoreBenchFlagsUsage[] =
    "\t--rounds R\t\trounds; the table shows medians (default: suite 3, others 1)\n"
    "\t--duration S\t\tseconds per time-boxed workload and round (default: suite 1, others 2)\n"
    "\t--sequential-keys\tload keys in key order (default: random order)\n"
    "\t--range-keys N\t\tkeys per range of range-N (default 1000)\n"
    "\t--txn-ops N\t\tputs per transaction of txn-put (default 4)\n"
    "\t--lmdb=false\t\tskip the LMDB runs\n"
    "\t--scale F\t\tsuite, range: then cost per op on a fresh store of F x --keys keys\n"
    "\t\t\t\tbeside the --keys one (default 4; 1: off)\n";

absl::StatusOr<StoreBenchOptions> ParseStoreBenchFlags(const std::string& subcommand,
                                                       const std::vector<std::string>& args) {
  StoreBenchOptions o;
  o.subcommand = subcommand;
  FlagSet fs;
  AddCommonFlags(&fs, &o.common);
  bool rounds_set = false, duration_set = false;
  fs.AddUint("--rounds", &o.rounds, &rounds_set);
  fs.AddDouble("--duration", &o.duration_s, &duration_set);
  fs.AddBool("--sequential-keys", &o.sequential);
  bool range_keys_set = false;
  fs.AddUint("--range-keys", &o.range_keys, &range_keys_set);
  fs.AddUint("--txn-ops", &o.txn_ops);
  fs.AddBool("--lmdb", &o.lmdb);
  const bool scales = subcommand == "suite" || subcommand == "range";
  if (scales) {
    o.scale = 4;
    fs.AddUint("--scale", &o.scale);
  }
  if (absl::Status s = fs.Parse(args); !s.ok()) return s;
  if (!rounds_set) o.rounds = subcommand == "suite" ? 3 : 1;
  if (!duration_set) o.duration_s = subcommand == "suite" ? 1.0 : 2.0;
  if (o.common.quick) {
    if (!o.common.keys_set) o.common.keys = 20'000;
    if (!rounds_set) o.rounds = 1;
    if (!duration_set) o.duration_s = 0.25;
  }
  if (absl::Status s = ValidateCommonFlags(o.common); !s.ok()) return s;
  if (absl::Status s = ValidateRounds(o.rounds); !s.ok()) return s;
  if (o.duration_s <= 0) return absl::InvalidArgumentError("flag --duration must be positive");
  if (!range_keys_set) o.range_keys = std::min(o.range_keys, o.common.keys);
  if (o.range_keys == 0 || o.range_keys > o.common.keys) {
    return absl::InvalidArgumentError("flag --range-keys must be in [1, --keys]");
  }
  if (o.txn_ops == 0 || o.txn_ops > 100'000) {
    return absl::InvalidArgumentError("flag --txn-ops must be in [1, 100000]");
  }
  if (absl::Status s = ValidateScale(o); !s.ok()) return s;
  return o;
}

namespace {

struct Engines {
  std::vector<std::unique_ptr<KvTarget>> list;  // revkv first
  KvTarget& InOrder(uint64_t round, size_t k) { return *list[(round + k) % list.size()]; }
};

class Bench {
 public:
  Bench(const StoreBenchOptions& o, const DataSet& d, const WorkDir& dir, Progress& p)
      : o_(o), d_(d), dir_(dir), p_(p) {
    engines_.list.push_back(NewRevkvStoreTarget(o.common.batch));
    if (o.lmdb && o.subcommand != "txn-put") engines_.list.push_back(NewLmdbTarget(o.common.batch));
  }

  Engines& engines() { return engines_; }
  Samples& samples() { return samples_; }

  std::string Label(uint64_t round, const KvTarget& t, const std::string& workload) const {
    return RoundLabel(round, o_.rounds, t.name(), workload);
  }
  Sample& Slot(const std::string& workload, const KvTarget& t) {
    return NewSample(&samples_, workload, std::string(t.name()));
  }
  std::string RangeName() const { return "range-" + std::to_string(o_.range_keys); }
  uint64_t Seed(uint64_t round, int salt) const { return o_.common.seed * 7919 + round * 131 + salt; }

  // After revkv's writes: the round of the key-ordered base its background
  // thread would run once writes pause, run now (and timed) so that it
  // never overlaps the next measurement, of either engine.
  absl::Status Settle(uint64_t round, KvTarget& t) {
    if (t.store() == nullptr) return absl::OkStatus();
    return RunBaseBuild(t, p_, Label(round, t, "base-build"), &Slot("base-build", t));
  }

  // The read and update workloads of the subcommand on `t`, which holds `keys`.
  absl::Status Workloads(uint64_t round, KvTarget& t, const Loaded& keys, int64_t base_rev) {
    const Budget b{o_.duration_s, 0};
    const std::string& sub = o_.subcommand;
    auto wrap = [&](const char* what, absl::Status s) {
      if (s.ok()) return s;
      return absl::Status(s.code(), std::string(t.name()) + " " + what + ": " + std::string(s.message()));
    };
    if (sub == "suite" || sub == "range") {
      absl::Status s = RunRangePoint(t, keys, b, Seed(round, 1), p_, Label(round, t, "range-point"),
                                     &Slot("range-point", t));
      if (!s.ok()) return wrap("range-point", s);
      s = RunRangeSpan(t, keys, o_.range_keys, b, Seed(round, 2), p_, Label(round, t, RangeName()),
                       &Slot(RangeName(), t));
      if (!s.ok()) return wrap("range", s);
      const uint64_t visible = keys.count / 2;
      if (t.store() != nullptr && visible > 0) {
        s = RunRangeOld(t, keys, visible, base_rev + static_cast<int64_t>(visible), b,
                        Seed(round, 3), p_, Label(round, t, "range-old"), &Slot("range-old", t));
        if (!s.ok()) return wrap("range-old", s);
      }
    }
    if ((sub == "suite" || sub == "txn-put") && t.store() != nullptr) {
      absl::Status s = RunTxnPut(t, keys, o_.txn_ops, b, Seed(round, 4), p_,
                                 Label(round, t, "txn-put"), &Slot("txn-put", t));
      if (!s.ok()) return wrap("txn-put", s);
      if (absl::Status s = Settle(round, t); !s.ok()) return wrap("base-build", s);
    }
    if (sub == "suite" || sub == "mixed") {
      Sample& reads = Slot("mixed-read", t);
      absl::Status s = RunMixed(t, keys, o_.common.readers, b, Seed(round, 5), p_,
                                Label(round, t, "mixed"), &reads, &Slot("mixed-write", t));
      if (!s.ok()) return wrap("mixed", s);
      if (absl::Status s = Settle(round, t); !s.ok()) return wrap("base-build", s);
    }
    return absl::OkStatus();
  }

  // put, range, txn-put, mixed: per round and engine, a fresh file.
  absl::Status RunFresh() {
    for (uint64_t r = 0; r < o_.rounds; ++r) {
      for (size_t k = 0; k < engines_.list.size(); ++k) {
        KvTarget& t = engines_.InOrder(r, k);
        const std::string sub = std::string(t.name()) + "-" + o_.subcommand;
        absl::StatusOr<std::string> dir = dir_.Fresh(sub);
        if (!dir.ok()) return dir.status();
        if (absl::Status s = t.Open(*dir); !s.ok()) return s;
        const int64_t base_rev = t.store() != nullptr ? t.store()->Rev() : 0;
        Loaded keys{&d_, d_.n, o_.sequential};
        Sample scratch;
        // range keeps its load's samples for the --scale section.
        Sample& load = o_.subcommand == "put"     ? Slot("put", t)
                       : o_.subcommand == "range" ? Slot("load", t)
                                                  : scratch;
        const std::string what = o_.subcommand == "put" ? "put" : "load";
        absl::Status s = RunPut(t, keys, 0, d_.n, p_, Label(r, t, what), &load);
        if (s.ok() && o_.subcommand != "put") s = Settle(r, t);
        if (s.ok()) s = Workloads(r, t, keys, base_rev);
        absl::Status c = t.Close();
        dir_.Remove(sub);
        if (!s.ok()) return s;
        if (!c.ok()) return c;
      }
    }
    return absl::OkStatus();
  }

  // suite: both engines open throughout.
  absl::Status RunSuite() {
    std::vector<Loaded> loaded;
    std::vector<int64_t> base_rev;
    for (auto& t : engines_.list) {
      absl::StatusOr<std::string> dir = dir_.Fresh("suite-" + std::string(t->name()));
      if (!dir.ok()) return dir.status();
      if (absl::Status s = t->Open(*dir); !s.ok()) return s;
      loaded.push_back(Loaded{&d_, 0, o_.sequential});
      base_rev.push_back(t->store() != nullptr ? t->store()->Rev() : 0);
    }
    auto index = [&](const KvTarget& t) {
      return &t == engines_.list[0].get() ? size_t{0} : size_t{1};
    };
    for (uint64_t r = 0; r < o_.rounds; ++r) {
      const uint64_t begin = d_.n * r / o_.rounds, end = d_.n * (r + 1) / o_.rounds;
      for (size_t k = 0; k < engines_.list.size(); ++k) {
        KvTarget& t = engines_.InOrder(r, k);
        if (absl::Status s = RunPut(t, loaded[index(t)], begin, end, p_, Label(r, t, "put"),
                                    &Slot("put", t));
            !s.ok()) {
          return s;
        }
        loaded[index(t)].count = end;
        if (absl::Status s = Settle(r, t); !s.ok()) return s;
      }
    }
    for (uint64_t r = 0; r < o_.rounds; ++r) {
      for (size_t k = 0; k < engines_.list.size(); ++k) {
        KvTarget& t = engines_.InOrder(r, k);
        if (absl::Status s = Workloads(r, t, loaded[index(t)], base_rev[index(t)]); !s.ok()) return s;
      }
    }
    KvTarget& rv = *engines_.list[0];
    if (absl::Status s = RunHashByRev(rv, p_, "revkv hash-by-rev", &Slot("hash-by-rev", rv)); !s.ok()) {
      return s;
    }
    if (absl::Status s = RunCompact(rv, p_, "revkv compact", &Slot("compact", rv)); !s.ok()) return s;
    for (auto& t : engines_.list) {
      if (absl::Status s = t->Close(); !s.ok()) return s;
      dir_.Remove("suite-" + std::string(t->name()));
    }
    return absl::OkStatus();
  }

 private:
  const StoreBenchOptions& o_;
  const DataSet& d_;
  const WorkDir& dir_;
  Progress& p_;
  Engines engines_;
  Samples samples_;
};

// The rows in report order, with what one operation is.
std::vector<RowSpec> RowSpecs(const StoreBenchOptions& o, const std::string& range_name) {
  return {
      {"put", "one put, its own revision; commit per --batch puts or 100 ms"},
      {"range-point", "one key, a read txn each"},
      {range_name, FormatCount(static_cast<double>(o.range_keys)) + " consecutive keys copied out"},
      {"range-old", "one key at the revision halfway through the load"},
      {"txn-put", "a write txn of " + std::to_string(o.txn_ops) + " puts"},
      {"mixed-read", std::to_string(o.common.readers) + " readers' gets while one writer puts"},
      {"mixed-write", "the writer's puts meanwhile"},
      {"base-build", "live keys per second a key-ordered base round copies, after writes"},
      {"hash-by-rev", "HashKV of the whole store, once"},
      {"compact", "compact at the current revision, until deleted"},
  };
}

}  // namespace

absl::StatusOr<Report> RunStoreBench(const StoreBenchOptions& o, Progress& progress) {
  const CommonFlags& c = o.common;
  absl::StatusOr<DataSet> data = MakeDataSet(c.keys, c.key_size, c.value_size, c.seed);
  if (!data.ok()) return data.status();
  absl::StatusOr<std::unique_ptr<WorkDir>> dir = WorkDir::Create(c.dir);
  if (!dir.ok()) return dir.status();
  Bench bench(o, *data, **dir, progress);

  Report report;
  report.suite = o.subcommand;
  char head[512];
  std::snprintf(head, sizeof(head),
                "revkv bench %s: %s keys of %" PRIu64 " B, values of %" PRIu64
                " B in %s order, commit per %s puts or 100 ms, %" PRIu64
                " reader(s),\n  median of %" PRIu64 " round(s), %.2f s per time-boxed workload",
                o.subcommand.c_str(), FormatCount(static_cast<double>(c.keys)).c_str(), c.key_size,
                c.value_size, o.sequential ? "key" : "random",
                FormatCount(static_cast<double>(c.batch)).c_str(), c.readers, o.rounds,
                o.duration_s);
  report.header.push_back(head);
  for (auto& t : bench.engines().list) {
    report.header.push_back("  " + std::string(t->name()) + ": " + t->Description());
  }
  AnnounceRun(**dir, progress, &report);

  absl::Status s = o.subcommand == "suite" ? bench.RunSuite() : bench.RunFresh();
  if (!s.ok()) return s;

  report.rows = MakeRows(o.subcommand, bench.samples(), RowSpecs(o, bench.RangeName()));
  s = RunSuiteScaling(o, bench.samples(), o.subcommand == "suite" ? "put" : "load", **dir,
                      progress, &report);
  if (!s.ok()) return s;
  report.footer = {
      "ops/s: operations per second, median over rounds; revkv/lmdb: the median of the per-round",
      "ratios (above 1: revkv is faster). p50/p99/p99.9: latency of one operation in µs, all",
      "rounds. file: the data file after the workload. peak RSS: the process's peak resident",
      std::string("memory while the workload ran") +
          (o.subcommand == "suite" ? " (the suite keeps both engines open: an upper bound)."
                                   : " (one engine open at a time)."),
      "Every commit is durable (fsync)."};
  return report;
}

}  // namespace revkv::bench
