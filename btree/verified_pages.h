// VerifiedPages: the spans this process has checked against their checksums.
//
// Every span is verified before its bytes are used. A span is immutable from
// the commit that writes it until a later commit frees it and no reader can
// see it any more; only then may its pages be allocated again. So a span
// verified once need not be verified again until the writer allocates one of
// its pages anew, and the writer forgets the marks of every page it
// allocates, before it writes them (see Tx::Allocate). Hot reads then cost a
// bit test instead of a hash of the page.
//
// The marks are bits in chunks of kPagesPerChunk pages, allocated on first
// use (zeroed lazily by the OS); pages past kMaxPages are never marked and so
// are verified at every use.
//
// Thread-safety: thread-safe and lock-free. Marks are only hints to skip
// work: a mark never makes unverified bytes look verified, because a mark
// for page p is added only by a reader that verified p's span, while no
// page of it can be allocated (its snapshot holds it), and is removed by the
// writer before the span's pages are reused; the freelist's release, under
// the DB's mutex, orders the two.
#ifndef REVKV_BTREE_VERIFIED_PAGES_H_
#define REVKV_BTREE_VERIFIED_PAGES_H_

#include <atomic>
#include <cstdint>

#include "btree/page.h"

namespace revkv::btree {

class VerifiedPages {
 public:
  static constexpr int kChunkShift = 21;  // 2 Mi pages (8 GiB of 4 KiB pages)
  static constexpr uint64_t kPagesPerChunk = uint64_t{1} << kChunkShift;
  static constexpr size_t kChunks = 1 << 13;
  static constexpr uint64_t kMaxPages = kPagesPerChunk * kChunks;

  VerifiedPages() = default;
  ~VerifiedPages();
  VerifiedPages(const VerifiedPages&) = delete;
  VerifiedPages& operator=(const VerifiedPages&) = delete;

  // Whether the span starting at `id` was verified since its pages were
  // last allocated.
  bool Contains(pgid_t id) const {
    if (id >= kMaxPages) return false;
    const uint64_t* chunk = chunks_[id >> kChunkShift].load(std::memory_order_acquire);
    if (chunk == nullptr) return false;
    const uint64_t word = std::atomic_ref<const uint64_t>(chunk[Word(id)]).load(
        std::memory_order_relaxed);
    return (word >> (id & 63)) & 1;
  }
  // Records that the span starting at `id` verified.
  void Add(pgid_t id);
  // Forgets the marks of pages [first, first + count): they are being
  // allocated anew.
  void Remove(pgid_t first, uint64_t count);

 private:
  static size_t Word(pgid_t id) { return size_t(id & (kPagesPerChunk - 1)) >> 6; }
  uint64_t* Chunk(pgid_t id);

  std::atomic<uint64_t*> chunks_[kChunks] = {};
};

}  // namespace revkv::btree

#endif  // REVKV_BTREE_VERIFIED_PAGES_H_
