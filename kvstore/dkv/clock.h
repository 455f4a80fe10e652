// Clock: where the dKV store reads the time, so that tests can drive expiry
// without sleeping.
//
// Time is milliseconds since the Unix epoch, the unit the store persists.
// The sweeper asks a clock how long to wait, in real time, for a deadline
// (RealTimeUntil) and subscribes to jumps of a clock that does not follow
// real time (AddObserver): FakeClock::Advance wakes it at once.
//
// Thread-safety: implementations are thread-safe.
#ifndef REVKV_KVSTORE_DKV_CLOCK_H_
#define REVKV_KVSTORE_DKV_CLOCK_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>

namespace revkv::kvstore::dkv {

using Millis = std::chrono::milliseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  // The current time since the Unix epoch.
  virtual Millis Now() = 0;
  // How long to wait in real time before Now() may have reached deadline;
  // a clock that only moves when told returns a long idle period.
  virtual Millis RealTimeUntil(Millis deadline) = 0;
  // Calls fn after every jump of the clock (never for real time passing).
  // fn must not call back into the clock. Returns an id for RemoveObserver,
  // which waits for a running call of fn to finish.
  virtual uint64_t AddObserver(std::function<void()> fn) = 0;
  virtual void RemoveObserver(uint64_t id) = 0;
};

// The system's real-time clock (std::chrono::system_clock). Never null.
Clock* SystemClock();

// A clock that moves only when told to.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(Millis start = Millis(1'000'000)) : now_(start) {}
  Millis Now() override;
  Millis RealTimeUntil(Millis deadline) override;
  uint64_t AddObserver(std::function<void()> fn) override;
  void RemoveObserver(uint64_t id) override;
  // Moves the clock forward by d, then notifies the observers.
  void Advance(Millis d);

 private:
  std::mutex mu_;                 // guards now_
  Millis now_;
  std::mutex observers_mu_;       // held while observers run
  std::map<uint64_t, std::function<void()>> observers_;
  uint64_t next_id_ = 1;          // guarded by observers_mu_
};

}  // namespace revkv::kvstore::dkv

#endif  // REVKV_KVSTORE_DKV_CLOCK_H_
