// Report: what every `revkv bench` subcommand but scaling prints -- one row
// per workload with revkv's numbers, the peer's (LMDB) where the workload
// exists there, and their ratio -- as a table (default), JSON lines, CSV or
// an SVG plot (plot.h).
//
// A Sample is one round's measurement of one (workload, engine); Aggregate
// turns the rounds into a Result: medians of the counts, times, rates, sizes
// and memory over the rounds, latency percentiles of all rounds' samples
// together (the merged Histogram), and the last round's Timeline. Negative
// numbers mean "does not apply" and are left out of JSON and CSV.
//
// Plain values; thread-compatible.
#ifndef REVKV_BENCH_REPORT_H_
#define REVKV_BENCH_REPORT_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/histogram.h"
#include "bench/timeline.h"

namespace revkv::bench {

struct Sample {
  double n = -1;        // operations measured
  double seconds = -1;  // wall (or CPU) time of those operations
  double file_bytes = -1;
  double peak_rss_bytes = -1;
  Histogram latency;  // per-operation latency in ns; empty: none
  Timeline timeline;  // operations over time; empty: none

  double ops_per_s() const { return seconds > 0 && n >= 0 ? n / seconds : -1; }
  // `ops` operations took `elapsed_ns`; also ends the timeline there.
  void SetTime(uint64_t ops, uint64_t elapsed_ns);
};

// Every sample of a run: samples[workload][engine][round].
using Samples = std::map<std::string, std::map<std::string, std::vector<Sample>>>;

// A new sample of `workload` on `engine`, appended to its rounds. The
// reference stays valid until the next NewSample of the same pair.
Sample& NewSample(Samples* samples, const std::string& workload, const std::string& engine);

struct Result {
  std::string suite, workload, engine;
  double n = -1, seconds = -1, ops_per_s = -1;
  double p50_us = -1, p99_us = -1, p999_us = -1;
  double file_bytes = -1, peak_rss_bytes = -1;
  // For the plot; null when the workload records none.
  std::shared_ptr<const Histogram> latency;
  std::shared_ptr<const Timeline> timeline;
};

Result Aggregate(const std::string& suite, const std::string& workload, const std::string& engine,
                 const std::vector<Sample>& rounds);

// What a row's ratio compares, per round; negative: not measured.
using Metric = double (*)(const Sample&);
double ByOpsPerS(const Sample& s);    // higher is better
double ByP50(const Sample& s);        // the p50 latency: lower is better
double ByFileBytes(const Sample& s);  // lower is better

// The median over rounds i of metric(a[i]) / metric(b[i]); -1 if none.
double MedianRatio(const std::vector<Sample>& a, const std::vector<Sample>& b,
                   Metric metric = ByOpsPerS);
// -1 when empty.
double Median(std::vector<double> v);

struct Row {
  std::string workload;
  Result revkv;
  std::optional<Result> peer;  // LMDB, where the workload exists there
  double ratio = -1;           // revkv/peer of the row's metric, median over rounds
  std::string note;            // what one op is, ... (listed below the table)
};

// How a suite turns its samples into a row.
struct RowSpec {
  std::string workload;
  std::string note;
  Metric metric = ByOpsPerS;
};

// One row per spec that has samples, in the specs' order: revkv's rounds
// aggregated, and the peer's (any other engine) with the ratio by the spec's
// metric.
std::vector<Row> MakeRows(const std::string& suite, const Samples& samples,
                          const std::vector<RowSpec>& specs);

struct Report {
  std::string suite;                 // "suite", "put", "btree", ...
  std::string peer_name = "lmdb";
  std::vector<std::string> header;   // lines above the table
  std::vector<Row> rows;
  std::vector<std::string> footer;   // lines below the table
  // Rows JSON and CSV carry after `rows`, which the table and the plot leave
  // out (a section shows them its own way).
  std::vector<Row> extra_rows;
  // Text printed after the footer, each block after a blank line.
  std::vector<std::string> sections;
};

std::string FormatTable(const Report& r);
// One object per line per (workload, engine) of rows, then extra_rows: suite, workload, engine, n,
// seconds, ops_per_s, p50_us, p99_us, p999_us, file_bytes, peak_rss_bytes.
std::string FormatJson(const Report& r);
// A header line, then one row per (workload, engine); the same fields, empty
// where they do not apply.
std::string FormatCsv(const Report& r);

// The one table layout of `revkv bench`: `lines` (the first is the head)
// in columns two spaces apart, each as wide as its widest cell (UTF-8
// sequences such as µ count once); a cell is left-aligned when `left[i]`
// (missing: right-aligned).
std::string AlignColumns(const std::vector<std::vector<std::string>>& lines,
                         const std::vector<bool>& left);

// Human formatting: 1,234,567; 12.3 MiB; 6.12 (µs, 3 significant digits);
// "-" for negative values.
std::string FormatCount(double v);
// A rate: like FormatCount, with decimals below 100 (0.36, 72.4).
std::string FormatRate(double v);
std::string FormatBytes(double v);
std::string FormatMicros(double us);

}  // namespace revkv::bench

#endif  // REVKV_BENCH_REPORT_H_
