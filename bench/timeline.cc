#include "bench/timeline.h"

#include <algorithm>

namespace revkv::bench {

void Timeline::Coarsen() {
  std::vector<uint64_t> merged((counts_.size() + 1) / 2, 0);
  for (size_t i = 0; i < counts_.size(); ++i) merged[i / 2] += counts_[i];
  counts_ = std::move(merged);
  interval_ns_ *= 2;
}

void Timeline::Record(uint64_t elapsed_ns, uint64_t ops) {
  uint64_t index = elapsed_ns / interval_ns_;
  while (index >= kMaxIntervals) {
    Coarsen();
    index = elapsed_ns / interval_ns_;
  }
  if (index >= counts_.size()) counts_.resize(index + 1, 0);
  counts_[index] += ops;
  end_ns_ = std::max(end_ns_, elapsed_ns);
}

void Timeline::Finish(uint64_t elapsed_ns) {
  end_ns_ = std::max(end_ns_, elapsed_ns);
  uint64_t index = end_ns_ == 0 ? 0 : (end_ns_ - 1) / interval_ns_;
  while (index >= kMaxIntervals) {
    Coarsen();
    index = (end_ns_ - 1) / interval_ns_;
  }
  if (index >= counts_.size()) counts_.resize(index + 1, 0);
}

void Timeline::Merge(const Timeline& other) {
  Timeline o = other;
  while (interval_ns_ < o.interval_ns_) Coarsen();
  while (o.interval_ns_ < interval_ns_) o.Coarsen();
  if (o.counts_.size() > counts_.size()) counts_.resize(o.counts_.size(), 0);
  for (size_t i = 0; i < o.counts_.size(); ++i) counts_[i] += o.counts_[i];
  end_ns_ = std::max(end_ns_, o.end_ns_);
}

uint64_t Timeline::total() const {
  uint64_t t = 0;
  for (uint64_t c : counts_) t += c;
  return t;
}

std::vector<std::pair<double, double>> Timeline::Rates() const {
  std::vector<std::pair<double, double>> out;
  for (size_t i = 0; i < counts_.size(); ++i) {
    const uint64_t start = i * interval_ns_;
    uint64_t end = start + interval_ns_;
    if (i + 1 == counts_.size() && end_ns_ > start && end_ns_ < end) end = end_ns_;
    const double secs = (end - start) / 1e9;
    out.emplace_back(end / 1e9, counts_[i] / secs);
  }
  return out;
}

}  // namespace revkv::bench
