// PointCache: a lossy, two-way set-associative cache from a key's hash to
// the revision of its latest put, so that a point read skips the index's
// B-tree walk for one probe of one cache line.
//
// A key's hash picks its home bucket of two ways (16 bytes, one cache line)
// and a 16-bit tag. Its rules, which Index keeps and index_test checks:
//   1. A key's entry lives in its home bucket. Growing copies each bucket
//      to every bucket it splits into; in those that are not a key's home
//      only other keys can find its copy. Shrinking starts an empty table:
//      nothing ever moves toward a key's home.
//   2. Every change of a key rewrites every way of its home bucket holding
//      its tag: a put stores its revision in one and empties the others, a
//      delete empties them all.
//   3. A read that walked the index may fill the key's latest put the same
//      way, and never runs concurrently with a change (Fill under Index's
//      shared lock, changes and resizes under its exclusive one).
//   4. So a way with K's tag in K's home bucket holds K's latest put or
//      another key's revision (same bucket bits and tag).
//   5. A hit is only a candidate: the reader checks that the record at that
//      revision holds K, and walks the index on a miss or a mismatch.
//
// Two slots per key, 8 bytes each: 16 to 32 bytes per key.
//
// Thread-safety: slots are atomic words. Lookup may run concurrently with
// anything but Reserve, Shrink and Clear, which replace the table (Index
// takes a lock of the cache's own exclusively for them, and shared for
// lookups). A lookup racing a Store reads the old or the new word; either
// is a valid candidate for a reader whose revision predates the put, which
// rejects the new one by its revision.
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
    const uint64_t* b = BucketOf(hash);
    const uint64_t w0 = Load(b[0]), w1 = Load(b[1]);
    const bool m0 = Matches(w0, hash), m1 = Matches(w1, hash);
    if (!m0 && !m1) return false;
    // Both ways may carry the tag (two keys share it); the newer is the
    // likelier to be this key's, and the reader checks it either way.
    const uint64_t w = m0 && m1 ? (RevBits(w0) >= RevBits(w1) ? w0 : w1) : (m0 ? w0 : w1);
    *rev = Revision{int64_t((w >> 8) & kMainMask), int64_t((w >> 1) & kSubMask)};
    return true;
  }
  // Starts loading the bucket of `hash` for a Store, Erase or Fill to come:
  // their store would otherwise stall the next atomic operation (an unlock)
  // for the cache miss.
  void Prefetch(uint64_t hash) const {
    if (slots_ != nullptr) __builtin_prefetch(BucketOf(hash), 1);
  }
  // A read's fill: `latest` is the key's latest put.
  void Fill(uint64_t hash, Revision latest) const { Write(hash, latest); }
  // A key changed: its latest change is the put `rev`.
  void Store(uint64_t hash, Revision rev) { Write(hash, rev); }
  // A key changed: it was deleted (the ways holding its tag empty).
  void Erase(uint64_t hash) {
    if (slots_ == nullptr) return;
    uint64_t* b = BucketOf(hash);
    for (int i = 0; i < 2; ++i) {
      if (Matches(Load(b[i]), hash)) Set(b[i], 0);
    }
  }
  // Keeps at least two slots per key for `keys` keys, copying each bucket
  // into those it splits into (rule 1).
  void Reserve(size_t keys) {
    if (NeedsResize(keys)) Resize(keys * 2);
  }
  // Whether Reserve(keys) would replace the table.
  bool NeedsResize(size_t keys) const { return keys * 2 > capacity_; }
  // Returns the memory of a table for many more keys than `keys` (more than
  // eight slots per key; after a compaction, say): a new, empty table of two
  // slots per key.
  void Shrink(size_t keys) {
    if (CanShrink(keys)) Resize(keys * 2);
  }
  bool CanShrink(size_t keys) const {
    return capacity_ > kMinSlots && capacity_ > keys * 8;
  }
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

  static constexpr uint64_t kTagShift = 48;

  static uint64_t Load(const uint64_t& slot) {
    return std::atomic_ref<const uint64_t>(slot).load(std::memory_order_relaxed);
  }
  static void Set(uint64_t& slot, uint64_t word) {
    std::atomic_ref<uint64_t>(slot).store(word, std::memory_order_relaxed);
  }
  static bool Matches(uint64_t word, uint64_t hash) {
    return (word & kValid) != 0 && (word >> kTagShift) == (hash >> kTagShift);
  }
  // The revision part of a word: orders words by (main, sub).
  static uint64_t RevBits(uint64_t word) { return word & ((uint64_t{1} << kTagShift) - 1); }
  uint64_t* BucketOf(uint64_t hash) const { return &slots_[(hash & bucket_mask_) * 2]; }

  // Every way holding the key's tag takes the new word (the first) or
  // empties (the others), so none keeps an older revision of the key; with
  // none, the new word replaces an empty way or else the older one.
  void Write(uint64_t hash, Revision rev) const {
    if (slots_ == nullptr) return;
    uint64_t word = 0;  // unpackable: empty, so nothing stale stays
    if (rev.main > 0 && uint64_t(rev.main) <= kMainMask && rev.sub >= 0 &&
        uint64_t(rev.sub) <= kSubMask) {
      word = (hash & ~((uint64_t{1} << kTagShift) - 1)) | (uint64_t(rev.main) << 8) |
             (uint64_t(rev.sub) << 1) | kValid;
    }
    uint64_t* b = BucketOf(hash);
    const uint64_t w0 = Load(b[0]), w1 = Load(b[1]);
    const bool m0 = Matches(w0, hash), m1 = Matches(w1, hash);
    if (m0 || m1) {
      Set(b[m0 ? 0 : 1], word);
      if (m0 && m1) Set(b[1], 0);
      return;
    }
    if (word == 0) return;
    const int victim = (w0 & kValid) == 0 ? 0 : ((w1 & kValid) == 0 ? 1 : (RevBits(w0) <= RevBits(w1) ? 0 : 1));
    Set(b[victim], word);
  }
  void Resize(size_t min_slots);

  // Anonymous memory, mapped fresh: the kernel zeroes it lazily (growing
  // costs no pass over it), and in huge pages where it may, because random
  // slots in 4 KiB pages cost a TLB miss each.
  uint64_t* slots_ = nullptr;
  void* mapping_ = nullptr;
  size_t mapping_bytes_ = 0;
  uint64_t bucket_mask_ = 0;  // buckets (pairs of slots) - 1
  size_t capacity_ = 0;        // slots
};

}  // namespace revkv::mvcc

#endif  // REVKV_MVCC_POINT_CACHE_H_
