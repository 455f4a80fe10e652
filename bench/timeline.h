// Timeline: operations counted per time interval, for throughput-over-time
// plots, in bounded memory.
//
// Intervals start at 100 ms. When a recording falls beyond kMaxIntervals
// intervals, neighbouring intervals merge in pairs and the interval doubles,
// so a run of any length holds at most kMaxIntervals counters (8 KiB).
//
// Thread-compatible: give each thread its own Timeline and Merge them after.
#ifndef REVKV_BENCH_TIMELINE_H_
#define REVKV_BENCH_TIMELINE_H_

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace revkv::bench {

class Timeline {
 public:
  static constexpr uint64_t kInitialIntervalNs = 100'000'000;
  static constexpr size_t kMaxIntervals = 1024;

  // Counts `ops` operations finished `elapsed_ns` after the workload started.
  void Record(uint64_t elapsed_ns, uint64_t ops = 1);
  // The workload's end, `elapsed_ns` after its start (sizes the last interval).
  void Finish(uint64_t elapsed_ns);
  // Adds other's counts (coarsening to the wider interval of the two).
  void Merge(const Timeline& other);

  uint64_t interval_ns() const { return interval_ns_; }
  const std::vector<uint64_t>& counts() const { return counts_; }
  uint64_t total() const;

  // (seconds since start at the interval's end, ops/s in the interval) per
  // interval; the last interval's rate uses its actual length.
  std::vector<std::pair<double, double>> Rates() const;

 private:
  void Coarsen();

  uint64_t interval_ns_ = kInitialIntervalNs;
  std::vector<uint64_t> counts_;
  uint64_t end_ns_ = 0;
};

}  // namespace revkv::bench

#endif  // REVKV_BENCH_TIMELINE_H_
