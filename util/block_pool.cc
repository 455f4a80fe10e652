#include "util/block_pool.h"

#include <algorithm>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "util/mutex.h"

namespace revkv::util {
namespace {

struct Pool {
  util::Mutex mu;
  std::vector<std::string*> blocks ABSL_GUARDED_BY(mu);
};

Pool& ThePool() {
  static Pool* pool = new Pool;  // never destroyed: blocks may outlive main
  return *pool;
}

void Release(std::string* block) {
  if (block->size() == kStorageBlockBytes) {
    Pool& pool = ThePool();
    util::MutexLock l(pool.mu);
    if (pool.blocks.size() < kMaxPooledBlocks) {
      pool.blocks.push_back(block);
      return;
    }
  }
  delete block;
}

}  // namespace

std::shared_ptr<std::string> NewStorageBlock(size_t size) {
  std::string* block = nullptr;
  if (size <= kStorageBlockBytes) {
    Pool& pool = ThePool();
    util::MutexLock l(pool.mu);
    if (!pool.blocks.empty()) {
      block = pool.blocks.back();
      pool.blocks.pop_back();
    }
  }
  if (block == nullptr) block = new std::string(std::max(size, kStorageBlockBytes), '\0');
  return std::shared_ptr<std::string>(block, Release);
}

size_t PooledStorageBlocks() {
  Pool& pool = ThePool();
  util::MutexLock l(pool.mu);
  return pool.blocks.size();
}

}  // namespace revkv::util
