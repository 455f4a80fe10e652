// AppliedIndex: the index of the last entry this member's Fsm applied, as
// the raft thread advances it (Fsm::set_on_applied), and waits for it to
// reach an index -- how a member answers a forwarded write or a
// linearizable read only once its own DB holds what it must.
//
// Thread-safety: thread-safe. mu_ is a leaf.
#ifndef REVKV_RAFT_APPLIED_INDEX_H_
#define REVKV_RAFT_APPLIED_INDEX_H_

#include <chrono>
#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "util/mutex.h"

namespace revkv::cluster {

class AppliedIndex {
 public:
  explicit AppliedIndex(uint64_t start) : index_(start) {}

  // Raises the index to `index` (never lowers it) and wakes the waiters.
  void Advance(uint64_t index) ABSL_LOCKS_EXCLUDED(mu_) {
    util::MutexLock l(mu_);
    if (index > index_) index_ = index;
    changed_.NotifyAll();
  }
  uint64_t get() const ABSL_LOCKS_EXCLUDED(mu_) {
    util::MutexLock l(mu_);
    return index_;
  }
  // True once the index is at least `index`; false at `deadline` or once
  // closed below it.
  bool WaitAtLeast(uint64_t index, std::chrono::steady_clock::time_point deadline)
      ABSL_LOCKS_EXCLUDED(mu_) {
    util::MutexLock l(mu_);
    while (index_ < index && !closed_) {
      if (changed_.WaitUntil(mu_, deadline) == std::cv_status::timeout) break;
    }
    return index_ >= index;
  }
  // Ends every wait (the member is stopping).
  void Close() ABSL_LOCKS_EXCLUDED(mu_) {
    util::MutexLock l(mu_);
    closed_ = true;
    changed_.NotifyAll();
  }

 private:
  mutable util::Mutex mu_;
  util::CondVar changed_;
  uint64_t index_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace revkv::cluster

#endif  // REVKV_RAFT_APPLIED_INDEX_H_
