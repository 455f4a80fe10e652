#include "bench/btree_suite.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bench/btree_runner.h"
#include "bench/engine.h"
#include "bench/flags.h"
#include "bench/output.h"
#include "bench/report.h"
#include "bench/sysinfo.h"

namespace revkv::bench {

const char kBtreeUsage[] =
    "USAGE:\n"
    "\trevkv bench btree [flags]\n"
    "\n"
    "revkv's btree file engine against LMDB, in the same process (see bench/btree_suite.h).\n"
    "\n"
    "FLAGS:\n"
    "\t--keys N\t\tkeys to load (default 1000000)\n"
    "\t--key-size B\t\tkey bytes (default 16)\n"
    "\t--value-size B\t\tvalue bytes (default 128)\n"
    "\t--batch N\t\tputs per write transaction (default 10000)\n"
    "\t--rounds R\t\trounds; the table shows medians (default 3)\n"
    "\t--readers T\t\treader threads of concurrent-read (default 2)\n"
    "\t--seed S\t\trandom seed (default 1)\n"
    "\t--dir DIR\t\twhere the files go (default: a temporary directory)\n"
    "\t--gets N\t\tpoint gets of get-rand and get-txn (default max(keys, 200000))\n"
    "\t--commits N\t\ttransactions of commit-latency (default 1000)\n"
    "\t--duration S\t\tseconds of concurrent-read (default 5)\n"
    "\t--scan-entries N\tentries scan visits, at least one pass (default 5000000)\n"
    "\t--quick\t\t\tkeys=20000, rounds=1, duration=1\n"
    "\t--json, --csv, --plot FILE.svg\toutput formats, as for every subcommand\n";


namespace {

volatile uint64_t g_sink = 0;

std::string Format(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), fmt, v);
  return buf;
}

// What each workload reports and how its ratio reads.
struct WorkloadSpec {
  const char* name;
  enum Metric { kOpsPerS, kP50, kFileBytes } metric;
  const char* latency_of;  // nullptr: no latency
};

constexpr WorkloadSpec kWorkloads[] = {
    {"seq-put", WorkloadSpec::kOpsPerS, "write txn (--batch puts)"},
    {"file-size-seq", WorkloadSpec::kFileBytes, nullptr},
    {"rand-put", WorkloadSpec::kOpsPerS, "write txn (--batch puts)"},
    {"file-size", WorkloadSpec::kFileBytes, nullptr},
    {"get-rand", WorkloadSpec::kOpsPerS, "get (read txn per 1,000)"},
    {"get-txn", WorkloadSpec::kOpsPerS, "begin + get + end"},
    {"scan", WorkloadSpec::kOpsPerS, nullptr},
    {"commit-latency", WorkloadSpec::kP50, "1-put write txn"},
    {"concurrent-read", WorkloadSpec::kOpsPerS, "get (read txn per 1,000)"},
    {"concurrent-write", WorkloadSpec::kOpsPerS, "write txn (--batch puts)"},
};

double MetricOf(const WorkloadSpec& w, const RoundSample& s) {
  switch (w.metric) {
    case WorkloadSpec::kOpsPerS:
      return s.ops_per_s;
    case WorkloadSpec::kP50:
      return s.p50_us;
    case WorkloadSpec::kFileBytes:
      return s.file_bytes;
  }
  return -1;
}

BtreeResult Aggregate(const std::string& workload, const std::string& engine,
                      const std::vector<RoundSample>& rounds) {
  BtreeResult r;
  r.workload = workload;
  r.engine = engine;
  auto med = [&](double RoundSample::*field) {
    std::vector<double> v;
    for (const RoundSample& s : rounds) {
      if (s.*field >= 0) v.push_back(s.*field);
    }
    return Median(v);
  };
  r.n = med(&RoundSample::n);
  r.seconds = med(&RoundSample::seconds);
  r.ops_per_s = med(&RoundSample::ops_per_s);
  r.p50_us = med(&RoundSample::p50_us);
  r.p99_us = med(&RoundSample::p99_us);
  r.p999_us = med(&RoundSample::p999_us);
  r.file_bytes = med(&RoundSample::file_bytes);
  r.peak_rss_bytes = med(&RoundSample::peak_rss_bytes);
  auto h = std::make_shared<Histogram>();
  for (const RoundSample& s : rounds) h->Merge(s.latency);
  if (h->Count() > 0) r.latency = std::move(h);
  if (!rounds.empty() && !rounds.back().timeline.counts().empty()) {
    r.timeline = std::make_shared<Timeline>(rounds.back().timeline);
  }
  return r;
}

}  // namespace

