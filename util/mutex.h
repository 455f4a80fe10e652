// Lock types annotated for clang's thread-safety analysis (-Wthread-safety,
// `bazel build --config=tsa`), with the attributes of
// absl/base/thread_annotations.h. libstdc++'s std::mutex and its guards carry
// no annotations, so the analysis cannot see a lock taken through them; these
// types wrap the same primitives in inline calls that add no work:
//
//   Mutex          std::mutex.
//   AdaptiveMutex  glibc's adaptive mutex: spins briefly before it sleeps.
//   RwLock         glibc's writer-preferring reader-writer lock.
//   SpinningRwLock RwLock taken by spinning on its try-lock, then parking.
//   CondVar        std::condition_variable, waited on with a Mutex.
//
// Each is a capability (ABSL_LOCKABLE): a member declared
// `ABSL_GUARDED_BY(mu_)` may be touched only with mu_ held, a function
// declared `ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_)` (or, for a reader's lock,
// `ABSL_SHARED_LOCKS_REQUIRED(mu_)`) may be called only with it held, and one
// declared `ABSL_LOCKS_EXCLUDED(mu_)` only without it. Take them with the
// scoped guards below, or with Lock()/Unlock() in the same function; the
// analysis checks each function on its own, so a lock taken in one function
// and released in another is invisible to it.
//
//   MutexLock l(mu_);          // Mutex, held until the end of the scope
//   AdaptiveMutexLock l(mu_);  // AdaptiveMutex
//   WriterLock l(rw_);         // RwLock, exclusive
//   ReaderLock l(rw_);         // RwLock, shared
//
// The lower-case lock()/unlock() (and try_lock(), lock_shared(),
// unlock_shared()) make them usable with std::lock_guard, std::unique_lock,
// std::shared_lock and std::scoped_lock too, but the analysis does not see
// through those: code that has them compiles, unchecked.
//
// Thread-safety: thread-safe (they are locks).
#ifndef REVKV_UTIL_MUTEX_H_
#define REVKV_UTIL_MUTEX_H_

#include <pthread.h>

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "absl/base/thread_annotations.h"

namespace revkv::util {

class CondVar;

// std::mutex as a capability.
class ABSL_LOCKABLE Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  void Unlock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }
  // True if it took the lock.
  bool TryLock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) { return mu_.try_lock(); }

  // Tells the analysis the calling thread holds the lock, where the analysis
  // cannot see it taken: a lock held across calls of an unannotated API
  // (BatchTx::Lock ... Unlock). Not checked at run time: std::mutex cannot
  // tell who holds it.
  void AssumeHeld() const ABSL_ASSERT_EXCLUSIVE_LOCK() {}

  // The standard's Lockable names (std::unique_lock etc.; unchecked there).
  void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  void unlock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }
  bool try_lock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) { return mu_.try_lock(); }

 private:
  friend class CondVar;
  std::mutex mu_;
};

// A mutex that spins briefly before it sleeps, for locks held for a few
// hundred nanoseconds by many threads (a reader taking a view, the writer
// publishing a write). A plain mutex puts the loser of every such race to
// sleep on a futex, and the sleep and wake-up cost microseconds; a short spin
// usually outlasts the holder instead.
//
// glibc's PTHREAD_MUTEX_ADAPTIVE_NP kind: one atomic operation when free,
// then a bounded spin (tuned by glibc to the lock's history), then a futex.
// Not for a condition variable.
class ABSL_LOCKABLE AdaptiveMutex {
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

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { pthread_mutex_lock(&mu_); }
  void Unlock() ABSL_UNLOCK_FUNCTION() { pthread_mutex_unlock(&mu_); }
  bool TryLock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) { return pthread_mutex_trylock(&mu_) == 0; }

  void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { pthread_mutex_lock(&mu_); }
  void unlock() ABSL_UNLOCK_FUNCTION() { pthread_mutex_unlock(&mu_); }
  bool try_lock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) { return pthread_mutex_trylock(&mu_) == 0; }

 private:
  pthread_mutex_t mu_;
};

// A reader-writer lock that prefers writers, so that a stream of readers
// (long ranges) cannot starve a writer. (mvcc/rw_lock.h's, annotated: mvcc
// keeps its unannotated copy until its locks move to these types.)
//
// glibc's rwlock in its "prefer writer, non-recursive" kind: readers and
// writers take it with one atomic operation when it is free and park on a
// futex otherwise. A reader must not take it recursively: a waiting writer
// would deadlock it.
class ABSL_LOCKABLE RwLock {
 public:
  RwLock() {
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&lock_, &attr);
    pthread_rwlockattr_destroy(&attr);
  }
  ~RwLock() { pthread_rwlock_destroy(&lock_); }
  RwLock(const RwLock&) = delete;
  RwLock& operator=(const RwLock&) = delete;

  // Exclusive (a writer).
  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { pthread_rwlock_wrlock(&lock_); }
  void Unlock() ABSL_UNLOCK_FUNCTION() { pthread_rwlock_unlock(&lock_); }
  // Tells the analysis the calling thread holds the lock exclusively, where
  // it cannot see it taken (a callback run under it). Not checked at run
  // time.
  void AssumeHeld() const ABSL_ASSERT_EXCLUSIVE_LOCK() {}

  // Shared (a reader).
  void ReaderLock() ABSL_SHARED_LOCK_FUNCTION() { pthread_rwlock_rdlock(&lock_); }
  void ReaderUnlock() ABSL_UNLOCK_FUNCTION() { pthread_rwlock_unlock(&lock_); }

  // Without waiting: true when taken.
  bool TryLock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) {
    return pthread_rwlock_trywrlock(&lock_) == 0;
  }
  bool ReaderTryLock() ABSL_SHARED_TRYLOCK_FUNCTION(true) {
    return pthread_rwlock_tryrdlock(&lock_) == 0;
  }

  void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { pthread_rwlock_wrlock(&lock_); }
  void unlock() ABSL_UNLOCK_FUNCTION() { pthread_rwlock_unlock(&lock_); }
  void lock_shared() ABSL_SHARED_LOCK_FUNCTION() { pthread_rwlock_rdlock(&lock_); }
  void unlock_shared() ABSL_UNLOCK_FUNCTION() { pthread_rwlock_unlock(&lock_); }

 private:
  pthread_rwlock_t lock_;
};

