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

#include "mvcc/compact_key.h"
#include "mvcc/event.h"
#include "mvcc/point_table.h"

namespace revkv::mvcc {

class WatchStream;

struct Watcher {
  enum class State : uint8_t { kSynced, kUnsynced, kVictim };

  // Whether the watch covers `key`: the key itself (end empty), [key, end),
  // or every key >= key (unbounded).
  bool Covers(std::string_view k) const {
    if (end.empty() && !unbounded) return k == std::string_view(key);
    return k >= std::string_view(key) && (unbounded || k < std::string_view(end));
  }
  bool Wants(const Event& e) const {
    if (!Covers(e.kv.key)) return false;
    return e.type == Event::Type::kPut ? !no_put : !no_delete;
  }
  bool IsPoint() const { return end.empty() && !unbounded; }

  // The fields a publication reads first, in the first cache line.
  CompactKey key{std::string_view()};
  WatchStream* stream = nullptr;
  WatchId id = 0;
  // The next revision whose events it is owed.
  int64_t min_rev = 0;
  // The other point watchers of the same key hash (WatcherGroup's chain).
  Watcher* next_same_key = nullptr;
  State state = State::kUnsynced;
  bool unbounded = false;
  bool no_put = false;
  bool no_delete = false;
  bool prev_kv = false;
  std::string end;  // empty for a point watch and an unbounded one
  uint64_t uid = 0;  // unique in the watchable store, never reused
  Watcher* prev_same_key = nullptr;
  size_t range_slot = 0;  // index in WatcherGroup::ranges_
};

// A set of watchers indexed for "who watches this key": point watchers by
// a hash of their key (a table to a chain), range watchers in a list scanned per key
// (etcd uses an interval tree; a shared prefix is the common range, and all
// its watchers match anyway).
class WatcherGroup {
 public:
  using KeyHashFn = uint64_t (*)(std::string_view key);
  // XXH3-64 of the key.
  static uint64_t DefaultKeyHash(std::string_view key);
  // `hash` other than the default: for tests, to make keys collide.
  explicit WatcherGroup(KeyHashFn hash = &DefaultKeyHash) : hash_(hash) {}

  void Add(Watcher* w);
  void Remove(Watcher* w);
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // Calls fn(Watcher*) for every watcher covering key, once each; fn may
  // remove that watcher (only that one) from the group.
  template <typename Fn>
  void ForEachCovering(std::string_view key, Fn&& fn) const {
    if (Watcher* head = points_.Find(hash_(key)); head != nullptr) {
      for (Watcher* w = head; w != nullptr;) {
        Watcher* next = w->next_same_key;  // fn may move w elsewhere
        if (std::string_view(w->key) == key) fn(w);
        w = next;
      }
    }
    // Backwards: fn may remove the watcher, which moves the last one into
    // its slot, one already visited.
    for (size_t i = ranges_.size(); i-- > 0;) {
      if (ranges_[i]->Covers(key)) fn(ranges_[i]);
    }
  }

  // For a writer's prefetch hints (WatchableStore::WillWrite and Wrote):
  // where a lookup of key's point watchers begins, and the first watcher it
  // finds (null if none). Either may be stale once the caller lets go of the
  // group's lock, which a prefetch tolerates.
  const void* SlotAddress(std::string_view key) const { return points_.SlotAddress(hash_(key)); }
  const void* FirstPointWatcher(std::string_view key) const { return points_.Find(hash_(key)); }

  size_t ranges() const { return ranges_.size(); }
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    points_.ForEach([&](Watcher* head) {
      for (Watcher* w = head; w != nullptr; w = w->next_same_key) fn(w);
    });
    for (Watcher* w : ranges_) fn(w);
  }

 private:
  // Point watchers by a 64-bit hash of their key: the probe compares
  // integers in the slot, so a hinted slot is all a lookup touches. Keys
  // that share a hash share a chain; ForEachCovering compares keys.
  PointTable<Watcher> points_;
  KeyHashFn hash_;
  std::vector<Watcher*> ranges_;
  size_t size_ = 0;
};

}  // namespace revkv::mvcc

#endif  // REVKV_MVCC_WATCHER_GROUP_H_
