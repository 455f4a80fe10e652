// PointTable: WatcherGroup's map from a 64-bit key hash to the head of the
// chain of point watchers with that hash. Open addressing with linear
// probing over 16-byte slots, so the slot where a lookup of a hash begins
// is known before any of the table is read: a writer can start loading it
// (SlotAddress) long before it matches the key. absl's prefetch loads only
// the first line of a 16-slot group, which usually misses the slot.
//
// Thread-safety: not thread-safe; the watchable store guards it with its
// mutex.
#ifndef REVKV_MVCC_POINT_TABLE_H_
#define REVKV_MVCC_POINT_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

namespace revkv::mvcc {

template <typename V>
class PointTable {
 public:
  PointTable() = default;
  PointTable(PointTable&& o) noexcept { *this = std::move(o); }
  PointTable& operator=(PointTable&& o) noexcept {
    slots_ = std::move(o.slots_);
    mask_ = o.mask_;
    size_ = o.size_;
    o.mask_ = o.size_ = 0;
    return *this;
  }

  size_t size() const { return size_; }

  // The value stored for hash h, or null. Hashes 0 and 1 share an entry
  // (0 marks an empty slot); a caller keeps keys with equal hashes apart.
  V* Find(uint64_t h) const {
    if (size_ == 0) return nullptr;
    h = Fix(h);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      if (slots_[i].hash == h) return slots_[i].value;
      if (slots_[i].hash == kEmpty) return nullptr;
    }
  }

  // A pointer to the value stored for h, inserted as null if absent. Valid
  // until the next FindOrInsert or Erase.
  V** FindOrInsert(uint64_t h) {
    h = Fix(h);
    if (slots_ != nullptr) {
      size_t i = h & mask_;
      for (; slots_[i].hash != kEmpty; i = (i + 1) & mask_) {
        if (slots_[i].hash == h) return &slots_[i].value;
      }
    }
    // At most half full: probe runs stay short.
    if ((size_ + 1) * 2 > capacity()) Rehash(capacity() == 0 ? 16 : capacity() * 2);
    size_t i = h & mask_;
    while (slots_[i].hash != kEmpty) i = (i + 1) & mask_;
    slots_[i] = Slot{h, nullptr};
    size_++;
    return &slots_[i].value;
  }

  // Removes h (present). Backward-shift deletion: no tombstones, so probe
  // sequences stay as short as the load alone makes them.
  void Erase(uint64_t h) {
    h = Fix(h);
    size_t i = h & mask_;
    while (slots_[i].hash != h) i = (i + 1) & mask_;
    for (size_t j = (i + 1) & mask_; slots_[j].hash != kEmpty; j = (j + 1) & mask_) {
      // Slot j's entry may move to the hole at i when its home is not in
      // (i, j] (cyclically).
      const size_t home = slots_[j].hash & mask_;
      if (((j - home) & mask_) >= ((j - i) & mask_)) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i] = Slot{kEmpty, nullptr};
    size_--;
    // Memory follows the watchers down as well as up.
    if (capacity() > 16 && size_ * 8 < capacity()) Rehash(capacity() / 2);
  }

  // The address of the slot where a lookup of h begins (null for an empty
  // table), for a prefetch.
  const void* SlotAddress(uint64_t h) const {
    return slots_ == nullptr ? nullptr : &slots_[Fix(h) & mask_];
  }

  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (size_t i = 0; i < capacity(); i++) {
      if (slots_[i].hash != kEmpty) fn(slots_[i].value);
    }
  }

 private:
  static constexpr uint64_t kEmpty = 0;
  struct Slot {
    uint64_t hash;
    V* value;
  };
  // 0 marks an empty slot: a hash of 0 is stored as 1 (chains compare keys).
  static uint64_t Fix(uint64_t h) { return h == kEmpty ? 1 : h; }
  size_t capacity() const { return slots_ == nullptr ? 0 : mask_ + 1; }

  void Rehash(size_t cap) {
    const size_t old_cap = capacity();
    std::unique_ptr<Slot[]> old = std::move(slots_);
    slots_.reset(new Slot[cap]());
    mask_ = cap - 1;
    for (size_t k = 0; k < old_cap; k++) {
      const Slot& o = old[k];
      if (o.hash == kEmpty) continue;
      size_t i = o.hash & mask_;
      while (slots_[i].hash != kEmpty) i = (i + 1) & mask_;
      slots_[i] = o;
    }
  }

  std::unique_ptr<Slot[]> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace revkv::mvcc

#endif  // REVKV_MVCC_POINT_TABLE_H_
