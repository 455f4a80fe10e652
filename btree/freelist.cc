#include "btree/freelist.h"

#include <algorithm>
#include <string>
#include <vector>

namespace revkv::btree {

void Freelist::Touch(pgid_t start) {
  const size_t g = size_t(start / group_pages_);
  if (g < groups_.size()) groups_[g].stale = true;  // groups beyond are new
}

void Freelist::Erase(pgid_t start, uint64_t n) {
  by_size_.erase({n, start});
  by_start_.erase(start);
  free_pages_ -= n;
  Touch(start);
}

void Freelist::Emplace(pgid_t start, uint64_t n) {
  by_start_.emplace(start, n);
  by_size_.emplace(n, start);
  free_pages_ += n;
  Touch(start);
}

void Freelist::Insert(pgid_t start, uint64_t n) {
  if (n == 0) return;
  Touch(start);  // a pending extent here may merge into one in another range
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
  Emplace(start, n);
}

pgid_t Freelist::Allocate(uint64_t n) {
  if (n == 0) return 0;
  auto best = by_size_.lower_bound({n, 0});
  if (best == by_size_.end()) return 0;
  pgid_t start = best->second;
  uint64_t count = best->first;
  Erase(start, count);
  if (count > n) Emplace(start + n, count - n);
  return start;
}

void Freelist::Free(txid_t txid, pgid_t start, uint64_t n) {
  if (n == 0) return;
  pending_[txid].push_back({start, n});
  Touch(start);
}

void Freelist::Release(txid_t txid) {
  auto end = pending_.upper_bound(txid);
  for (auto it = pending_.begin(); it != end; ++it) {
    for (const FreeExtent& e : it->second) Insert(e.start, e.count);
  }
  pending_.erase(pending_.begin(), end);
}

void Freelist::DropPending(txid_t txid) {
  auto it = pending_.find(txid);
  if (it == pending_.end()) return;
  for (const FreeExtent& e : it->second) Touch(e.start);
  pending_.erase(it);
}

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
  groups_.clear();
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

namespace {

char* PutVarint(char* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = char(v | 0x80);
    v >>= 7;
  }
  *p++ = char(v);
  return p;
}

}  // namespace

void Freelist::EncodeGroup(size_t g, const std::vector<FreeExtent>& pending,
                           Group* out) const {
  const pgid_t lo = pgid_t(g) * group_pages_, hi = lo + group_pages_;
  // Free and pending extents that start in [lo, hi), merged in order and
  // coalesced where they touch (as ForEachPersisted does).
  auto it = by_start_.lower_bound(lo);
  auto pit = std::lower_bound(pending.begin(), pending.end(), lo,
                              [](const FreeExtent& e, pgid_t id) { return e.start < id; });
  out->tail.clear();
  out->count = 0;
  char buf[20];
  bool have = false;
  FreeExtent run{};
  auto flush = [&] {
    if (out->count == 0) {
      out->first_start = run.start;
      out->tail.append(buf, size_t(PutVarint(buf, run.count) - buf));
    } else {
      char* p = PutVarint(buf, run.start - out->last_end);
      p = PutVarint(p, run.count);
      out->tail.append(buf, size_t(p - buf));
    }
    out->last_end = run.start + run.count;
    ++out->count;
  };
  while (true) {
    const bool free_left = it != by_start_.end() && it->first < hi;
    const bool pending_left = pit != pending.end() && pit->start < hi;
    if (!free_left && !pending_left) break;
    FreeExtent e;
    if (free_left && (!pending_left || it->first < pit->start)) {
      e = {it->first, it->second};
      ++it;
    } else {
      e = *pit++;
    }
    if (have && run.start + run.count == e.start) {
      run.count += e.count;
      continue;
    }
    if (have) flush();
    run = e;
    have = true;
  }
  if (have) flush();
  out->stale = false;
}

uint32_t Freelist::EncodePersisted(std::string* out) {
  std::vector<FreeExtent> pending;
  for (const auto& [txid, extents] : pending_) {
    pending.insert(pending.end(), extents.begin(), extents.end());
  }
  std::sort(pending.begin(), pending.end(),
            [](const FreeExtent& a, const FreeExtent& b) { return a.start < b.start; });
  pgid_t top = 0;
  if (!by_start_.empty()) top = std::prev(by_start_.end())->first;
  if (!pending.empty()) top = std::max(top, pending.back().start);
  const size_t groups = size_t(top / group_pages_) + 1;
  if (groups_.size() < groups) groups_.resize(groups);  // new groups are stale
  out->clear();
  uint32_t count = 0;
  pgid_t prev_end = 0;
  char buf[10];
  for (size_t g = 0; g < groups_.size(); ++g) {
    Group& group = groups_[g];
    if (group.stale) EncodeGroup(g, pending, &group);
    if (group.count == 0) continue;
    out->append(buf, size_t(PutVarint(buf, group.first_start - prev_end) - buf));
    out->append(group.tail);
    prev_end = group.last_end;
    count += group.count;
  }
  return count;
}

}  // namespace revkv::btree
