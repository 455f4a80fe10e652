#include "util/block_pool.h"

#include <algorithm>

namespace revkv::util {

static_assert(__STDCPP_DEFAULT_NEW_ALIGNMENT__ >= BlockPool::kAlign);

BlockPool& BlockPool::Default() {
  static BlockPool* pool = new BlockPool(kDefaultMaxBlocks);
  return *pool;
}

BlockPool::~BlockPool() {
  MutexLock l(mu_);
  for (char* b : blocks_) delete[] b;
}

BlockPool::Block BlockPool::Take() {
  {
    MutexLock l(mu_);
    if (!blocks_.empty()) {
      char* b = blocks_.back();
      blocks_.pop_back();
      return Block(b);
    }
  }
  return Block(new char[kBlockBytes]);
}

void BlockPool::GiveAll(std::vector<Block>* blocks) {
  {
    MutexLock l(mu_);
    // In order: the block used last is handed out first.
    for (Block& b : *blocks) {
      if (blocks_.size() == max_blocks_) break;
      blocks_.push_back(b.release());
    }
  }
  blocks->clear();  // those beyond the bound are freed, outside the lock
}

void BlockPool::Give(char* block) {
  {
    MutexLock l(mu_);
    if (blocks_.size() < max_blocks_) {
      blocks_.push_back(block);
      return;
    }
  }
  delete[] block;
}

std::shared_ptr<char[]> BlockPool::TakeShared(size_t size, size_t* capacity) {
  if (size > kBlockBytes) {
    *capacity = size;
    return std::shared_ptr<char[]>(new char[size]);
  }
  *capacity = kBlockBytes;
  return std::shared_ptr<char[]>(Take().release(), [this](char* b) { Give(b); });
}

size_t BlockPool::pooled() const {
  MutexLock l(mu_);
  return blocks_.size();
}

}  // namespace revkv::util
