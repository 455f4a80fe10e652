// RwLock: a shared/exclusive lock that prefers writers: once a writer waits,
// new readers wait behind it, so a steady stream of overlapping readers can
// never starve a writer (glibc's pthread rwlock, behind std::shared_mutex,
// prefers readers). Meets the SharedMutex requirements, so std::shared_lock
// and std::unique_lock work with it.
//
// Thread-safety: thread-safe.
#ifndef REVKV_MVCC_RW_LOCK_H_
#define REVKV_MVCC_RW_LOCK_H_

#include <condition_variable>
#include <mutex>

namespace revkv::mvcc {

class RwLock {
 public:
  void lock() {
    std::unique_lock<std::mutex> l(mu_);
    ++writers_waiting_;
    cv_.wait(l, [this] { return !writer_ && readers_ == 0; });
    --writers_waiting_;
    writer_ = true;
  }
  void unlock() {
    {
      std::lock_guard<std::mutex> l(mu_);
      writer_ = false;
    }
    cv_.notify_all();
  }
  void lock_shared() {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [this] { return !writer_ && writers_waiting_ == 0; });
    ++readers_;
  }
  void unlock_shared() {
    bool last;
    {
      std::lock_guard<std::mutex> l(mu_);
      last = --readers_ == 0;
    }
    if (last) cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int readers_ = 0;
  int writers_waiting_ = 0;
  bool writer_ = false;
};

}  // namespace revkv::mvcc

#endif  // REVKV_MVCC_RW_LOCK_H_
