// DataSet: the keys and values a benchmark run writes, shared by every engine
// so that they store exactly the same bytes.
//
// Key i is the decimal i zero-padded to key_size bytes, so key order is index
// order; `shuffled` is a random permutation of the indices (the order of a
// random load). Values are value_size bytes cut from a 1 MiB pool of random
// bytes at a place chosen by a salt, so no per-key value is stored: memory is
// n * (key_size + 4) bytes plus the pool.
//
// Immutable after MakeDataSet: thread-safe to read.
#ifndef REVKV_BENCH_DATASET_H_
#define REVKV_BENCH_DATASET_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace revkv::bench {

struct DataSet {
  uint64_t n = 0;
  uint64_t key_size = 0;
  uint64_t value_size = 0;
  std::vector<char> keys;          // n keys of key_size bytes, ascending
  std::vector<uint32_t> shuffled;  // a random permutation of [0, n)
  std::vector<char> pool;          // random bytes values are cut from

  std::string_view Key(uint64_t i) const {
    return std::string_view(keys.data() + i * key_size, key_size);
  }
  // The end of a range that stops before key i: Key(i), or a key above every
  // key when i >= n (keys are decimal digits).
  std::string EndKey(uint64_t i) const { return i < n ? std::string(Key(i)) : std::string("\xff"); }
  std::string_view Value(uint64_t salt) const {
    const uint64_t span = pool.size() - value_size + 1;
    const uint64_t off = (salt * 0x9E3779B97F4A7C15ull >> 20) % span;
    return std::string_view(pool.data() + off, value_size);
  }
};

// InvalidArgument when key_size cannot hold n's digits or n >= 2^32.
absl::StatusOr<DataSet> MakeDataSet(uint64_t n, uint64_t key_size, uint64_t value_size,
                                    uint64_t seed);

}  // namespace revkv::bench

#endif  // REVKV_BENCH_DATASET_H_