// RwLock (the same glibc writer-preferring lock) taken by spinning on its
// try-lock a bounded number of times before parking on it, for a lock both
// sides hold for well under a microsecond: a waiter then usually gets it
// without the two context switches of a futex hand-off. Once the spin is
// spent the waiter parks as on RwLock, a writer then keeping new readers
// out, so a stream of readers cannot starve it (mutex_test checks it).
class ABSL_LOCKABLE SpinningRwLock {
 public:
  SpinningRwLock() = default;
  SpinningRwLock(const SpinningRwLock&) = delete;
  SpinningRwLock& operator=(const SpinningRwLock&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
    for (int i = 0; i < kSpins; ++i) {
      if (lock_.TryLock()) return;
      Relax();
    }
    lock_.Lock();
  }
  void Unlock() ABSL_UNLOCK_FUNCTION() { lock_.Unlock(); }
  void AssumeHeld() const ABSL_ASSERT_EXCLUSIVE_LOCK() {}
  void ReaderLock() ABSL_SHARED_LOCK_FUNCTION() {
    for (int i = 0; i < kSpins; ++i) {
      if (lock_.ReaderTryLock()) return;
      Relax();
    }
    lock_.ReaderLock();
  }
  void ReaderUnlock() ABSL_UNLOCK_FUNCTION() { lock_.ReaderUnlock(); }

  void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { Lock(); }
  void unlock() ABSL_UNLOCK_FUNCTION() { Unlock(); }
  void lock_shared() ABSL_SHARED_LOCK_FUNCTION() { ReaderLock(); }
  void unlock_shared() ABSL_UNLOCK_FUNCTION() { ReaderUnlock(); }

 private:
  // About as long as the sections this lock guards.
  static constexpr int kSpins = 64;
  static void Relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
  RwLock lock_;
};

// Holds `mu` exclusively from construction to the end of the scope.
// ABSL_SCOPED_LOCKABLE: the analysis treats the guard's lifetime as the
// lock's. Constructed with std::adopt_lock it takes over a lock the caller
// already holds (after a TryLock, say) and only releases it.
template <typename M>
class ABSL_SCOPED_LOCKABLE ScopedLock {
 public:
  explicit ScopedLock(M& mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) { mu_.Lock(); }
  ScopedLock(M& mu, std::adopt_lock_t) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) : mu_(mu) {}
  ~ScopedLock() ABSL_UNLOCK_FUNCTION() { mu_.Unlock(); }
  ScopedLock(const ScopedLock&) = delete;
  ScopedLock& operator=(const ScopedLock&) = delete;

 private:
  M& mu_;
};

// Holds `mu` shared (a reader) to the end of the scope.
template <typename M>
class ABSL_SCOPED_LOCKABLE ScopedSharedLock {
 public:
  explicit ScopedSharedLock(M& mu) ABSL_SHARED_LOCK_FUNCTION(mu) : mu_(mu) { mu_.ReaderLock(); }
  ~ScopedSharedLock() ABSL_UNLOCK_FUNCTION() { mu_.ReaderUnlock(); }
  ScopedSharedLock(const ScopedSharedLock&) = delete;
  ScopedSharedLock& operator=(const ScopedSharedLock&) = delete;

 private:
  M& mu_;
};

using MutexLock = ScopedLock<Mutex>;
using AdaptiveMutexLock = ScopedLock<AdaptiveMutex>;
using WriterLock = ScopedLock<RwLock>;
using ReaderLock = ScopedSharedLock<RwLock>;

// std::condition_variable for a Mutex, at its cost: a wait hands the Mutex's
// std::mutex to the condition variable as std::unique_lock would. Waits take
// no predicate, so that the analysis sees the condition read under the lock:
//
//   MutexLock l(mu_);
//   while (!ready_) cv_.Wait(mu_);
//
// As with std::condition_variable, a wait may wake spuriously.
class CondVar {
 public:
  CondVar() = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  // Releases mu, waits for a notification, takes mu again.
  void Wait(Mutex& mu) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    std::unique_lock<std::mutex> l(mu.mu_, std::adopt_lock);
    cv_.wait(l);
    l.release();  // mu stays held: its holder releases it
  }
  // Wait, or until `deadline`: std::cv_status::timeout if that came first.
  template <typename Clock, typename Duration>
  std::cv_status WaitUntil(Mutex& mu, const std::chrono::time_point<Clock, Duration>& deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    std::unique_lock<std::mutex> l(mu.mu_, std::adopt_lock);
    const std::cv_status status = cv_.wait_until(l, deadline);
    l.release();
    return status;
  }

  void NotifyOne() { cv_.notify_one(); }
  void NotifyAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace revkv::util

#endif  // REVKV_UTIL_MUTEX_H_
