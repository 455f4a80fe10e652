// RwLock: a reader-writer lock that prefers writers, so that a stream of
// readers (long ranges) cannot starve Put; for std::shared_lock/unique_lock.
//
// glibc's rwlock in its "prefer writer, non-recursive" kind: readers and
// writers take it with one atomic operation when it is free and park on a
// futex otherwise. (The previous mutex + condition variable version took a
// mutex twice and signalled on every reader unlock.) A reader must not take
// it recursively: a waiting writer would deadlock it.
//
// Thread-safety: thread-safe.
#ifndef REVKV_MVCC_RW_LOCK_H_
#define REVKV_MVCC_RW_LOCK_H_

#include <pthread.h>

namespace revkv::mvcc {

class RwLock {
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

  void lock() { pthread_rwlock_wrlock(&lock_); }
  void unlock() { pthread_rwlock_unlock(&lock_); }
  void lock_shared() { pthread_rwlock_rdlock(&lock_); }
  void unlock_shared() { pthread_rwlock_unlock(&lock_); }

 private:
  pthread_rwlock_t lock_;
};

}  // namespace revkv::mvcc

#endif  // REVKV_MVCC_RW_LOCK_H_
