// CloseGate: lets calls run concurrently until Close, which refuses new calls
// and waits for the running ones to leave.
//
// Not a std::shared_mutex: glibc's rwlock prefers readers, so a Close
// waiting for exclusive access can starve forever behind a steady stream of
// calls. Here Close shuts the gate first, then drains.
//
// Thread-safety: thread-safe.
#ifndef REVKV_UTIL_CLOSE_GATE_H_
#define REVKV_UTIL_CLOSE_GATE_H_

#include <condition_variable>
#include <mutex>

namespace revkv::util {

class CloseGate {
 public:
  // Holds the gate open for one call; ok() is false once the gate is shut.
  class Pass {
   public:
    explicit Pass(CloseGate& gate) : gate_(gate), ok_(gate.Enter()) {}
    ~Pass() {
      if (ok_) gate_.Leave();
    }
    Pass(const Pass&) = delete;
    Pass& operator=(const Pass&) = delete;
    bool ok() const { return ok_; }

   private:
    CloseGate& gate_;
    const bool ok_;
  };

  // Shuts the gate and waits until no Pass is held. Returns false if it was
  // already shut (another Close ran or runs; it too waits for the drain).
  bool Close() {
    std::unique_lock l(mu_);
    const bool first = !closed_;
    closed_ = true;
    cv_.wait(l, [this] { return active_ == 0; });
    return first;
  }

  bool closed() {
    std::lock_guard l(mu_);
    return closed_;
  }

 private:
  bool Enter() {
    std::lock_guard l(mu_);
    if (closed_) return false;
    active_++;
    return true;
  }
  void Leave() {
    bool last;
    {
      std::lock_guard l(mu_);
      last = --active_ == 0 && closed_;
    }
    if (last) cv_.notify_all();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  int active_ = 0;       // guarded by mu_
  bool closed_ = false;  // guarded by mu_
};

}  // namespace revkv::util

#endif  // REVKV_UTIL_CLOSE_GATE_H_
