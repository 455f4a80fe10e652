#include "bench/histogram.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>

namespace revkv::bench {
namespace {

// Values below kLinear have their own bucket; above, each power of two holds
// kSubBuckets buckets.
constexpr uint64_t kLinear = 256;
constexpr uint64_t kSubBuckets = 128;
constexpr int kSubBits = 7;  // log2(kSubBuckets)

}  // namespace

Histogram::Histogram(uint64_t max_value)
    : max_value_(std::max<uint64_t>(max_value, 1)),
      counts_(IndexOf(max_value_) + 1, 0) {}

size_t Histogram::IndexOf(uint64_t value) {
  if (value < kLinear) return static_cast<size_t>(value);
  const int e = 63 - std::countl_zero(value);  // >= 8
  const uint64_t sub = value >> (e - kSubBits);  // in [128, 256)
  return static_cast<size_t>(kLinear + (e - 8) * kSubBuckets + (sub - kSubBuckets));
}

uint64_t Histogram::LowestOf(size_t index) {
  if (index < kLinear) return index;
  const uint64_t k = index - kLinear;
  const int e = 8 + static_cast<int>(k / kSubBuckets);
  const uint64_t sub = kSubBuckets + k % kSubBuckets;
  return sub << (e - kSubBits);
}

uint64_t Histogram::HighestOf(size_t index) {
  if (index < kLinear) return index;
  const uint64_t k = index - kLinear;
  const int e = 8 + static_cast<int>(k / kSubBuckets);
  const uint64_t sub = kSubBuckets + k % kSubBuckets;
  if (e == 63 && sub == 255) return UINT64_MAX;
  return ((sub + 1) << (e - kSubBits)) - 1;
}

void Histogram::Record(uint64_t value) { RecordN(value, 1); }

void Histogram::RecordN(uint64_t value, uint64_t n) {
  if (n == 0) return;
  value = std::min(value, max_value_);
  counts_[IndexOf(value)] += n;
  count_ += n;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
  sum_ += static_cast<long double>(value) * n;
}

void Histogram::Merge(const Histogram& other) {
  assert(other.max_value_ == max_value_);
  const size_t n = std::min(counts_.size(), other.counts_.size());
  for (size_t i = 0; i < n; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  sum_ += other.sum_;
}

void Histogram::Reset() {
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = 0;
  min_ = UINT64_MAX;
  max_ = 0;
  sum_ = 0;
}

double Histogram::Mean() const {
  return count_ == 0 ? 0.0 : static_cast<double>(sum_ / count_);
}

uint64_t Histogram::Percentile(double p) const {
  if (count_ == 0) return 0;
  p = std::clamp(p, 0.0, 100.0);
  // The rank, 1-based; the tiny shrink keeps p/100 * count from rounding up
  // past an exact integer.
  const double r = p / 100.0 * static_cast<double>(count_);
  uint64_t rank = static_cast<uint64_t>(std::ceil(r * (1.0 - 1e-12)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  // The extremes are known exactly.
  if (rank == 1) return min_;
  if (rank == count_) return max_;
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      const uint64_t lo = LowestOf(i);
      const uint64_t hi = HighestOf(i);
      const uint64_t mid = lo + (hi - lo) / 2;
      return std::clamp(mid, min_, max_);
    }
  }
  return max_;
}

}  // namespace revkv::bench
