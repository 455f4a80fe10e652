// Arena: bump allocator for the bytes a write transaction copies in (keys,
// values, dirty pages). Freed all at once when the transaction ends: its
// standard blocks go back to a util::BlockPool (the process's one pool), so
// that the next transaction reuses the memory: a small commit then neither
// zero-fills nor asks the kernel for fresh pages (each commit used to grow
// and trim the heap; bench/README.md has the cost).
//
// Thread-safety: not thread-safe (one per write transaction).
#ifndef REVKV_BTREE_ARENA_H_
#define REVKV_BTREE_ARENA_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "util/block_pool.h"

namespace revkv::btree {

class Arena {
 public:
  static constexpr size_t kBlock = util::BlockPool::kBlockBytes;

  // Takes its blocks from `pool` and gives them back at Reset.
  explicit Arena(util::BlockPool* pool = &util::BlockPool::Default()) : pool_(pool) {}
  ~Arena() { Reset(); }
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // Every block and every Allocate result is aligned to this, so that a dirty
  // page span can be addressed as a PageHeader (8-byte fields): Copy packs
  // bytes with no alignment, and a span allocated after a key of odd length
  // used to start at an odd address (UBSan: misaligned PageHeader store).
  static constexpr size_t kAlign = util::BlockPool::kAlign;

  // Uninitialised memory for n bytes aligned to kAlign, valid until the
  // arena ends.
  char* Allocate(size_t n) {
    if (n > kBlock / 4) return AllocateLarge(n);  // new[]: aligned to kAlign
    size_t pad = size_t(-reinterpret_cast<uintptr_t>(next_)) & (kAlign - 1);
    if (pad + n > left_) {
      NextBlock();
      pad = 0;
    }
    next_ += pad;
    left_ -= pad;
    return Bump(n);
  }
  // A copy of s (packed, no alignment), valid until the arena ends.
  std::string_view Copy(std::string_view s) {
    if (s.empty()) return std::string_view();
    char* p;
    if (s.size() > kBlock / 4) {
      p = AllocateLarge(s.size());
    } else {
      if (s.size() > left_) NextBlock();
      p = Bump(s.size());
    }
    std::memcpy(p, s.data(), s.size());
    return std::string_view(p, s.size());
  }
  // Frees everything, returning standard blocks to the pool. Every pointer
  // handed out is invalid after.
  void Reset() {
    if (!blocks_.empty()) pool_->GiveAll(&blocks_);
    large_.clear();
    next_ = nullptr;
    left_ = 0;
  }

 private:
  char* AllocateLarge(size_t n) {
    large_.push_back(std::unique_ptr<char[]>(new char[n]));
    return large_.back().get();
  }
  void NextBlock() {
    blocks_.push_back(pool_->Take());
    next_ = blocks_.back().get();
    left_ = kBlock;
  }
  char* Bump(size_t n) {
    char* p = next_;
    next_ += n;
    left_ -= n;
    return p;
  }

  util::BlockPool* pool_;
  std::vector<util::BlockPool::Block> blocks_;
  std::vector<std::unique_ptr<char[]>> large_;
  char* next_ = nullptr;
  size_t left_ = 0;
};

}  // namespace revkv::btree

#endif  // REVKV_BTREE_ARENA_H_
