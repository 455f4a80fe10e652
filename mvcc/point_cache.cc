#include "mvcc/point_cache.h"

#include <algorithm>
#include <bit>
#include <cstdint>

#include <sys/mman.h>

#include "xxhash.h"

namespace revkv::mvcc {

uint64_t PointCache::Hash(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }

void PointCache::Clear() {
  if (mapping_ != nullptr) munmap(mapping_, mapping_bytes_);
  slots_ = nullptr;
  mapping_ = nullptr;
  mapping_bytes_ = 0;
  bucket_mask_ = 0;
  capacity_ = 0;
}

void PointCache::Resize(size_t min_slots) {
  constexpr size_t kHugePage = size_t{2} << 20;
  const size_t n = std::bit_ceil(std::max(min_slots, kMinSlots));
  const size_t bytes = n * sizeof(uint64_t);
  // Room to align the table to a huge page.
  const size_t mapped = bytes >= kHugePage ? bytes + kHugePage : bytes;
  void* m = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return;  // no memory: keep the smaller cache
  char* p = static_cast<char*>(m);
  if (bytes >= kHugePage) {
    p += (kHugePage - reinterpret_cast<uintptr_t>(p) % kHugePage) % kHugePage;
    madvise(p, bytes, MADV_HUGEPAGE);  // advice: fine if refused
  }
  uint64_t* next = reinterpret_cast<uint64_t*>(p);
  const size_t old_buckets = capacity_ / 2, buckets = n / 2;
  if (buckets > old_buckets) {
    // Growing (rule 1): each old bucket goes to every bucket it splits
    // into. One is its keys' home; in the others its ways can only match
    // other keys, whose records then reject them. (Shrinking copies
    // nothing: it would bring such copies back to their keys' home.)
    for (size_t i = 0; i < old_buckets; ++i) {
      if (slots_[2 * i] == 0 && slots_[2 * i + 1] == 0) continue;
      for (size_t j = i; j < buckets; j += old_buckets) {
        next[2 * j] = slots_[2 * i];
        next[2 * j + 1] = slots_[2 * i + 1];
      }
    }
  }
  Clear();
  slots_ = next;
  mapping_ = m;
  mapping_bytes_ = mapped;
  bucket_mask_ = buckets - 1;
  capacity_ = n;
}

}  // namespace revkv::mvcc
