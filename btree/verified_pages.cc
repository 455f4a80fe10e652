#include "btree/verified_pages.h"

#include <algorithm>
#include <cstdlib>

namespace revkv::btree {

VerifiedPages::~VerifiedPages() {
  for (std::atomic<uint64_t*>& c : chunks_) std::free(c.load(std::memory_order_relaxed));
}

uint64_t* VerifiedPages::Chunk(pgid_t id) {
  std::atomic<uint64_t*>& slot = chunks_[id >> kChunkShift];
  uint64_t* chunk = slot.load(std::memory_order_acquire);
  if (chunk != nullptr) return chunk;
  // calloc: large blocks come zeroed from the OS, touched only where marked.
  auto* fresh = static_cast<uint64_t*>(std::calloc(kPagesPerChunk / 64, sizeof(uint64_t)));
  if (fresh == nullptr) return nullptr;  // no mark: the span is verified again
  if (slot.compare_exchange_strong(chunk, fresh, std::memory_order_acq_rel)) return fresh;
  std::free(fresh);
  return chunk;
}

void VerifiedPages::Add(pgid_t id) {
  if (id >= kMaxPages) return;
  uint64_t* chunk = Chunk(id);
  if (chunk == nullptr) return;
  std::atomic_ref<uint64_t>(chunk[Word(id)]).fetch_or(uint64_t{1} << (id & 63),
                                                     std::memory_order_relaxed);
}

void VerifiedPages::Remove(pgid_t first, uint64_t count) {
  const pgid_t end = first + count < kMaxPages ? first + count : kMaxPages;
  for (pgid_t id = first; id < end;) {
    uint64_t* chunk = chunks_[id >> kChunkShift].load(std::memory_order_acquire);
    if (chunk == nullptr) {  // nothing marked in this chunk
      id = ((id >> kChunkShift) + 1) << kChunkShift;
      continue;
    }
    const int bit = int(id & 63);
    const uint64_t n = std::min<uint64_t>(64 - bit, end - id);
    const uint64_t mask = (n == 64 ? ~uint64_t{0} : ((uint64_t{1} << n) - 1)) << bit;
    std::atomic_ref<uint64_t> word(chunk[Word(id)]);
    if (word.load(std::memory_order_relaxed) & mask) {
      word.fetch_and(~mask, std::memory_order_relaxed);
    }
    id += n;
  }
}

}  // namespace revkv::btree
