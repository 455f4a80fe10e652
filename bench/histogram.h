// Histogram: a latency histogram with bounded memory, after HdrHistogram.
//
// Values (nanoseconds, or any non-negative integer) fall into log-linear
// buckets: below 256 each value has its own bucket; above, every power-of-two
// range [2^e, 2^(e+1)) is cut into 128 equal buckets. A bucket is thus at most
// 1/128 of its lowest value wide, and Percentile reports a bucket's midpoint,
// so a reported value is within 1/256 (0.4%) of a value recorded in that
// bucket: two significant decimal digits, with room to spare. The range is
// [0, max_value] (default one hour in ns); larger values count as max_value.
// Memory is fixed at construction: about 37 KiB for the default range.
//
// Thread-compatible: no internal locking. Give each thread its own Histogram
// and Merge them when the threads are done.
#ifndef REVKV_BENCH_HISTOGRAM_H_
#define REVKV_BENCH_HISTOGRAM_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace revkv::bench {

class Histogram {
 public:
  // One hour in nanoseconds.
  static constexpr uint64_t kDefaultMaxValue = uint64_t{3600} * 1000 * 1000 * 1000;
  // Largest relative distance between a reported and a recorded value.
  static constexpr double kMaxRelativeError = 1.0 / 256;

  explicit Histogram(uint64_t max_value = kDefaultMaxValue);

  void Record(uint64_t value);
  void RecordN(uint64_t value, uint64_t n);
  // Adds other's values. Both must have the same max_value.
  void Merge(const Histogram& other);
  void Reset();

  uint64_t Count() const { return count_; }
  // Exact, over the recorded values (clamped to max_value); 0 when empty.
  uint64_t Min() const { return count_ == 0 ? 0 : min_; }
  uint64_t Max() const { return max_; }
  double Mean() const;
  // The value at percentile p in [0, 100]: the smallest recorded value v with
  // at least ceil(p/100 * Count()) values <= v (the minimum for p = 0), to
  // within kMaxRelativeError (exact for the lowest and highest rank). 0 when
  // empty.
  uint64_t Percentile(double p) const;

  uint64_t max_value() const { return max_value_; }
  // Buckets held (memory is 8 bytes each).
  size_t bucket_count() const { return counts_.size(); }

 private:
  static size_t IndexOf(uint64_t value);
  // Lowest and highest value of bucket `index`.
  static uint64_t LowestOf(size_t index);
  static uint64_t HighestOf(size_t index);

  uint64_t max_value_;
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
  long double sum_ = 0;
};

}  // namespace revkv::bench

#endif  // REVKV_BENCH_HISTOGRAM_H_
