// The one block pool: blocks come back and go out again, aligned and
// bounded, whether given back whole (an arena) or by a shared block's last
// reference (the backend's read buffer, from any thread); and the btree
// arena and the backend's storage draw from the same pool.
#include "util/block_pool.h"

#include <cstdint>
#include <thread>
#include <vector>

#include "btree/arena.h"
#include "gtest/gtest.h"

namespace revkv::util {
namespace {

bool Aligned(const void* p) { return reinterpret_cast<uintptr_t>(p) % BlockPool::kAlign == 0; }

TEST(BlockPoolTest, AGivenBlockIsTakenAgainMostRecentFirst) {
  BlockPool pool(8);
  std::vector<BlockPool::Block> blocks;
  blocks.push_back(pool.Take());
  blocks.push_back(pool.Take());
  ASSERT_TRUE(Aligned(blocks[0].get()));
  ASSERT_TRUE(Aligned(blocks[1].get()));
  const char* last = blocks[1].get();
  pool.GiveAll(&blocks);
  EXPECT_TRUE(blocks.empty());
  EXPECT_EQ(pool.pooled(), 2u);
  BlockPool::Block again = pool.Take();
  EXPECT_EQ(again.get(), last);
  EXPECT_EQ(pool.pooled(), 1u);
}

TEST(BlockPoolTest, ThePoolKeepsAtMostItsBound) {
  BlockPool pool(3);
  std::vector<BlockPool::Block> blocks;
  for (int i = 0; i < 5; ++i) blocks.push_back(pool.Take());
  pool.GiveAll(&blocks);
  EXPECT_TRUE(blocks.empty());
  EXPECT_EQ(pool.pooled(), 3u);
  std::vector<std::shared_ptr<char[]>> shared;
  size_t capacity = 0;
  for (int i = 0; i < 5; ++i) shared.push_back(pool.TakeShared(1, &capacity));
  EXPECT_EQ(pool.pooled(), 0u);
  shared.clear();
  EXPECT_EQ(pool.pooled(), 3u);
}

TEST(BlockPoolTest, ASharedBlockComesBackWhenItsLastReferenceDrops) {
  BlockPool pool(8);
  size_t capacity = 0;
  std::shared_ptr<char[]> a = pool.TakeShared(100, &capacity);
  EXPECT_EQ(capacity, BlockPool::kBlockBytes);
  EXPECT_TRUE(Aligned(a.get()));
  const char* first = a.get();
  std::shared_ptr<char[]> b = a;
  a.reset();
  EXPECT_EQ(pool.pooled(), 0u) << "still referenced";
  b.reset();
  EXPECT_EQ(pool.pooled(), 1u);
  EXPECT_EQ(pool.Take().get(), first);
}

TEST(BlockPoolTest, ALargerSharedBlockIsNeverPooled) {
  BlockPool pool(8);
  size_t capacity = 0;
  {
    std::shared_ptr<char[]> big = pool.TakeShared(BlockPool::kBlockBytes + 1, &capacity);
    EXPECT_EQ(capacity, BlockPool::kBlockBytes + 1);
  }
  EXPECT_EQ(pool.pooled(), 0u);
}

// A reader may drop a read buffer's last reference while the writer takes
// and gives blocks (TSan checks the pool's lock).
TEST(BlockPoolTest, BlocksComeBackFromOtherThreads) {
  BlockPool pool(64);
  constexpr int kRounds = 2000;
  std::vector<std::shared_ptr<char[]>> handed(kRounds);
  size_t capacity = 0;
  for (auto& h : handed) h = pool.TakeShared(1, &capacity);
  std::thread reader([&] {
    for (auto& h : handed) h.reset();
  });
  for (int i = 0; i < kRounds; ++i) {
    std::vector<BlockPool::Block> mine;
    mine.push_back(pool.Take());
    mine[0][0] = char(i);
    pool.GiveAll(&mine);
  }
  reader.join();
  EXPECT_LE(pool.pooled(), 64u);
  EXPECT_GE(pool.pooled(), 1u);
}

// One pool, not two: the block a btree write transaction's arena gives back
// at its end is the next one the backend's read buffer takes.
TEST(BlockPoolTest, TheArenaAndTheReadBufferShareTheDefaultPool) {
  const char* arena_block;
  {
    btree::Arena arena;
    arena_block = arena.Copy("key").data();
  }  // Reset at destruction gives the block back
  size_t capacity = 0;
  std::shared_ptr<char[]> storage = BlockPool::Default().TakeShared(10, &capacity);
  EXPECT_EQ(storage.get(), arena_block);
}

}  // namespace
}  // namespace revkv::util
