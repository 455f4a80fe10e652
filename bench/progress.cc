#include "bench/progress.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "bench/report.h"

namespace revkv::bench {

namespace {
constexpr uint64_t kTtyPeriodNs = 100'000'000;
constexpr uint64_t kPlainPeriodNs = 2'000'000'000;
constexpr int kBarWidth = 24;

std::string Eta(double s) {
  if (!(s >= 0) || !std::isfinite(s)) return "?";
  char buf[32];
  const long t = std::lround(s);
  if (t >= 60) {
    std::snprintf(buf, sizeof(buf), "%ldm%02lds", t / 60, t % 60);
  } else {
    std::snprintf(buf, sizeof(buf), "%lds", t);
  }
  return buf;
}
}  // namespace

uint64_t MonotonicNs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

Progress::Progress(std::FILE* out, bool tty, uint64_t period_ns)
    : out_(out),
      tty_(tty && out != nullptr),
      period_ns_(period_ns != 0 ? period_ns : tty_ ? kTtyPeriodNs : kPlainPeriodNs) {}

Progress Progress::Stderr() { return Progress(stderr, isatty(STDERR_FILENO) == 1); }

void Progress::Begin(const std::string& label, uint64_t total_ops, double duration_s) {
  label_ = label;
  total_ = total_ops;
  duration_s_ = duration_s;
  start_ns_ = MonotonicNs();
  next_ns_ = start_ns_ + period_ns_;
  calls_ = 0;
  last_done_ = 0;
  drawn_ = false;
}

void Progress::Update(uint64_t done) {
  // Per-operation callers: the clock every 64th call; batch callers (1,000
  // or more at a time): every call.
  if (out_ == nullptr) return;
  const bool big_step = done >= last_done_ + 1000;
  if ((++calls_ & 63) != 0 && !big_step) return;
  last_done_ = done;
  const uint64_t now = MonotonicNs();
  if (now < next_ns_) return;
  next_ns_ = now + period_ns_;
  Draw(done, now);
}

void Progress::Draw(uint64_t done, uint64_t now_ns) {
  const double elapsed = (now_ns - start_ns_) / 1e9;
  const double rate = elapsed > 0 ? done / elapsed : 0;
  double fraction = -1, eta = -1;
  if (total_ > 0) {
    fraction = std::min(1.0, static_cast<double>(done) / total_);
    eta = rate > 0 ? (total_ - std::min(done, total_)) / rate : -1;
  } else if (duration_s_ > 0) {
    fraction = std::min(1.0, elapsed / duration_s_);
    eta = std::max(0.0, duration_s_ - elapsed);
  }
  char pct[16] = "";
  if (fraction >= 0) std::snprintf(pct, sizeof(pct), "%3.0f%%", fraction * 100);
  if (tty_) {
    std::string bar;
    if (fraction >= 0) {
      const int filled = static_cast<int>(fraction * kBarWidth);
      bar = "[" + std::string(filled, '#') + std::string(kBarWidth - filled, '-') + "] ";
    }
    std::fprintf(out_, "\r  %s %s%s  %s ops/s  ETA %s\x1b[K", label_.c_str(), bar.c_str(), pct,
                 FormatCount(rate).c_str(), Eta(eta).c_str());
    drawn_ = true;
  } else {
    std::fprintf(out_, "  %s: %s %s ops, %s ops/s, ETA %s\n", label_.c_str(), pct,
                 FormatCount(static_cast<double>(done)).c_str(), FormatCount(rate).c_str(),
                 Eta(eta).c_str());
  }
  std::fflush(out_);
}

void Progress::Clear() {
  if (drawn_) {
    std::fprintf(out_, "\r\x1b[K");
    drawn_ = false;
  }
}

void Progress::End(const std::string& summary) {
  if (out_ == nullptr) return;
  Clear();
  if (!summary.empty()) std::fprintf(out_, "%s\n", summary.c_str());
  std::fflush(out_);
}

void Progress::Line(const std::string& text) {
  if (out_ == nullptr) return;
  Clear();
  std::fprintf(out_, "%s\n", text.c_str());
  std::fflush(out_);
}

}  // namespace revkv::bench
