#include "kvstore/dkv/clock.h"

namespace revkv::kvstore::dkv {
namespace {

class RealClock final : public Clock {
 public:
  Millis Now() override {
    return std::chrono::duration_cast<Millis>(
        std::chrono::system_clock::now().time_since_epoch());
  }
  Millis RealTimeUntil(Millis deadline) override {
    const Millis d = deadline - Now();
    return d > Millis(1) ? d : Millis(1);
  }
  uint64_t AddObserver(std::function<void()>) override { return 0; }
  void RemoveObserver(uint64_t) override {}
};

}  // namespace

Clock* SystemClock() {
  static RealClock* clock = new RealClock();
  return clock;
}

Millis FakeClock::Now() {
  std::lock_guard l(mu_);
  return now_;
}

Millis FakeClock::RealTimeUntil(Millis) { return std::chrono::hours(1); }

uint64_t FakeClock::AddObserver(std::function<void()> fn) {
  std::lock_guard l(observers_mu_);
  observers_[next_id_] = std::move(fn);
  return next_id_++;
}

void FakeClock::RemoveObserver(uint64_t id) {
  std::lock_guard l(observers_mu_);
  observers_.erase(id);
}

void FakeClock::Advance(Millis d) {
  {
    std::lock_guard l(mu_);
    now_ += d;
  }
  std::lock_guard l(observers_mu_);
  for (auto& [id, fn] : observers_) fn();
}

}  // namespace revkv::kvstore::dkv
