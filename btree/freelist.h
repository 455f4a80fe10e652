// Freelist: the allocator of pages, as free extents plus pages freed by recent
// commits that older readers may still see ("pending").
//
// Allocation is best-fit over extents indexed by size, so a large value never
// scans the list (bbolt#141, LMDB's long freelist loops). The list is persisted
// as extents at each commit, so open reads it back without scanning pages.
//
// Thread-safety: not thread-safe; owned by the single writer.
#ifndef REVKV_BTREE_FREELIST_H_
#define REVKV_BTREE_FREELIST_H_

#include <algorithm>
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "btree/page.h"

namespace revkv::btree {

class Freelist {
 public:
  // `group_pages`: the range of page ids whose encoding EncodePersisted
  // caches as one (tests make it small to put many extents on boundaries).
  explicit Freelist(pgid_t group_pages = kGroupPages) : group_pages_(group_pages) {}

  // Takes `n` contiguous free pages; returns 0 when no extent is large enough.
  pgid_t Allocate(uint64_t n);
  // Records pages freed by write transaction `txid`; they become free once no
  // reader older than `txid` is left (see Release).
  void Free(txid_t txid, pgid_t start, uint64_t n);
  // Makes free every pending extent freed by a transaction <= `txid`.
  void Release(txid_t txid);
  // Forgets pending pages of `txid` (its commit did not happen).
  void DropPending(txid_t txid);
  // Returns pages to the free set directly (rollback of an allocation).
  void AddFree(pgid_t start, uint64_t n);

  // Every free and pending extent, coalesced and sorted: what is persisted.
  std::vector<FreeExtent> Persisted() const;
  // The same, streamed: calls fn(start, count) for each, in order, without
  // building the vector (this runs over the whole list at every commit).
  template <typename Fn>
  void ForEachPersisted(Fn fn) const;
  // The persisted extents in the freelist span's encoding (see
  // EncodeFreeExtents) into *out; returns the extent count. Extents that
  // touch across a boundary of kGroupPages stay two extents.
  //
  // Every commit persists the whole list, but a small commit changes only a
  // few extents: the encoding is cached per range of kGroupPages page ids
  // and only ranges whose extents changed since the last call are encoded
  // again, so a small commit on a fragmented file encodes little.
  uint32_t EncodePersisted(std::string* out);
  static constexpr pgid_t kGroupPages = 512;
  // Replaces the state with `extents` as free (pending is empty after open).
  void Reset(const std::vector<FreeExtent>& extents);

  uint64_t free_count() const { return free_pages_; }
  uint64_t pending_count() const;
  size_t extent_count() const { return by_start_.size(); }
  // Whether page `id` is free or pending (for Check).
  bool Contains(pgid_t id) const;

 private:
  // An upper bound of the number of extents ForEachPersisted visits.
  size_t persisted_bound() const;
  void Insert(pgid_t start, uint64_t n);  // coalesces with neighbours
  void Erase(pgid_t start, uint64_t n);
  void Emplace(pgid_t start, uint64_t n);  // no coalescing
  // Marks the cached encoding of the range holding page `start` stale.
  void Touch(pgid_t start);

  // The cached encoding of the extents that start in one range of page ids:
  // all but the first extent's gap, which depends on the range before.
  struct Group {
    std::string tail;  // first length, then (gap, length) of the others
    pgid_t first_start = 0;
    pgid_t last_end = 0;
    uint32_t count = 0;
    bool stale = true;
  };
  void EncodeGroup(size_t g, const std::vector<FreeExtent>& pending, Group* out) const;
  const pgid_t group_pages_;
  std::vector<Group> groups_;

  // B-trees, not red-black trees: Persisted walks every extent at each
  // commit, and a B-tree's walk is cache-friendly.
  absl::btree_map<pgid_t, uint64_t> by_start_;            // start -> count
  absl::btree_set<std::pair<uint64_t, pgid_t>> by_size_;  // (count, start)
  uint64_t free_pages_ = 0;
  std::map<txid_t, std::vector<FreeExtent>> pending_;
};

template <typename Fn>
void Freelist::ForEachPersisted(Fn fn) const {
  // The free extents are sorted and disjoint; only the few pending ones need
  // sorting, then one merge pass coalesces both.
  std::vector<FreeExtent> pending;
  for (const auto& [txid, extents] : pending_) {
    pending.insert(pending.end(), extents.begin(), extents.end());
  }
  std::sort(pending.begin(), pending.end(),
            [](const FreeExtent& a, const FreeExtent& b) { return a.start < b.start; });
  bool have = false;
  FreeExtent run{};
  auto add = [&](pgid_t start, uint64_t count) {
    if (have && run.start + run.count == start) {
      run.count += count;
      return;
    }
    if (have) fn(run.start, run.count);
    run = {start, count};
    have = true;
  };
  auto it = by_start_.begin();
  size_t i = 0;
  while (it != by_start_.end() || i < pending.size()) {
    if (i == pending.size() || (it != by_start_.end() && it->first < pending[i].start)) {
      add(it->first, it->second);
      ++it;
    } else {
      add(pending[i].start, pending[i].count);
      ++i;
    }
  }
  if (have) fn(run.start, run.count);
}

}  // namespace revkv::btree

#endif  // REVKV_BTREE_FREELIST_H_
