#include "bench/dataset.h"

#include <algorithm>
#include <random>
#include <string>

namespace revkv::bench {

absl::StatusOr<DataSet> MakeDataSet(uint64_t n, uint64_t key_size, uint64_t value_size,
                                    uint64_t seed) {
  if (n == 0 || n > UINT32_MAX) return absl::InvalidArgumentError("--keys must be in [1, 2^32)");
  const uint64_t digits = std::to_string(n - 1).size();
  if (key_size < digits) {
    return absl::InvalidArgumentError("--key-size " + std::to_string(key_size) +
                                      " is too small for " + std::to_string(n) +
                                      " keys (needs " + std::to_string(digits) + ")");
  }
  DataSet d;
  d.n = n;
  d.key_size = key_size;
  d.value_size = value_size;
  d.keys.assign(n * key_size, '0');
  for (uint64_t i = 0; i < n; ++i) {
    char* k = d.keys.data() + i * key_size;
    uint64_t v = i;
    for (uint64_t j = key_size; j > 0 && v > 0; --j, v /= 10) k[j - 1] = static_cast<char>('0' + v % 10);
  }
  std::mt19937_64 rng(seed);
  d.shuffled.resize(n);
  for (uint64_t i = 0; i < n; ++i) d.shuffled[i] = static_cast<uint32_t>(i);
  std::shuffle(d.shuffled.begin(), d.shuffled.end(), rng);
  d.pool.resize(std::max<uint64_t>(1 << 20, 2 * value_size));
  for (char& c : d.pool) c = static_cast<char>(rng());
  return d;
}

}  // namespace revkv::bench
