#include "btree/freelist.h"

#include <algorithm>

namespace revkv::btree {

void Freelist::Erase(std::map<pgid_t, uint64_t>::iterator it) {
  by_size_.erase({it->second, it->first});
  free_pages_ -= it->second;
  by_start_.erase(it);
}

void Freelist::Insert(pgid_t start, uint64_t n) {
  if (n == 0) return;
  auto next = by_start_.lower_bound(start);
  if (next != by_start_.end() && next->first == start + n) {
    n += next->second;
    auto dead = next++;
    Erase(dead);
  }
  if (next != by_start_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second == start) {
      start = prev->first;
      n += prev->second;
      Erase(prev);
    }
  }
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
  Erase(by_start_.find(start));
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
  std::vector<FreeExtent> all;
  all.reserve(by_start_.size());
  for (const auto& [start, n] : by_start_) all.push_back({start, n});
  for (const auto& [txid, extents] : pending_) {
    all.insert(all.end(), extents.begin(), extents.end());
  }
  std::sort(all.begin(), all.end(),
            [](const FreeExtent& a, const FreeExtent& b) { return a.start < b.start; });
  std::vector<FreeExtent> out;
  for (const FreeExtent& e : all) {
    if (!out.empty() && out.back().start + out.back().count == e.start) {
      out.back().count += e.count;
    } else {
      out.push_back(e);
    }
  }
  return out;
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
