// Measurement: how every suite brackets one workload, so that their progress
// lines and memory figures are made the same way. At construction it starts
// the workload's progress line and, by default, resets the peak RSS
// (sysinfo.h); Finish records the peak RSS into the sample and prints its
// summary.
//
// Resetting the peak hands freed heap back to the kernel (malloc_trim), and
// the workload then faults its memory in anew, which shows in its time
// (bench/README.md has a measurement). The layer suites (mvcc, backend)
// therefore report the process's peak so far instead, as they always have,
// so that their times stay comparable across versions.
//
// Thread-compatible: the thread that drives the Progress owns it.
#ifndef REVKV_BENCH_MEASUREMENT_H_
#define REVKV_BENCH_MEASUREMENT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "bench/progress.h"
#include "bench/report.h"
#include "bench/sysinfo.h"

namespace revkv::bench {

// Which peak RSS a sample reports.
enum class PeakRss {
  kWorkload,  // the peak while the workload ran (reset at its start)
  kProcess,   // the process's peak up to the workload's end (no reset)
};

class Measurement {
 public:
  // `total_ops` (0: unknown) or `seconds` (time-boxed; 0: unknown) size the
  // progress bar.
  Measurement(Progress& progress, std::string label, uint64_t total_ops, double seconds,
              PeakRss peak = PeakRss::kWorkload);

  // Sets s->peak_rss_bytes and prints the summary line.
  void Finish(Sample* s);
  // A reader/writer run: both samples share the peak RSS and file size of
  // `reads`; one summary line each.
  void Finish(Sample* reads, Sample* writes);

 private:
  Progress& progress_;
  std::string label_;
  bool reset_;
};

// One plain line describing a finished sample, for progress output.
std::string SampleSummary(const std::string& label, const Sample& s);

// "round 2/3 revkv put": the label of a workload's progress lines.
std::string RoundLabel(uint64_t round, uint64_t rounds, std::string_view engine,
                       std::string_view workload);

// Starts a run's progress output: the report's first header line and where
// the files go; when that is tmpfs, where fsync costs nothing, says so there
// and in the report's header too.
void AnnounceRun(const WorkDir& dir, Progress& progress, Report* report);

}  // namespace revkv::bench

#endif  // REVKV_BENCH_MEASUREMENT_H_
