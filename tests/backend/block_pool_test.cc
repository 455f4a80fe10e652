// The storage block pool: released blocks come back, bounded.
#include "util/block_pool.h"

#include <vector>

#include "gtest/gtest.h"

namespace revkv::backend {
namespace {

TEST(BlockPoolTest, AReleasedBlockIsHandedOutAgain) {
  std::string* first;
  {
    std::shared_ptr<std::string> b = util::NewStorageBlock(100);
    EXPECT_EQ(b->size(), util::kStorageBlockBytes);
    first = b.get();
  }
  const size_t pooled = util::PooledStorageBlocks();
  EXPECT_GE(pooled, 1u);
  std::shared_ptr<std::string> again = util::NewStorageBlock(util::kStorageBlockBytes);
  EXPECT_EQ(again.get(), first) << "the most recently released block first";
  EXPECT_EQ(util::PooledStorageBlocks(), pooled - 1);
}

TEST(BlockPoolTest, ALargerBlockIsNeverPooled) {
  const size_t pooled = util::PooledStorageBlocks();
  {
    std::shared_ptr<std::string> big = util::NewStorageBlock(util::kStorageBlockBytes + 1);
    EXPECT_EQ(big->size(), util::kStorageBlockBytes + 1);
  }
  EXPECT_EQ(util::PooledStorageBlocks(), pooled);
}

TEST(BlockPoolTest, ThePoolKeepsAtMostItsBound) {
  std::vector<std::shared_ptr<std::string>> blocks;
  for (size_t i = 0; i < util::kMaxPooledBlocks + 10; ++i) blocks.push_back(util::NewStorageBlock(1));
  blocks.clear();
  EXPECT_EQ(util::PooledStorageBlocks(), util::kMaxPooledBlocks);
}

}  // namespace
}  // namespace revkv::backend
