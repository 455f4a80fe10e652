// The storage block pool: released blocks come back, bounded.
#include "backend/block_pool.h"

#include <vector>

#include "gtest/gtest.h"

namespace revkv::backend {
namespace {

TEST(BlockPoolTest, AReleasedBlockIsHandedOutAgain) {
  std::string* first;
  {
    std::shared_ptr<std::string> b = NewStorageBlock(100);
    EXPECT_EQ(b->size(), kStorageBlockBytes);
    first = b.get();
  }
  const size_t pooled = PooledStorageBlocks();
  EXPECT_GE(pooled, 1u);
  std::shared_ptr<std::string> again = NewStorageBlock(kStorageBlockBytes);
  EXPECT_EQ(again.get(), first) << "the most recently released block first";
  EXPECT_EQ(PooledStorageBlocks(), pooled - 1);
}

TEST(BlockPoolTest, ALargerBlockIsNeverPooled) {
  const size_t pooled = PooledStorageBlocks();
  {
    std::shared_ptr<std::string> big = NewStorageBlock(kStorageBlockBytes + 1);
    EXPECT_EQ(big->size(), kStorageBlockBytes + 1);
  }
  EXPECT_EQ(PooledStorageBlocks(), pooled);
}

TEST(BlockPoolTest, ThePoolKeepsAtMostItsBound) {
  std::vector<std::shared_ptr<std::string>> blocks;
  for (size_t i = 0; i < kMaxPooledBlocks + 10; ++i) blocks.push_back(NewStorageBlock(1));
  blocks.clear();
  EXPECT_EQ(PooledStorageBlocks(), kMaxPooledBlocks);
}

}  // namespace
}  // namespace revkv::backend
