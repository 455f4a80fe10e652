// AppliedIndex: the index of the last entry this member's Fsm applied, as
// the raft thread advances it (Fsm::set_on_applied), and waits for it to
// reach an index -- how a member answers a forwarded write or a
// linearizable read only once its own DB holds what it must. A wait either
// blocks (WaitAtLeast) or registers a callback (WhenAtLeast), so an
// asynchronous caller holds no thread while it waits.
//
// Thread-safety: thread-safe. mu_ is a leaf: callbacks run after it is
// released, on the thread that advanced or closed the index (the raft
// loop), or on the registering thread when the index is already there.
#ifndef REVKV_RAFT_APPLIED_INDEX_H_
#define REVKV_RAFT_APPLIED_INDEX_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/base/thread_annotations.h"
#include "util/mutex.h"

namespace revkv::cluster {

class AppliedIndex {
 public:
  explicit AppliedIndex(uint64_t start) : index_(start) {}

  // Called once with true when the index reaches the one waited for, with
  // false when the index is closed below it. Must not block.
  using Reached = absl::AnyInvocable<void(bool) &&>;

  // Raises the index to `index` (never lowers it), wakes the waiters and
  // calls the callbacks it reached.
  void Advance(uint64_t index) ABSL_LOCKS_EXCLUDED(mu_) {
    std::vector<Reached> reached;
    {
      util::MutexLock l(mu_);
      if (index > index_) index_ = index;
      changed_.NotifyAll();
      auto end = callbacks_.upper_bound(index_);
      for (auto it = callbacks_.begin(); it != end; ++it) reached.push_back(std::move(it->second));
      callbacks_.erase(callbacks_.begin(), end);
    }
    for (Reached& r : reached) std::move(r)(true);
  }
  // Calls `reached(true)` once the index is at least `index` (at once if
  // it is), `reached(false)` if it is closed below it first.
  void WhenAtLeast(uint64_t index, Reached reached) ABSL_LOCKS_EXCLUDED(mu_) {
    bool now;
    {
      util::MutexLock l(mu_);
      now = index_ >= index || closed_;
      if (!now) {
        callbacks_.emplace(index, std::move(reached));
        return;
      }
      now = index_ >= index;
    }
    std::move(reached)(now);
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
  // Ends every wait (the member is stopping); callbacks get false.
  void Close() ABSL_LOCKS_EXCLUDED(mu_) {
    std::multimap<uint64_t, Reached> left;
    {
      util::MutexLock l(mu_);
      closed_ = true;
      changed_.NotifyAll();
      left.swap(callbacks_);
    }
    for (auto& [index, r] : left) std::move(r)(false);
  }

 private:
  mutable util::Mutex mu_;
  util::CondVar changed_;
  uint64_t index_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  std::multimap<uint64_t, Reached> callbacks_ ABSL_GUARDED_BY(mu_);
};

}  // namespace revkv::cluster

#endif  // REVKV_RAFT_APPLIED_INDEX_H_
