#include "mvcc/watcher_group.h"

#include <xxhash.h>

namespace revkv::mvcc {

uint64_t WatcherGroup::DefaultKeyHash(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }

void WatcherGroup::Add(Watcher* w) {
  size_++;
  if (!w->IsPoint()) {
    w->range_slot = ranges_.size();
    ranges_.push_back(w);
    return;
  }
  w->prev_same_key = nullptr;
  Watcher** slot = points_.FindOrInsert(hash_(w->key));
  if (*slot == nullptr) {
    *slot = w;
    w->next_same_key = nullptr;
    return;
  }
  // Second in the chain: the head stays.
  Watcher* head = *slot;
  w->next_same_key = head->next_same_key;
  if (w->next_same_key != nullptr) w->next_same_key->prev_same_key = w;
  w->prev_same_key = head;
  head->next_same_key = w;
}

void WatcherGroup::Remove(Watcher* w) {
  size_--;
  if (!w->IsPoint()) {
    Watcher* last = ranges_.back();
    ranges_[w->range_slot] = last;
    last->range_slot = w->range_slot;
    ranges_.pop_back();
    return;
  }
  if (w->prev_same_key != nullptr) {
    w->prev_same_key->next_same_key = w->next_same_key;
    if (w->next_same_key != nullptr) w->next_same_key->prev_same_key = w->prev_same_key;
  } else {
    const uint64_t h = hash_(w->key);
    Watcher* next = w->next_same_key;
    if (next != nullptr) {
      next->prev_same_key = nullptr;
      *points_.FindOrInsert(h) = next;
    } else {
      points_.Erase(h);
    }
  }
  w->prev_same_key = w->next_same_key = nullptr;
}

}  // namespace revkv::mvcc
