// CRC-32C (Castagnoli), as Go's hash/crc32 with crc32.MakeTable(crc32.Castagnoli)
// computes it: etcd's HashKV uses it. Uses the SSE4.2 instruction when the CPU
// has it, a table otherwise.
//
// Thread-safety: pure functions.
#ifndef REVKV_UTIL_CRC32C_H_
#define REVKV_UTIL_CRC32C_H_

#include <cstdint>
#include <string_view>

namespace revkv::util {

// Extends `crc` (the CRC of earlier bytes, 0 to start) with `data`.
uint32_t Crc32cExtend(uint32_t crc, std::string_view data);
inline uint32_t Crc32c(std::string_view data) { return Crc32cExtend(0, data); }

// The portable implementation, exposed for tests.
uint32_t Crc32cExtendPortable(uint32_t crc, std::string_view data);

}  // namespace revkv::util

#endif  // REVKV_UTIL_CRC32C_H_
