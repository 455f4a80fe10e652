// BlockPool: the one pool of recycled memory blocks every layer shares.
//
// Two kinds of short-lived memory come and go in whole batches: a btree
// write transaction's arena (keys, values and dirty pages, freed at commit)
// and the backend's read-buffer storage (freed when a batch's commit drops
// it, possibly by a reader). Handing those blocks back to malloc let glibc
// shrink the heap (a brk call that flushes every core's TLB) and fault the
// same pages in again for the next batch, so blocks of kBlockBytes return
// here instead, up to a bound, and the next batch takes them back.
//
// Thread-safety: thread-safe. A block is used by one owner at a time; a
// shared block may be released by whichever thread drops the last reference.
#ifndef REVKV_UTIL_BLOCK_POOL_H_
#define REVKV_UTIL_BLOCK_POOL_H_

#include <cstddef>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "util/mutex.h"

namespace revkv::util {

class BlockPool {
 public:
  // The size of a pooled block.
  static constexpr size_t kBlockBytes = 64 * 1024;
  // Every block is aligned to this (a btree page header is addressed in one).
  static constexpr size_t kAlign = alignof(std::max_align_t);
  // Default()'s bound (16 MiB): a batch of 10,000 puts uses about 4 MiB of
  // arena and as much read buffer, whose blocks would otherwise go back to
  // the heap at each commit.
  static constexpr size_t kDefaultMaxBlocks = 256;

  using Block = std::unique_ptr<char[]>;

  // A pool that keeps at most max_blocks released blocks.
  explicit BlockPool(size_t max_blocks) : max_blocks_(max_blocks) {}
  // Frees the pooled blocks. Shared blocks still out must not outlive it.
  ~BlockPool();
  BlockPool(const BlockPool&) = delete;
  BlockPool& operator=(const BlockPool&) = delete;

  // The process-wide pool; never destroyed (shared blocks may outlive main).
  static BlockPool& Default();

  // A block of kBlockBytes, aligned to kAlign, contents unspecified.
  Block Take();
  // Returns blocks taken from Take (each of kBlockBytes); frees those beyond
  // the bound. Leaves *blocks empty.
  void GiveAll(std::vector<Block>* blocks);

  // A block of at least max(size, kBlockBytes) bytes, shared, contents
  // unspecified; its size in *capacity. One of exactly kBlockBytes comes
  // back to this pool when its last reference is dropped, so the pool must
  // outlive it (Default() does).
  std::shared_ptr<char[]> TakeShared(size_t size, size_t* capacity);

  // Blocks in the pool now (tests).
  size_t pooled() const;

 private:
  void Give(char* block);

  const size_t max_blocks_;
  mutable Mutex mu_;
  std::vector<char*> blocks_ ABSL_GUARDED_BY(mu_);
};

}  // namespace revkv::util

#endif  // REVKV_UTIL_BLOCK_POOL_H_
