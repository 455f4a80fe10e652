// The lessor's clock: monotonic, so that a wall-clock step never expires or
// revives a lease, and injectable, so that tests advance time instead of
// sleeping.
//
// Thread-safety: SystemClock and FakeClock are thread-safe.
#ifndef REVKV_LEASE_CLOCK_H_
#define REVKV_LEASE_CLOCK_H_

#include <atomic>
#include <chrono>

namespace revkv::lease {

class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  virtual TimePoint Now() = 0;
};

// std::chrono::steady_clock; one shared instance, never destroyed.
Clock* SystemClock();

// Time that moves only when told to. Starts at an arbitrary point well away
// from the epoch, so that expiry arithmetic never meets zero.
class FakeClock : public Clock {
 public:
  TimePoint Now() override { return TimePoint(std::chrono::nanoseconds(ns_.load())); }
  void Advance(std::chrono::nanoseconds d) { ns_.fetch_add(d.count()); }

 private:
  std::atomic<int64_t> ns_{int64_t{1} << 40};
};

}  // namespace revkv::lease

#endif  // REVKV_LEASE_CLOCK_H_
