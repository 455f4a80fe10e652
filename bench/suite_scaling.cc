#include "bench/suite_scaling.h"

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "bench/dataset.h"
#include "bench/kv_target.h"
#include "bench/store_workloads.h"

namespace revkv::bench {

absl::Status ValidateScale(const StoreBenchOptions& o) {
  if (o.scale == 0) return absl::InvalidArgumentError("flag --scale must be at least 1");
  if (o.scale > kMaxScaledKeys / o.common.keys) {
    return absl::InvalidArgumentError("flag --scale: --scale x --keys must be at most " +
                                      FormatCount(static_cast<double>(kMaxScaledKeys)));
  }
  CommonFlags big = o.common;
  big.keys = o.scale * o.common.keys;
  if (absl::Status s = ValidateCommonFlags(big); !s.ok()) {
    return absl::InvalidArgumentError("flag --scale " + std::to_string(o.scale) + " (" +
                                      FormatCount(static_cast<double>(big.keys)) +
                                      " keys): " + std::string(s.message()));
  }
  return absl::OkStatus();
}

std::string ScaleName(uint64_t scale) { return std::to_string(scale) + "N"; }

namespace {

// µs per operation over the rounds: the median of each round's, or, when
// `pooled`, all the rounds' time over all their operations; -1 if none.
double MicrosPerOp(const Samples& samples, const std::string& workload, const std::string& engine,
                   bool pooled) {
  auto w = samples.find(workload);
  if (w == samples.end()) return -1;
  auto e = w->second.find(engine);
  if (e == w->second.end()) return -1;
  double ops = 0, seconds = 0;
  std::vector<double> per_round;
  for (const Sample& s : e->second) {
    if (s.n <= 0 || s.seconds < 0) continue;
    ops += s.n;
    seconds += s.seconds;
    per_round.push_back(s.seconds / s.n * 1e6);
  }
  if (!pooled) return Median(per_round);
  return ops > 0 ? seconds / ops * 1e6 : -1;
}

std::string Ratio(double n, double big) {
  if (n <= 0 || big < 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", big / n);
  return buf;
}

// One engine's big store: load, range-point, range-N; samples under
// WORKLOAD@FN.
absl::Status MeasureBigStore(const StoreBenchOptions& o, const DataSet& d, KvTarget& t,
                             const WorkDir& dir, Progress& p, Samples* out) {
  const std::string at = "@" + ScaleName(o.scale);
  const std::string engine(t.name());
  const std::string sub = "scale-" + engine;
  absl::StatusOr<std::string> path = dir.Fresh(sub);
  if (!path.ok()) return path.status();
  if (absl::Status s = t.Open(*path); !s.ok()) return s;
  const Loaded keys{&d, d.n, o.sequential};
  const Budget b{o.duration_s, 0};
  const std::string label = ScaleName(o.scale) + " " + engine + " ";
  const std::string range = "range-" + std::to_string(o.range_keys);
  const uint64_t seed = o.common.seed * 7919 + 977;
  absl::Status s =
      RunPut(t, keys, 0, d.n, p, label + "load", &NewSample(out, "put" + at, engine));
  if (s.ok() && t.store() != nullptr) {
    s = RunBaseBuild(t, p, label + "base-build", &NewSample(out, "base-build" + at, engine));
  }
  if (s.ok()) {
    s = RunRangePoint(t, keys, b, seed + 1, p, label + "range-point",
                      &NewSample(out, "range-point" + at, engine));
  }
  if (s.ok()) {
    s = RunRangeSpan(t, keys, o.range_keys, b, seed + 2, p, label + range,
                     &NewSample(out, range + at, engine));
  }
  absl::Status c = t.Close();
  dir.Remove(sub);
  if (!s.ok()) {
    return absl::Status(s.code(), engine + " " + ScaleName(o.scale) + ": " +
                                      std::string(s.message()));
  }
  return c;
}

}  // namespace

absl::Status RunSuiteScaling(const StoreBenchOptions& o, const Samples& main,
                             const std::string& load_workload, const WorkDir& dir,
                             Progress& progress, Report* report) {
  if (o.scale <= 1) return absl::OkStatus();
  const CommonFlags& c = o.common;
  const uint64_t big_n = o.scale * c.keys;
  absl::StatusOr<DataSet> data = MakeDataSet(big_n, c.key_size, c.value_size, c.seed);
  if (!data.ok()) return data.status();

  std::vector<std::unique_ptr<KvTarget>> engines;
  engines.push_back(NewRevkvStoreTarget(c.batch));
  if (o.lmdb) engines.push_back(NewLmdbTarget(c.batch));
  Samples big;
  for (auto& t : engines) {
    if (absl::Status s = MeasureBigStore(o, *data, *t, dir, progress, &big); !s.ok()) return s;
  }

  // The table: µs/op at N (the main rounds) and FN, and their ratio.
  const std::string fn = ScaleName(o.scale), at = "@" + fn;
  const std::string range = "range-" + std::to_string(o.range_keys);
  struct Line {
    std::string name, n_workload, big_workload;
    bool pooled;
    double divide;  // per key: the range's keys
  };
  const std::vector<Line> table_lines = {
      {"put (load)", load_workload, "put" + at, true, 1},
      {"range-point", "range-point", "range-point" + at, false, 1},
      {range, range, range + at, false, 1},
      {range + " per key", range, range + at, false, static_cast<double>(o.range_keys)},
      {"base-build per key", "base-build", "base-build" + at, false, 1},
  };
  std::vector<std::vector<std::string>> lines;
  std::vector<std::string> head = {"workload"};
  for (auto& t : engines) {
    head.insert(head.end(), {std::string(t->name()) + " µs/op N", fn, fn + "/N"});
  }
  lines.push_back(head);
  for (const Line& l : table_lines) {
    std::vector<std::string> cells = {l.name};
    for (auto& t : engines) {
      const std::string e(t->name());
      double n = MicrosPerOp(main, l.n_workload, e, l.pooled);
      double b = MicrosPerOp(big, l.big_workload, e, l.pooled);
      if (n >= 0) n /= l.divide;
      if (b >= 0) b /= l.divide;
      cells.insert(cells.end(), {FormatMicros(n), FormatMicros(b), Ratio(n, b)});
    }
    lines.push_back(cells);
  }
  std::string text = "scaling: cost per operation in µs at N = " +
                     FormatCount(static_cast<double>(c.keys)) + " and " + fn + " = " +
                     FormatCount(static_cast<double>(big_n)) + " keys\n";
  text += "  N: the rounds above (medians); " + fn + ": a fresh store per engine, loaded after " +
          "them, one round of --duration per workload\n\n";
  text += AlignColumns(lines, {true});
  text += "\n" + fn + "/N: the cost at " + fn + " over the cost at N (1.00: flat; " +
          std::to_string(o.scale) + ".00: linear in the store's size).\n";
  text += "put (load): the load's time over its puts, one put per revision, commit per --batch.\n";
  text += "base-build per key: a round of revkv's key-ordered base over its live keys.\n";
  text += "JSON and CSV carry the " + fn + " store's rows as WORKLOAD" + at + ".\n";
  report->sections.push_back(text);

  report->extra_rows =
      MakeRows(o.subcommand, big,
               {{"put" + at, "the " + fn + " store's load"},
                {"range-point" + at, "range-point on the " + fn + " store"},
                {range + at, range + " on the " + fn + " store"},
                {"base-build" + at, "the key-ordered base's round after the " + fn + " load"}});
  return absl::OkStatus();
}

}  // namespace revkv::bench
