#include "btree/freelist.h"

#include <algorithm>

namespace revkv::btree {

void Freelist::Erase(pgid_t start, uint64_t n) {
  by_size_.erase({n, start});
  by_start_.erase(start);
  free_pages_ -= n;
}

void Freelist::Insert(pgid_t start, uint64_t n) {
  if (n == 0) return;
  // Look both neighbours up before erasing: a btree erase invalidates
  // every iterator.
  auto next = by_start_.lower_bound(start);
  uint64_t next_count = 0;
  if (next != by_start_.end() && next->first == start + n) next_count = next->second;
  pgid_t prev_start = 0;
  uint64_t prev_count = 0;
  if (next != by_start_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second == start) {
      prev_start = prev->first;
      prev_count = prev->second;
    }
  }
  if (next_count > 0) Erase(start + n, next_count);
  if (prev_count > 0) {
    Erase(prev_start, prev_count);
    start = prev_start;
  }
  n += prev_count + next_count;
  by_start_.emplace(start, n);
  by_size_.emplace(n, start);
  free_pages_ += n;
}

pgid_t Freelist::Allocate(uint64_t n) {
  if (n == 0) return 0;
  auto best = by_size_.lower_bound({n, 0});
  if (best == by_size_.end()) return 0;
  pgid_t start = best->second;
  uint64_t count = best->first;
  Erase(start, count);
  if (count > n) {
    by_start_.emplace(start + n, count - n);
    by_size_.emplace(count - n, start + n);
    free_pages_ += count - n;
  }
  return start;
}

void Freelist::Free(txid_t txid, pgid_t start, uint64_t n) {
  if (n == 0) return;
  pending_[txid].push_back({start, n});
}

void Freelist::Release(txid_t txid) {
  auto end = pending_.upper_bound(txid);
  for (auto it = pending_.begin(); it != end; ++it) {
    for (const FreeExtent& e : it->second) Insert(e.start, e.count);
  }
  pending_.erase(pending_.begin(), end);
}

void Freelist::DropPending(txid_t txid) { pending_.erase(txid); }

void Freelist::AddFree(pgid_t start, uint64_t n) { Insert(start, n); }

std::vector<FreeExtent> Freelist::Persisted() const {
  std::vector<FreeExtent> out;
  out.reserve(persisted_bound());
  ForEachPersisted([&out](pgid_t start, uint64_t count) { out.push_back({start, count}); });
  return out;
}

size_t Freelist::persisted_bound() const {
  size_t n = by_start_.size();
  for (const auto& [txid, extents] : pending_) n += extents.size();
  return n;
}

void Freelist::Reset(const std::vector<FreeExtent>& extents) {
  by_start_.clear();
  by_size_.clear();
  pending_.clear();
  free_pages_ = 0;
  for (const FreeExtent& e : extents) Insert(e.start, e.count);
}

uint64_t Freelist::pending_count() const {
  uint64_t n = 0;
  for (const auto& [txid, extents] : pending_) {
    for (const FreeExtent& e : extents) n += e.count;
  }
  return n;
}

bool Freelist::Contains(pgid_t id) const {
  auto it = by_start_.upper_bound(id);
  if (it != by_start_.begin()) {
    --it;
    if (id < it->first + it->second) return true;
  }
  for (const auto& [txid, extents] : pending_) {
    for (const FreeExtent& e : extents) {
      if (id >= e.start && id < e.start + e.count) return true;
    }
  }
  return false;
}

}  // namespace revkv::btree
