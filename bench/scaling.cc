#include "bench/scaling.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>

#include "absl/strings/str_split.h"
#include "bench/dataset.h"
#include "bench/report.h"
#include "bench/scaling_workloads.h"
#include "bench/sysinfo.h"

namespace revkv::bench {

const char kScalingFlagsUsage[] =
    "FLAGS (scaling):\n"
    "\t--keys N\t\tthe smaller size; each workload also runs at 8N (default 4000; --quick: 1000)\n"
    "\t--rounds R\t\truns per size; the fastest counts (default 3; --quick: 1)\n"
    "\t--workloads A,B\t\tonly these workloads (default: all)\n"
    "\n"
    "OUTPUT (scaling):\n"
    "\tOne row per workload: µs per element at N and at 8N, their ratio, and \"superlinear\"\n"
    "\twhen the ratio is above 1.5 x log2(8N)/log2(N) (an O(n log n) cost stays below it).\n";

absl::StatusOr<ScalingOptions> ParseScalingFlags(const std::vector<std::string>& args) {
  ScalingOptions o;
  FlagSet fs;
  AddCommonFlags(&fs, &o.common);
  bool rounds_set = false;
  fs.AddUint("--rounds", &o.rounds, &rounds_set);
  std::string workloads;
  fs.AddString("--workloads", &workloads);
  if (absl::Status s = fs.Parse(args); !s.ok()) return s;
  for (absl::string_view w : absl::StrSplit(workloads, ',', absl::SkipEmpty())) {
    const auto& all = ScalingWorkloads();
    if (std::none_of(all.begin(), all.end(), [&](const auto& x) { return w == x.name; })) {
      return absl::InvalidArgumentError("flag --workloads: unknown workload \"" + std::string(w) + "\"");
    }
    o.workloads.emplace_back(w);
  }
  if (!o.common.keys_set) o.common.keys = o.common.quick ? 1'000 : 4'000;
  if (o.common.quick && !rounds_set) o.rounds = 1;
  if (o.common.keys < 2 || o.common.keys > UINT32_MAX / 8) {
    return absl::InvalidArgumentError("flag --keys must be in [2, 2^32 / 8)");
  }
  CommonFlags largest = o.common;  // the key size must hold 8N's digits
  largest.keys = 8 * o.common.keys;
  if (absl::Status s = ValidateCommonFlags(largest); !s.ok()) return s;
  if (absl::Status s = ValidateRounds(o.rounds); !s.ok()) return s;
  if (!o.common.plot.empty()) return absl::InvalidArgumentError("bench scaling draws no --plot");
  return o;
}

double SuperlinearLimit(uint64_t n) {
  return 1.5 * std::log2(8.0 * double(n)) / std::log2(double(n));
}

namespace {

// The fastest of `rounds` runs of `w` at n elements, in seconds. Runs stop
// early once one took `give_up` seconds or more (if positive): a quadratic
// workload's runs at 8N are what would cost the time, and more of them
// cannot change its verdict.
absl::StatusOr<double> Fastest(const ScalingWorkload& w, const ScalingEnv& env, uint64_t n,
                               uint64_t rounds, double give_up, Progress& progress) {
  double best = -1;
  for (uint64_t r = 0; r < rounds; ++r) {
    progress.Begin(std::string(w.name) + " n=" + FormatCount(double(n)), 0, 0);
    absl::StatusOr<double> seconds = w.run(env, n);
    progress.End("");
    if (!seconds.ok()) {
      return absl::Status(seconds.status().code(),
                          std::string(w.name) + ": " + std::string(seconds.status().message()));
    }
    if (best < 0 || *seconds < best) best = *seconds;
    if (give_up > 0 && *seconds >= give_up) break;
  }
  return best;
}

std::string Header(const ScalingOptions& o) {
  const CommonFlags& c = o.common;
  return "revkv bench scaling: each workload at N = " + FormatCount(double(c.keys)) +
         " and 8N = " + FormatCount(double(8 * c.keys)) + " elements (keys of " +
         std::to_string(c.key_size) + " B, values of " + std::to_string(c.value_size) +
         " B), the fastest of " + std::to_string(o.rounds) + " run(s) at each";
}

}  // namespace

absl::StatusOr<ScalingReport> RunScaling(const ScalingOptions& o, Progress& progress) {
  const CommonFlags& c = o.common;
  absl::StatusOr<DataSet> data = MakeDataSet(8 * c.keys, c.key_size, c.value_size, c.seed);
  if (!data.ok()) return data.status();
  absl::StatusOr<std::unique_ptr<WorkDir>> dir = WorkDir::Create(c.dir);
  if (!dir.ok()) return dir.status();
  const ScalingEnv env{&*data, dir->get()};
  const double limit = SuperlinearLimit(c.keys);
  ScalingReport report;
  report.header = Header(o);
  for (const ScalingWorkload& w : ScalingWorkloads()) {
    if (!o.workloads.empty() &&
        std::find(o.workloads.begin(), o.workloads.end(), w.name) == o.workloads.end()) {
      continue;
    }
    absl::StatusOr<double> at_n = Fastest(w, env, c.keys, o.rounds, -1, progress);
    if (!at_n.ok()) return at_n.status();
    // A run at 8N four times over the limit stays over it even were the
    // next one four times faster.
    absl::StatusOr<double> at_8n = Fastest(w, env, 8 * c.keys, o.rounds, 4 * limit * 8 * *at_n,
                                           progress);
    if (!at_8n.ok()) return at_8n.status();
    ScalingRow row;
    row.workload = w.name;
    row.element = w.element;
    row.n = c.keys;
    row.us_per_element_n = *at_n * 1e6 / double(c.keys);
    row.us_per_element_8n = *at_8n * 1e6 / double(8 * c.keys);
    row.ratio = row.us_per_element_n > 0 ? row.us_per_element_8n / row.us_per_element_n : 0;
    row.limit = limit;
    row.superlinear = row.ratio > limit;
    progress.Line(row.workload + ": ratio " + FormatRate(row.ratio) +
                  (row.superlinear ? " (superlinear)" : ""));
    report.rows.push_back(std::move(row));
  }
  return report;
}

namespace {

std::string Micros(double us) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), us < 1 ? "%.3f" : (us < 100 ? "%.2f" : "%.0f"), us);
  return buf;
}

