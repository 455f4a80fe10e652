// Unsigned LEB128 varints (protobuf's encoding), as the index checkpoint and
// the key index store integers.
//
// Thread-safety: pure functions.
#ifndef REVKV_UTIL_VARINT_H_
#define REVKV_UTIL_VARINT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace revkv::util {

inline void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(char(v | 0x80));
    v >>= 7;
  }
  out->push_back(char(v));
}

// Decodes a varint from the front of *in and advances past it; false if it is
// truncated or longer than 10 bytes. (Restore decodes millions of these: the
// loop works on a local pointer and the view moves once.)
inline bool GetVarint(std::string_view* in, uint64_t* v) {
  const auto* p = reinterpret_cast<const uint8_t*>(in->data());
  const size_t n = in->size() < 10 ? in->size() : 10;
  uint64_t r = 0;
  for (size_t i = 0; i < n; ++i) {
    r |= uint64_t(p[i] & 0x7f) << (7 * i);
    if (p[i] < 0x80) {
      *v = r;
      in->remove_prefix(i + 1);
      return true;
    }
  }
  return false;
}

}  // namespace revkv::util

#endif  // REVKV_UTIL_VARINT_H_
