#include "bench/measurement.h"

#include <cstdio>
#include <utility>
#include <vector>


namespace revkv::bench {

Measurement::Measurement(Progress& progress, std::string label, uint64_t total_ops,
                         double seconds, PeakRss peak)
    : progress_(progress),
      label_(std::move(label)),
      reset_(peak == PeakRss::kWorkload && ResetPeakRss()) {
  progress_.Begin(label_, total_ops, seconds);
}

void Measurement::Finish(Sample* s) {
  s->peak_rss_bytes = static_cast<double>(PeakRssBytes(reset_));
  progress_.End(SampleSummary(label_, *s));
}

void Measurement::Finish(Sample* reads, Sample* writes) {
  reads->peak_rss_bytes = static_cast<double>(PeakRssBytes(reset_));
  writes->peak_rss_bytes = reads->peak_rss_bytes;
  writes->file_bytes = reads->file_bytes;
  progress_.End(SampleSummary(label_ + " reads", *reads) + "\n" +
                SampleSummary(label_ + " writes", *writes));
}

std::string SampleSummary(const std::string& label, const Sample& s) {
  std::vector<std::string> parts;
  if (s.n >= 0 && s.seconds >= 0) {
    char secs[32];
    std::snprintf(secs, sizeof(secs), "%.3f", s.seconds);
    parts.push_back(FormatCount(s.n) + " ops in " + secs + " s, " + FormatRate(s.ops_per_s()) +
                    " ops/s");
  }
  if (s.latency.Count() > 0) {
    parts.push_back("p50 " + FormatMicros(s.latency.Percentile(50) / 1e3) + " µs, p99 " +
                    FormatMicros(s.latency.Percentile(99) / 1e3) + " µs");
  }
  if (s.file_bytes >= 0) parts.push_back("file " + FormatBytes(s.file_bytes));
  if (s.peak_rss_bytes >= 0) parts.push_back("peak RSS " + FormatBytes(s.peak_rss_bytes));
  std::string line = "  " + label + ":";
  for (size_t i = 0; i < parts.size(); ++i) line += (i == 0 ? " " : ", ") + parts[i];
  return line;
}

std::string RoundLabel(uint64_t round, uint64_t rounds, std::string_view engine,
                       std::string_view workload) {
  return "round " + std::to_string(round + 1) + "/" + std::to_string(rounds) + " " +
         std::string(engine) + " " + std::string(workload);
}

void AnnounceRun(const WorkDir& dir, Progress& progress, Report* report) {
  progress.Line(report->header.at(0) + ", dir " + dir.path());
  if (OnTmpfs(dir.path())) {
    progress.Line("note: " + dir.path() + " is on tmpfs, where fsync costs nothing");
    report->header.push_back("  note: the data directory is on tmpfs, where fsync costs nothing");
  }
}

}  // namespace revkv::bench
