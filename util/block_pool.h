// Storage blocks for Segments, recycled.
//
// A read buffer lives for one batch and is then dropped whole at commit.
// Handing its 64 KiB blocks back to malloc let glibc shrink the heap (a brk
// call that flushes the TLB of every core) and fault the same pages in again
// for the next batch; blocks of kStorageBlockBytes therefore go back to a
// small process-wide pool when their last reference is dropped.
//
// Thread-safety: thread-safe (a reader may drop a block's last reference).
#ifndef REVKV_UTIL_BLOCK_POOL_H_
#define REVKV_UTIL_BLOCK_POOL_H_

#include <cstddef>
#include <memory>
#include <string>

namespace revkv::util {

inline constexpr size_t kStorageBlockBytes = 64 * 1024;
// Blocks the pool keeps at most (4 MiB).
inline constexpr size_t kMaxPooledBlocks = 64;

// A block of max(size, kStorageBlockBytes) bytes, contents unspecified.
// Blocks of exactly kStorageBlockBytes return to the pool when released.
std::shared_ptr<std::string> NewStorageBlock(size_t size);

// Blocks in the pool now (tests).
size_t PooledStorageBlocks();

}  // namespace revkv::util

#endif  // REVKV_UTIL_BLOCK_POOL_H_