std::string Fixed(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", v);
  return buf;
}

std::string Table(const ScalingReport& r) {
  std::vector<std::vector<std::string>> lines = {
      {"workload", "us/elem N", "us/elem 8N", "ratio", "limit", "verdict"}};
  for (const ScalingRow& row : r.rows) {
    lines.push_back({row.workload, Micros(row.us_per_element_n), Micros(row.us_per_element_8n),
                     Fixed(row.ratio), Fixed(row.limit), row.superlinear ? "superlinear" : "ok"});
  }
  const std::vector<bool> left = {true, false, false, false, false, true};
  std::string out = r.header + "\n\n" + AlignColumns(lines, left);
  out += "\nratio: the time per element at 8N over that at N. limit: 1.5 x log2(8N)/log2(N);\n"
         "a ratio above it is superlinear (an O(n) or O(n log n) cost stays below it).\n"
         "An element is:\n";
  for (const ScalingRow& row : r.rows) out += "  " + row.workload + ": " + row.element + "\n";
  return out;
}

}  // namespace

std::string FormatScaling(const ScalingReport& r, const CommonFlags& flags) {
  if (!flags.json && !flags.csv) return Table(r);
  std::string out;
  if (flags.csv) {
    out = "suite,workload,n,us_per_element_n,n8,us_per_element_8n,ratio,limit,superlinear\n";
  }
  for (const ScalingRow& row : r.rows) {
    char buf[512];
    const char* fmt = flags.json
                          ? "{\"suite\":\"scaling\",\"workload\":\"%s\",\"n\":%llu,"
                            "\"us_per_element_n\":%.6g,\"n8\":%llu,\"us_per_element_8n\":%.6g,"
                            "\"ratio\":%.4g,\"limit\":%.4g,\"superlinear\":%s}\n"
                          : "scaling,%s,%llu,%.6g,%llu,%.6g,%.4g,%.4g,%s\n";
    std::snprintf(buf, sizeof(buf), fmt, row.workload.c_str(), (unsigned long long)row.n,
                  row.us_per_element_n, (unsigned long long)(8 * row.n), row.us_per_element_8n,
                  row.ratio, row.limit, row.superlinear ? "true" : "false");
    out += buf;
  }
  return out;
}

}  // namespace revkv::bench
