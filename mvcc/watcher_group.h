// Watcher and WatcherGroup: the watchable store's record of one watch and
// its index of watchers by key (etcd's watcher and watcherGroup). Internal
// to watchable_store.cc and watch_stream.cc.
//
// Thread-safety: not thread-safe; the watchable store guards both with its
// mutex.
#ifndef REVKV_MVCC_WATCHER_GROUP_H_
#define REVKV_MVCC_WATCHER_GROUP_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "mvcc/event.h"

namespace revkv::mvcc {

class WatchStream;

struct Watcher {
  enum class State : uint8_t { kSynced, kUnsynced, kVictim };

  // Whether the watch covers `key`: the key itself (end empty), [key, end),
  // or every key >= key (unbounded).
  bool Covers(std::string_view k) const {
    if (end.empty() && !unbounded) return k == key;
    return k >= std::string_view(key) && (unbounded || k < std::string_view(end));
  }
  bool Wants(const Event& e) const {
    if (!Covers(e.kv.key)) return false;
    return e.type == Event::Type::kPut ? !no_put : !no_delete;
  }
  bool IsPoint() const { return end.empty() && !unbounded; }

  std::string key;
  std::string end;  // empty for a point watch and an unbounded one
  WatchStream* stream = nullptr;
  uint64_t uid = 0;  // unique in the watchable store, never reused
  WatchId id = 0;
  // The next revision whose events it is owed.
  int64_t min_rev = 0;
  State state = State::kUnsynced;
  bool unbounded = false;
  bool no_put = false;
  bool no_delete = false;
  bool prev_kv = false;
  // The other point watchers of the same key (WatcherGroup's chain).
  Watcher* prev_same_key = nullptr;
  Watcher* next_same_key = nullptr;
  size_t range_slot = 0;  // index in WatcherGroup::ranges_
};

// A set of watchers indexed for "who watches this key": point watchers by
// key (a hash map to a chain), range watchers in a list scanned per key
// (etcd uses an interval tree; a shared prefix is the common range, and all
// its watchers match anyway).
class WatcherGroup {
 public:
  void Add(Watcher* w);
  void Remove(Watcher* w);
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // Calls fn(Watcher*) for every watcher covering key, once each; fn may
  // remove that watcher (only that one) from the group.
  template <typename Fn>
  void ForEachCovering(std::string_view key, Fn&& fn) const {
    if (auto it = points_.find(key); it != points_.end()) {
      for (Watcher* w = it->second; w != nullptr;) {
        Watcher* next = w->next_same_key;  // fn may move w elsewhere
        fn(w);
        w = next;
      }
    }
    // Backwards: fn may remove the watcher, which moves the last one into
    // its slot, one already visited.
    for (size_t i = ranges_.size(); i-- > 0;) {
      if (ranges_[i]->Covers(key)) fn(ranges_[i]);
    }
  }

  size_t ranges() const { return ranges_.size(); }
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (const auto& [k, head] : points_) {
      for (Watcher* w = head; w != nullptr; w = w->next_same_key) fn(w);
    }
    for (Watcher* w : ranges_) fn(w);
  }

 private:
  // Keys view the head watcher's key: a watcher outlives its membership.
  absl::flat_hash_map<std::string_view, Watcher*> points_;
  std::vector<Watcher*> ranges_;
  size_t size_ = 0;
};

}  // namespace revkv::mvcc

#endif  // REVKV_MVCC_WATCHER_GROUP_H_
