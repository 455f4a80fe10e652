// Byte-wise three-way comparison of keys, inline and 8 bytes at a time.
//
// Page and index searches compare a key some 20 times per lookup; for short
// keys the call into memcmp cost more than the comparison itself.
//
// Thread-safety: pure functions.
#ifndef REVKV_UTIL_BYTES_H_
#define REVKV_UTIL_BYTES_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace revkv::util {

// <0, 0 or >0 as a is before, equal to or after b in unsigned byte order
// (std::string_view::compare's order).
inline int CompareBytes(std::string_view a, std::string_view b) {
  const size_t n = a.size() < b.size() ? a.size() : b.size();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t x, y;
    std::memcpy(&x, a.data() + i, 8);
    std::memcpy(&y, b.data() + i, 8);
    if (x != y) return __builtin_bswap64(x) < __builtin_bswap64(y) ? -1 : 1;
  }
  for (; i < n; ++i) {
    if (a[i] != b[i]) return uint8_t(a[i]) < uint8_t(b[i]) ? -1 : 1;
  }
  return a.size() == b.size() ? 0 : (a.size() < b.size() ? -1 : 1);
}

}  // namespace revkv::util

#endif  // REVKV_UTIL_BYTES_H_
