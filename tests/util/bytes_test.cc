// util::CompareBytes: the key order of pages, cursors and the mvcc key index.
#include "util/bytes.h"

#include <cstdio>
#include <random>
#include <string>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace revkv::util {
namespace {

TEST(CompareBytes, OrdersLikeStringCompareOverUnsignedBytes) {
  uint64_t seed = std::random_device{}();
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  // Few distinct bytes so that long shared prefixes, 8-byte boundaries and
  // keys that are prefixes of others all occur.
  const char alphabet[] = {'\x00', 'a', '\x7f', '\x80', '\xff'};
  auto random_key = [&] {
    std::string k(rng() % 25, 'a');
    for (char& c : k) {
      if (rng() % 5 == 0) c = alphabet[rng() % 5];
    }
    return k;
  };
  for (int i = 0; i < 100000; ++i) {
    const std::string a = random_key(), b = random_key();
    const int want = a.compare(b);
    const int got = util::CompareBytes(a, b);
    ASSERT_EQ(got < 0, want < 0) << absl::CEscape(a) << " vs " << absl::CEscape(b);
    ASSERT_EQ(got == 0, want == 0) << absl::CEscape(a) << " vs " << absl::CEscape(b);
  }
}

TEST(CompareBytes, EmptyKeySortsFirst) {
  EXPECT_EQ(util::CompareBytes("", ""), 0);
  EXPECT_LT(util::CompareBytes("", std::string(1, '\0')), 0);
  EXPECT_GT(util::CompareBytes("12345678a", "12345678"), 0);
}

}  // namespace
}  // namespace revkv::util
