// The write transaction's arena: Allocate (dirty page spans) is aligned for a
// PageHeader whatever Copy (keys and values, packed) handed out before it.
#include "btree/arena.h"

#include <cstdint>
#include <string>

#include "btree/page.h"
#include "gtest/gtest.h"

namespace revkv::btree {
namespace {

bool Aligned(const void* p, size_t a) { return reinterpret_cast<uintptr_t>(p) % a == 0; }

TEST(ArenaTest, AllocateIsAlignedAfterOddSizedCopies) {
  Arena arena;
  for (size_t len = 1; len < 40; ++len) {
    std::string_view c = arena.Copy(std::string(len, 'k'));
    ASSERT_EQ(c, std::string(len, 'k'));
    char* span = arena.Allocate(4096);
    ASSERT_TRUE(Aligned(span, alignof(PageHeader))) << "after a copy of " << len;
    ASSERT_TRUE(Aligned(span, Arena::kAlign)) << "after a copy of " << len;
  }
}

TEST(ArenaTest, CopiesArePackedAndIntact) {
  Arena arena;
  std::string_view a = arena.Copy("abc");
  std::string_view b = arena.Copy("defgh");
  EXPECT_EQ(a, "abc");
  EXPECT_EQ(b, "defgh");
  EXPECT_EQ(b.data(), a.data() + a.size());  // no padding between copies
  EXPECT_TRUE(arena.Copy("").empty());
}

TEST(ArenaTest, AlignedAcrossBlocksLargeAllocationsAndThePool) {
  util::BlockPool pool(16);
  for (int round = 0; round < 2; ++round) {  // the second reuses pooled blocks
    Arena arena(&pool);
    size_t used = 0;
    while (used < 3 * Arena::kBlock) {  // crosses block boundaries
      used += arena.Copy(std::string(7, 'v')).size();
      char* p = arena.Allocate(4096 + 3);
      ASSERT_TRUE(Aligned(p, Arena::kAlign));
      used += 4096 + 3;
    }
    char* large = arena.Allocate(Arena::kBlock);  // its own allocation
    EXPECT_TRUE(Aligned(large, Arena::kAlign));
    std::string_view big = arena.Copy(std::string(Arena::kBlock, 'x'));
    EXPECT_EQ(big, std::string(Arena::kBlock, 'x'));
    arena.Reset();
    EXPECT_GT(pool.pooled(), 0u);
  }
}

}  // namespace
}  // namespace revkv::btree