absl::StatusOr<BtreeSuiteOptions> ParseBtreeSuiteFlags(const std::vector<std::string>& args) {
  BtreeSuiteOptions o;
  CommonFlags c;
  FlagSet fs;
  AddCommonFlags(&fs, &c);
  uint64_t rounds = static_cast<uint64_t>(o.rounds);
  bool rounds_set = false, duration_set = false;
  fs.AddUint("--rounds", &rounds, &rounds_set);
  fs.AddUint("--gets", &o.gets);
  fs.AddUint("--commits", &o.commits);
  fs.AddDouble("--duration", &o.duration_s, &duration_set);
  fs.AddUint("--scan-entries", &o.scan_entries);
  if (absl::Status s = fs.Parse(args); !s.ok()) return s;
  if (c.quick) {
    if (!c.keys_set) c.keys = 20'000;
    if (!rounds_set) rounds = 1;
    if (!duration_set) o.duration_s = 1.0;
  }
  if (absl::Status s = ValidateCommonFlags(c); !s.ok()) return s;
  if (rounds == 0 || rounds > 1000) return absl::InvalidArgumentError("flag --rounds must be in [1, 1000]");
  o.keys = c.keys;
  o.key_size = c.key_size;
  o.value_size = c.value_size;
  o.batch = c.batch;
  o.rounds = static_cast<int>(rounds);
  o.readers = static_cast<int>(c.readers);
  o.seed = c.seed;
  o.dir = c.dir;
  o.quick = c.quick;
  o.json = c.json;
  o.csv = c.csv;
  o.plot = c.plot;
  o.help = c.help;
  return o;
}

