// PointCache: a lossy, direct-mapped cache from a key's hash to the revision
// of its latest put, so that a point read skips the index's B-tree walk
// (about a microsecond for a million random keys, mostly cache misses) for
// one probe of one word.
//
// A hit is only a candidate: the slot holds the newest revision written by
// any key with the same slot and 16-bit tag. The reader confirms it against
// the key of the record it reads at that revision, and goes to the B-tree on
// a miss or a mismatch. The candidate is then exact because Index keeps two
// rules under its lock:
//   - every change of a key stores into its slot: a put its revision, a
//     delete (or a revision too large to pack) an empty word, so a key's
//     slot never keeps an older revision of it;
//   - a read that walks the B-tree may fill the slot with the key's latest
//     put, never with anything else.
// So when K's own slot holds a revision whose record holds K, that is K's
// latest put, and a read at a revision at or after it sees exactly that.
//
// Two slots per key, 8 bytes each: 16 to 32 bytes per key. Growing cannot
// rehash (slots keep only a tag of the hash): it copies each slot into both
// slots it splits into, one of them its key's; in the other it can only
// match other keys, whose records reject it. (A pass over the table under
// the index's lock: a few milliseconds for a million keys, at each doubling.)
//
// Thread-safety: slots are atomic words. Lookup may run concurrently with
// anything but Reserve and Clear, which replace the table. Fill must not
// run concurrently with Store or Erase: a fill decided before a put could
// land after its Store and bring back the older revision. (A lookup racing
// a Store reads the old or the new word; either is a valid candidate for a
// reader whose revision predates the put, which rejects the new one by its
// revision.) Index keeps Fill under its shared lock and the rest under its
// exclusive one, and lookups under a lock of their own that only Reserve
// and Clear take exclusively.
#ifndef REVKV_MVCC_POINT_CACHE_H_
#define REVKV_MVCC_POINT_CACHE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "mvcc/revision.h"

namespace revkv::mvcc {

class PointCache {
 public:
  // The hash a key is cached under (64 bits: slot from the low, tag from the
  // top 16).
  static uint64_t Hash(std::string_view key);

  // The revision cached for `hash`, if any. A candidate only (see above).
  bool Lookup(uint64_t hash, Revision* rev) const {
    if (slots_ == nullptr) return false;
    const uint64_t word = std::atomic_ref<uint64_t>(slots_[hash & mask_]).load(std::memory_order_relaxed);
    if ((word & kValid) == 0 || (word >> 48) != (hash >> 48)) return false;
    *rev = Revision{int64_t((word >> 8) & kMainMask), int64_t((word >> 1) & kSubMask)};
    return true;
  }
  // Starts loading the slot of `hash` for a Store, Erase or Fill to come:
  // their store would otherwise stall the next atomic operation (an unlock)
  // for the cache miss.
  void Prefetch(uint64_t hash) const {
    if (slots_ != nullptr) __builtin_prefetch(&slots_[hash & mask_], 1);
  }
  // A read's fill: `latest` is the key's latest put.
  void Fill(uint64_t hash, Revision latest) const { Write(hash, latest); }
  // A key changed: its latest change is the put `rev`.
  void Store(uint64_t hash, Revision rev) { Write(hash, rev); }
  // A key changed: it was deleted (its slot empties, whoever held it).
  void Erase(uint64_t hash) {
    if (slots_ != nullptr) std::atomic_ref<uint64_t>(slots_[hash & mask_]).store(0, std::memory_order_relaxed);
  }
  // Keeps at least two slots per key for `keys` keys.
  void Reserve(size_t keys) {
    if (NeedsResize(keys)) Resize(keys * 2);
  }
  // Whether Reserve(keys) would replace the table.
  bool NeedsResize(size_t keys) const { return keys * 2 > capacity_; }
  PointCache() = default;
  ~PointCache() { Clear(); }
  PointCache(const PointCache&) = delete;
  PointCache& operator=(const PointCache&) = delete;

  // Empties every slot and frees them.
  void Clear();
  size_t MemoryBytes() const { return capacity_ * sizeof(uint64_t); }

 private:
  static constexpr uint64_t kValid = 1;
  static constexpr uint64_t kSubMask = (uint64_t{1} << 7) - 1;   // bits 1..7
  static constexpr uint64_t kMainMask = (uint64_t{1} << 40) - 1;  // bits 8..47
  static constexpr size_t kMinSlots = 4096;

  void Write(uint64_t hash, Revision rev) const {
    if (slots_ == nullptr) return;
    uint64_t word = 0;  // unpackable: empty, so nothing stale stays
    if (rev.main > 0 && uint64_t(rev.main) <= kMainMask && rev.sub >= 0 &&
        uint64_t(rev.sub) <= kSubMask) {
      word = (hash & ~((uint64_t{1} << 48) - 1)) | (uint64_t(rev.main) << 8) |
             (uint64_t(rev.sub) << 1) | kValid;
    }
    std::atomic_ref<uint64_t>(slots_[hash & mask_]).store(word, std::memory_order_relaxed);
  }
  void Resize(size_t min_slots);

  // Anonymous memory, mapped fresh: the kernel zeroes it lazily (growing
  // costs no pass over it), and in huge pages where it may, because random
  // slots in 4 KiB pages cost a TLB miss each.
  uint64_t* slots_ = nullptr;
  void* mapping_ = nullptr;
  size_t mapping_bytes_ = 0;
  uint64_t mask_ = 0;
  size_t capacity_ = 0;
};

}  // namespace revkv::mvcc

#endif  // REVKV_MVCC_POINT_CACHE_H_
