#include "mvcc/watcher_group.h"

namespace revkv::mvcc {

void WatcherGroup::Add(Watcher* w) {
  size_++;
  if (!w->IsPoint()) {
    w->range_slot = ranges_.size();
    ranges_.push_back(w);
    return;
  }
  w->prev_same_key = nullptr;
  auto [it, inserted] = points_.try_emplace(std::string_view(w->key), w);
  if (inserted) {
    w->next_same_key = nullptr;
    return;
  }
  // Second in the chain: the head (whose key the map views) stays.
  Watcher* head = it->second;
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
    // The head: the map's key views its string, so re-key to the next one.
    auto it = points_.find(std::string_view(w->key));
    Watcher* next = w->next_same_key;
    points_.erase(it);
    if (next != nullptr) {
      next->prev_same_key = nullptr;
      points_.emplace(std::string_view(next->key), next);
    }
  }
  w->prev_same_key = w->next_same_key = nullptr;
}

}  // namespace revkv::mvcc
