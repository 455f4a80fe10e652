// Throughput of the two checksums revkv computes over its data (Google
// Benchmark): CRC-32C (HashKV, etcd-compatible; hardware and portable
// implementations) and XXH3-64 (every btree page at commit, and at the
// first read of each page after its allocation). Sizes: 64 B (a small record), 4 KiB (a page) and
// 1 MiB (a large value / bulk hashing).
//
//   bazel run -c opt //bench/micro:hash_micro
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include "benchmark/benchmark.h"
#include "util/crc32c.h"
#include "xxhash.h"

namespace revkv {
namespace {

std::string RandomBytes(size_t n, uint64_t seed) {
  std::string s(n, '\0');
  std::mt19937_64 rng(seed);
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

void Sizes(benchmark::internal::Benchmark* b) {
  b->Arg(64)->Arg(4 << 10)->Arg(1 << 20);
}

// CRC-32C with the SSE4.2 instruction when the CPU has it (what HashKV uses):
// HashKV checksums every record of the key bucket.
void BM_Crc32c(benchmark::State& state) {
  const std::string data = RandomBytes(size_t(state.range(0)), 51);
  uint32_t crc = 0;
  for (auto _ : state) {
    crc = util::Crc32cExtend(crc, data);
    benchmark::DoNotOptimize(crc);
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Crc32c)->Apply(Sizes);

// CRC-32C, the portable table implementation (CPUs without SSE4.2).
void BM_Crc32cPortable(benchmark::State& state) {
  const std::string data = RandomBytes(size_t(state.range(0)), 52);
  uint32_t crc = 0;
  for (auto _ : state) {
    crc = util::Crc32cExtendPortable(crc, data);
    benchmark::DoNotOptimize(crc);
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Crc32cPortable)->Apply(Sizes);

// XXH3-64: the checksum of every btree page written at commit.
void BM_Xxh3(benchmark::State& state) {
  const std::string data = RandomBytes(size_t(state.range(0)), 53);
  for (auto _ : state) {
    XXH64_hash_t h = XXH3_64bits(data.data(), data.size());
    benchmark::DoNotOptimize(h);
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Xxh3)->Apply(Sizes);

}  // namespace
}  // namespace revkv
