// bench::Histogram: percentiles within the stated relative error, merging,
// clamping and bounded memory.
#include "bench/histogram.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace revkv::bench {
namespace {

// The exact percentile under Histogram's definition: the value of rank
// ceil(p/100 * n) in sorted order. p is given in tenths so the rank is exact.
uint64_t ExactPercentile(std::vector<uint64_t> sorted, int p_tenths) {
  const uint64_t n = sorted.size();
  uint64_t rank = (static_cast<uint64_t>(p_tenths) * n + 999) / 1000;
  rank = std::clamp<uint64_t>(rank, 1, n);
  return sorted[rank - 1];
}

void ExpectWithinError(const Histogram& h, std::vector<uint64_t> values) {
  std::sort(values.begin(), values.end());
  ASSERT_EQ(h.Count(), values.size());
  for (int p_tenths : {0, 1, 10, 100, 250, 500, 750, 900, 950, 990, 999, 1000}) {
    const uint64_t exact = ExactPercentile(values, p_tenths);
    const uint64_t got = h.Percentile(p_tenths / 10.0);
    const double err = std::fabs(static_cast<double>(got) - static_cast<double>(exact));
    EXPECT_LE(err, static_cast<double>(exact) * Histogram::kMaxRelativeError)
        << "p" << p_tenths / 10.0 << " exact=" << exact << " got=" << got;
    // Two significant digits, as promised to readers of the header.
    EXPECT_LE(err, static_cast<double>(exact) * 0.01);
  }
  EXPECT_EQ(h.Min(), values.front());
  EXPECT_EQ(h.Max(), values.back());
}

TEST(Histogram, EmptyReportsZero) {
  Histogram h;
  EXPECT_EQ(h.Count(), 0u);
  EXPECT_EQ(h.Percentile(50), 0u);
  EXPECT_EQ(h.Percentile(99), 0u);
  EXPECT_EQ(h.Min(), 0u);
  EXPECT_EQ(h.Max(), 0u);
  EXPECT_EQ(h.Mean(), 0.0);
}

TEST(Histogram, SmallValuesAreExact) {
  Histogram h;
  std::vector<uint64_t> values;
  for (uint64_t v = 0; v < 256; ++v) {
    h.Record(v);
    values.push_back(v);
  }
  for (int p_tenths = 0; p_tenths <= 1000; p_tenths += 7) {
    EXPECT_EQ(h.Percentile(p_tenths / 10.0), ExactPercentile(values, p_tenths));
  }
}

TEST(Histogram, SingleValue) {
  Histogram h;
  h.Record(123456789);
  for (double p : {0.0, 50.0, 99.9, 100.0}) EXPECT_EQ(h.Percentile(p), 123456789u);
  EXPECT_DOUBLE_EQ(h.Mean(), 123456789.0);
}

TEST(Histogram, UniformWithinRelativeError) {
  std::mt19937_64 rng(1);
  std::uniform_int_distribution<uint64_t> dist(1000, 10'000'000);
  Histogram h;
  std::vector<uint64_t> values;
  for (int i = 0; i < 100'000; ++i) {
    values.push_back(dist(rng));
    h.Record(values.back());
  }
  ExpectWithinError(h, values);
}

TEST(Histogram, LogNormalLatenciesWithinRelativeError) {
  // Latency-like: a body around 20 us and a long tail to seconds.
  std::mt19937_64 rng(2);
  std::lognormal_distribution<double> dist(std::log(20'000.0), 1.5);
  Histogram h;
  std::vector<uint64_t> values;
  for (int i = 0; i < 200'000; ++i) {
    values.push_back(static_cast<uint64_t>(dist(rng)));
    h.Record(values.back());
  }
  ExpectWithinError(h, values);
}

TEST(Histogram, WideRangeFromNanosecondsToMinutes) {
  std::mt19937_64 rng(3);
  Histogram h;
  std::vector<uint64_t> values;
  const uint64_t ten_minutes = uint64_t{600} * 1'000'000'000;
  for (int i = 0; i < 50'000; ++i) {
    // Log-uniform over [1 ns, 10 min].
    const double x = std::uniform_real_distribution<double>(
        0.0, std::log(static_cast<double>(ten_minutes)))(rng);
    values.push_back(static_cast<uint64_t>(std::exp(x)));
    h.Record(values.back());
  }
  ExpectWithinError(h, values);
}

TEST(Histogram, MergeEqualsRecordingEverything) {
  std::mt19937_64 rng(4);
  std::lognormal_distribution<double> dist(std::log(5'000.0), 1.0);
  Histogram a, b, all;
  std::vector<uint64_t> values;
  for (int i = 0; i < 30'000; ++i) {
    const uint64_t v = static_cast<uint64_t>(dist(rng));
    values.push_back(v);
    (i % 3 == 0 ? a : b).Record(v);
    all.Record(v);
  }
  a.Merge(b);
  EXPECT_EQ(a.Count(), all.Count());
  EXPECT_EQ(a.Min(), all.Min());
  EXPECT_EQ(a.Max(), all.Max());
  EXPECT_NEAR(a.Mean(), all.Mean(), 1e-6 * all.Mean());
  for (double p : {1.0, 50.0, 90.0, 99.0, 99.9}) EXPECT_EQ(a.Percentile(p), all.Percentile(p));
  ExpectWithinError(a, values);
}

TEST(Histogram, MergeIntoEmpty) {
  Histogram a, b;
  b.Record(42);
  b.Record(4200);
  a.Merge(b);
  EXPECT_EQ(a.Count(), 2u);
  EXPECT_EQ(a.Min(), 42u);
  EXPECT_EQ(a.Max(), 4200u);
}

TEST(Histogram, ValuesAboveMaxAreClamped) {
  Histogram h(1'000'000);
  h.Record(5);
  h.Record(UINT64_MAX);
  h.Record(2'000'000);
  EXPECT_EQ(h.Count(), 3u);
  EXPECT_EQ(h.Max(), 1'000'000u);
  EXPECT_EQ(h.Percentile(100), 1'000'000u);
  EXPECT_EQ(h.Percentile(0), 5u);
}

TEST(Histogram, FullUint64RangeWorks) {
  Histogram h(UINT64_MAX);
  h.Record(UINT64_MAX);
  h.Record(UINT64_MAX - 1);
  h.Record(uint64_t{1} << 63);
  EXPECT_EQ(h.Percentile(100), UINT64_MAX);
  const double lo = static_cast<double>(uint64_t{1} << 63);
  EXPECT_NEAR(static_cast<double>(h.Percentile(0)), lo, lo / 256);
}

TEST(Histogram, MemoryIsBounded) {
  Histogram h;  // one hour in ns
  EXPECT_LT(h.bucket_count() * sizeof(uint64_t), 40u * 1024);
  Histogram wide(UINT64_MAX);
  EXPECT_LT(wide.bucket_count() * sizeof(uint64_t), 64u * 1024);
}

TEST(Histogram, RecordNAndReset) {
  Histogram h;
  h.RecordN(1000, 99);
  h.RecordN(1'000'000, 1);
  EXPECT_EQ(h.Count(), 100u);
  EXPECT_NEAR(static_cast<double>(h.Percentile(99)), 1000.0, 1000.0 / 256);
  EXPECT_NEAR(static_cast<double>(h.Percentile(99.5)), 1e6, 1e6 / 256);
  h.Reset();
  EXPECT_EQ(h.Count(), 0u);
  EXPECT_EQ(h.Percentile(50), 0u);
}

}  // namespace
}  // namespace revkv::bench