absl::StatusOr<BtreeSuiteReport> RunBtreeSuite(const BtreeSuiteOptions& options,
                                               std::FILE* progress) {
  BtreeSuiteOptions o = options;
  const uint64_t gets = o.gets != 0 ? o.gets : std::max<uint64_t>(o.keys, 200'000);
  absl::StatusOr<BtreeData> data = MakeBtreeData(o, gets);
  if (!data.ok()) return data.status();
  absl::StatusOr<std::unique_ptr<WorkDir>> work = WorkDir::Create(o.dir);
  if (!work.ok()) return work.status();
  const std::string base = (*work)->path();

  std::unique_ptr<Engine> engines[2] = {NewRevkvEngine(), NewLmdbEngine()};
  BtreeSuiteReport report;
  report.options = o;
  report.options.gets = gets;
  report.revkv_description = engines[0]->Description();
  report.lmdb_description = engines[1]->Description();

  const bool rss_reset = ResetPeakRss();
  if (progress != nullptr) {
    std::fprintf(progress,
                 "revkv bench btree: %" PRIu64 " keys of %" PRIu64 " B, values of %" PRIu64
                 " B, batch %" PRIu64 ", %d round(s), %d reader(s), dir %s\n",
                 o.keys, o.key_size, o.value_size, o.batch, o.rounds, o.readers, base.c_str());
    if (OnTmpfs(base)) {
      std::fprintf(progress, "note: %s is on tmpfs, where fsync costs nothing\n", base.c_str());
    }
    std::fflush(progress);
  }

  // samples[engine][workload][round]
  std::map<std::string, std::map<std::string, std::vector<RoundSample>>> samples;
  uint64_t sink = 0;
  for (int round = 0; round < o.rounds; ++round) {
    for (int k = 0; k < 2; ++k) {
      Engine& e = *engines[(round + k) % 2];  // who goes first alternates
      RoundSamples s;
      if (absl::Status st = RunBtreeRound(o, *data, progress, rss_reset, e, base, round, &s, &sink);
          !st.ok()) {
        e.Close();
        return st;
      }
      for (auto& [w, sample] : s) samples[std::string(e.name())][w].push_back(sample);
    }
  }

  for (const WorkloadSpec& w : kWorkloads) {
    BtreeComparison c;
    c.workload = w.name;
    c.latency_of = w.latency_of != nullptr ? w.latency_of : "";
    c.revkv = Aggregate(w.name, "revkv", samples["revkv"][w.name]);
    c.lmdb = Aggregate(w.name, "lmdb", samples["lmdb"][w.name]);
    switch (w.metric) {
      case WorkloadSpec::kOpsPerS:
        c.metric = "ops/s";
        c.higher_is_better = true;
        break;
      case WorkloadSpec::kP50:
        c.metric = "p50 latency";
        c.higher_is_better = false;
        break;
      case WorkloadSpec::kFileBytes:
        c.metric = "file bytes";
        c.higher_is_better = false;
        break;
    }
    const auto& rv = samples["revkv"][w.name];
    const auto& lv = samples["lmdb"][w.name];
    std::vector<double> ratios;
    for (size_t i = 0; i < rv.size() && i < lv.size(); ++i) {
      const double a = MetricOf(w, rv[i]), b = MetricOf(w, lv[i]);
      if (a >= 0 && b > 0) ratios.push_back(a / b);
    }
    c.ratio = Median(ratios);
    report.rows.push_back(c);
  }
  g_sink = g_sink + sink;  // keeps the reads alive
  return report;
}

std::string FormatBtreeTable(const BtreeSuiteReport& r) {
  const BtreeSuiteOptions& o = r.options;
  std::string out;
  out += "revkv bench btree: " + FormatCount(static_cast<double>(o.keys)) + " keys of " +
         std::to_string(o.key_size) + " B, values of " + std::to_string(o.value_size) +
         " B, batch " + FormatCount(static_cast<double>(o.batch)) + ", " +
         std::to_string(o.readers) + " reader(s), " + FormatCount(static_cast<double>(o.gets)) +
         " gets, " + FormatCount(static_cast<double>(o.commits)) + " commits, median of " +
         std::to_string(o.rounds) + " round(s)\n";
  out += "  revkv: " + r.revkv_description + "\n";
  out += "  lmdb:  " + r.lmdb_description + "\n\n";

  struct Line {
    std::string c[8];
  };
  std::vector<Line> lines;
  lines.push_back({{"workload", "revkv ops/s", "lmdb ops/s", "revkv/lmdb", "better",
                    "revkv p50/p99 µs", "lmdb p50/p99 µs", "latency of"}});
  for (const BtreeComparison& c : r.rows) {
    Line l;
    l.c[0] = c.workload;
    if (c.metric == "file bytes") {
      l.c[1] = c.revkv.file_bytes >= 0 ? FormatBytes(c.revkv.file_bytes) : "-";
      l.c[2] = c.lmdb.file_bytes >= 0 ? FormatBytes(c.lmdb.file_bytes) : "-";
    } else {
      l.c[1] = FormatCount(c.revkv.ops_per_s);
      l.c[2] = FormatCount(c.lmdb.ops_per_s);
    }
    l.c[3] = c.ratio >= 0 ? Format("%.2fx", c.ratio) : "-";
    l.c[4] = c.higher_is_better ? "higher" : ("lower " + std::string(c.metric == "file bytes"
                                                                         ? "(size)"
                                                                         : "(p50)"));
    auto lat = [](const BtreeResult& b) {
      return b.p50_us < 0 ? std::string("-") : FormatMicros(b.p50_us) + "/" + FormatMicros(b.p99_us);
    };
    l.c[5] = lat(c.revkv);
    l.c[6] = lat(c.lmdb);
    l.c[7] = c.latency_of.empty() ? "-" : c.latency_of;
    lines.push_back(l);
  }
  // Column widths in characters (µs is one character, two bytes).
  auto width = [](const std::string& s) {
    size_t w = 0;
    for (unsigned char ch : s) w += (ch & 0xC0) != 0x80;
    return w;
  };
  size_t widths[8] = {};
  for (const Line& l : lines) {
    for (int i = 0; i < 8; ++i) widths[i] = std::max(widths[i], width(l.c[i]));
  }
  for (const Line& l : lines) {
    std::string row;
    for (int i = 0; i < 8; ++i) {
      const std::string& cell = l.c[i];
      const size_t pad = widths[i] - width(cell);
      const bool left = i == 0 || i == 4 || i == 7;
      if (i > 0) row += "  ";
      if (left) {
        row += cell;
        if (i != 7) row += std::string(pad, ' ');
      } else {
        row += std::string(pad, ' ') + cell;
      }
    }
    out += row + "\n";
  }
  out +=
      "\nratio = revkv/lmdb of the row's metric (median over rounds of per-round ratios): ops/s\n"
      "for throughput rows (higher is better), p50 commit latency for commit-latency and\n"
      "file size for file-size rows (lower is better). file-size-seq: after seq-put;\n"
      "file-size: after rand-put. Every commit is durable (fsync).\n";
  return out;
}

Report BtreeToReport(const BtreeSuiteReport& r) {
  Report out;
  out.suite = "btree";
  auto result = [](const BtreeResult& b) {
    Result x;
    x.suite = "btree";
    x.workload = b.workload;
    x.engine = b.engine;
    x.n = b.n;
    x.seconds = b.seconds;
    x.ops_per_s = b.ops_per_s;
    x.p50_us = b.p50_us;
    x.p99_us = b.p99_us;
    x.p999_us = b.p999_us;
    x.file_bytes = b.file_bytes;
    x.peak_rss_bytes = b.peak_rss_bytes;
    x.latency = b.latency;
    x.timeline = b.timeline;
    return x;
  };
  for (const BtreeComparison& c : r.rows) {
    Row row;
    row.workload = c.workload;
    row.revkv = result(c.revkv);
    row.peer = result(c.lmdb);
    row.ratio = c.ratio;
    out.rows.push_back(std::move(row));
  }
  return out;
}

std::string FormatBtreeJson(const BtreeSuiteReport& r) { return FormatJson(BtreeToReport(r)); }

int BtreeSuiteMain(const std::vector<std::string>& args) {
  absl::StatusOr<BtreeSuiteOptions> o = ParseBtreeSuiteFlags(args);
  if (!o.ok()) {
    std::fprintf(stderr, "Error: %s\n", std::string(o.status().message()).c_str());
    return 1;
  }
  if (o->help) {
    std::printf("%s", kBtreeUsage);
    return 0;
  }
  absl::StatusOr<BtreeSuiteReport> r = RunBtreeSuite(*o, stderr);
  if (!r.ok()) {
    std::fprintf(stderr, "Error: %s\n", std::string(r.status().message()).c_str());
    return 1;
  }
  CommonFlags flags;
  flags.json = o->json;
  flags.csv = o->csv;
  flags.plot = o->plot;
  const std::string table = FormatBtreeTable(*r);
  return EmitReport(BtreeToReport(*r), flags, &table);
}

}  // namespace revkv::bench
