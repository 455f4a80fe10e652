// AdaptiveMutex: a mutex that spins briefly before it sleeps, for locks held
// for a few hundred nanoseconds by many threads (a reader taking a view, the
// writer publishing a write). A plain mutex puts the loser of every such
// race to sleep on a futex, and the sleep and wake-up cost microseconds; a
// short spin usually outlasts the holder instead.
//
// glibc's PTHREAD_MUTEX_ADAPTIVE_NP kind: one atomic operation when free,
// then a bounded spin (tuned by glibc to the lock's history), then a futex.
// For std::lock_guard / std::unique_lock; not for std::condition_variable.
//
// Thread-safety: thread-safe.
#ifndef REVKV_BACKEND_ADAPTIVE_MUTEX_H_
#define REVKV_BACKEND_ADAPTIVE_MUTEX_H_

#include <pthread.h>

namespace revkv::backend {

class AdaptiveMutex {
 public:
  AdaptiveMutex() {
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ADAPTIVE_NP);
    pthread_mutex_init(&mu_, &attr);
    pthread_mutexattr_destroy(&attr);
  }
  ~AdaptiveMutex() { pthread_mutex_destroy(&mu_); }
  AdaptiveMutex(const AdaptiveMutex&) = delete;
  AdaptiveMutex& operator=(const AdaptiveMutex&) = delete;

  void lock() { pthread_mutex_lock(&mu_); }
  bool try_lock() { return pthread_mutex_trylock(&mu_) == 0; }
  void unlock() { pthread_mutex_unlock(&mu_); }

 private:
  pthread_mutex_t mu_;
};

}  // namespace revkv::backend

#endif  // REVKV_BACKEND_ADAPTIVE_MUTEX_H_
