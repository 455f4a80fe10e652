// Micro-benchmarks of revkv's MVCC hot paths that need no storage (Google
// Benchmark): the in-memory key index (Get at the latest revision, Range over
// N keys), revision key encode/decode and KeyValue encode/decode.
//
//   bazel run -c opt //bench/micro:mvcc_micro -- --benchmark_filter=Index
//
// Keys are 16 bytes, values 128 bytes; random inputs use fixed seeds.
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "benchmark/benchmark.h"
#include "mvcc/index.h"
#include "mvcc/key_value.h"
#include "mvcc/revision.h"

namespace revkv::mvcc {
namespace {

constexpr size_t kKeySize = 16;
constexpr size_t kValueSize = 128;
constexpr uint64_t kIndexKeys = 100'000;  // Range's index; Get also runs at 1,000
constexpr int kPutsPerKey = 3;  // each key has a short history

std::string Key(uint64_t i) {
  char buf[kKeySize + 1];
  std::snprintf(buf, sizeof(buf), "%016llu", static_cast<unsigned long long>(i));
  return std::string(buf, kKeySize);
}

std::string Value(uint64_t seed) {
  std::string v(kValueSize, '\0');
  std::mt19937_64 rng(seed);
  for (char& c : v) c = static_cast<char>(rng());
  return v;
}

// An index of n keys, each put about kPutsPerKey times at increasing
// revisions, in random key order (as a workload would); built once per n.
struct LoadedIndex {
  Index index;
  int64_t rev = 0;  // the latest revision

  static const LoadedIndex& Get(uint64_t n) {
    static auto* loaded = new std::map<uint64_t, std::unique_ptr<LoadedIndex>>;
    std::unique_ptr<LoadedIndex>& l = (*loaded)[n];
    if (l != nullptr) return *l;
    l = std::make_unique<LoadedIndex>();
    std::mt19937_64 rng(41);
    for (int round = 0; round < kPutsPerKey - 1; ++round) {
      for (uint64_t i = 0; i < n; ++i) {
        const std::string k = Key(rng() % n);
        const Revision r{++l->rev, 0};
        l->index.FinishPut(k, r, l->index.BeginPut(k, r));
      }
    }
    // Every key exists.
    for (uint64_t i = 0; i < n; ++i) {
      const std::string k = Key(i);
      const Revision r{++l->rev, 0};
      l->index.FinishPut(k, r, l->index.BeginPut(k, r));
    }
    return *l;
  }
};

std::vector<std::string> RandomKeys(uint64_t n, size_t count, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> keys;
  keys.reserve(count);
  for (size_t i = 0; i < count; ++i) keys.push_back(Key(rng() % n));
  return keys;
}

// Index Get at the latest revision: every Range/Get request of a single key
// and every Put (to find the key's created revision and version) does this.
// Arg: keys in the index (1,000 fits in cache; 100,000 does not).
void BM_IndexGetLatest(benchmark::State& state) {
  const uint64_t n = state.range(0);
  const LoadedIndex& l = LoadedIndex::Get(n);
  const std::vector<std::string> keys = RandomKeys(n, 1 << 16, 42);
  size_t i = 0;
  for (auto _ : state) {
    KeyAt at;
    absl::Status s = l.index.Get(keys[i++ & 0xffff], l.rev, &at);
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(at);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_IndexGetLatest)->Arg(1'000)->Arg(kIndexKeys);

// Index Get of a key that is not in the index (a miss).
void BM_IndexGetMissing(benchmark::State& state) {
  const LoadedIndex& l = LoadedIndex::Get(kIndexKeys);
  std::vector<std::string> keys = RandomKeys(kIndexKeys, 1 << 16, 43);
  for (std::string& k : keys) k.back() = 'x';
  size_t i = 0;
  for (auto _ : state) {
    KeyAt at;
    absl::Status s = l.index.Get(keys[i++ & 0xffff], l.rev, &at);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_IndexGetMissing);

// Index Range over N consecutive keys from a random start at the latest
// revision: the first half of every range request. Items/s is keys/s.
void BM_IndexRange(benchmark::State& state) {
  const LoadedIndex& l = LoadedIndex::Get(kIndexKeys);
  const uint64_t n = state.range(0);
  std::mt19937_64 rng(44);
  std::vector<std::pair<std::string, std::string>> bounds;
  for (int i = 0; i < 1024; ++i) {
    uint64_t start = rng() % (kIndexKeys - n);
    bounds.emplace_back(Key(start), Key(start + n));
  }
  size_t i = 0;
  uint64_t seen = 0;
  for (auto _ : state) {
    const auto& [from, to] = bounds[i++ & 1023];
    l.index.Range(from, to, l.rev, [&](std::string_view k, const KeyAt& at) {
      benchmark::DoNotOptimize(k.data());
      benchmark::DoNotOptimize(at.modified);
      ++seen;
      return true;
    });
  }
  if (seen != state.iterations() * n) std::abort();
  state.SetItemsProcessed(int64_t(seen));
}
BENCHMARK(BM_IndexRange)->Arg(10)->Arg(1000);

// Revision encode: the 17-byte key of every record put into the key bucket.
void BM_RevisionEncode(benchmark::State& state) {
  std::string out;
  out.reserve(kMarkedRevBytes);
  std::mt19937_64 rng(45);
  std::vector<Revision> revs;
  for (int i = 0; i < 1024; ++i) revs.push_back(Revision{int64_t(rng() >> 1), int64_t(rng() % 8)});
  size_t i = 0;
  for (auto _ : state) {
    out.clear();
    AppendRevisionKey(revs[i++ & 1023], false, &out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RevisionEncode);

// Revision decode: parsing every key-bucket key on restore, range and compaction.
void BM_RevisionDecode(benchmark::State& state) {
  std::mt19937_64 rng(46);
  std::vector<std::string> keys;
  for (int i = 0; i < 1024; ++i) {
    keys.push_back(RevisionKey(Revision{int64_t(rng() >> 1), int64_t(rng() % 8)}, i % 16 == 0));
  }
  size_t i = 0;
  for (auto _ : state) {
    Revision rev;
    bool tombstone;
    bool ok = ParseRevisionKey(keys[i++ & 1023], &rev, &tombstone);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(rev);
    benchmark::DoNotOptimize(tombstone);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RevisionDecode);

KeyValue SampleKeyValue(uint64_t i) {
  KeyValue kv;
  kv.key = Key(i);
  kv.create_revision = int64_t(1'000'000 + i);
  kv.mod_revision = int64_t(5'000'000 + i);
  kv.version = 3;
  kv.value = Value(i);
  kv.lease = (i % 4 == 0) ? int64_t(0x1234567 + i) : 0;
  return kv;
}

// KeyValue encode: every put marshals one record (16-byte key, 128-byte value).
void BM_KeyValueEncode(benchmark::State& state) {
  std::vector<KeyValue> kvs;
  for (uint64_t i = 0; i < 64; ++i) kvs.push_back(SampleKeyValue(i));
  std::string out;
  size_t i = 0;
  int64_t bytes = 0;
  for (auto _ : state) {
    out.clear();
    EncodeKeyValue(kvs[i++ & 63], &out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
    bytes += int64_t(out.size());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(bytes);
}
BENCHMARK(BM_KeyValueEncode);

std::vector<std::string> EncodedKeyValues() {
  std::vector<std::string> out;
  for (uint64_t i = 0; i < 64; ++i) out.push_back(EncodeKeyValue(SampleKeyValue(i)));
  return out;
}

// KeyValue decode: every range read unmarshals each record it returns.
void BM_KeyValueDecode(benchmark::State& state) {
  const std::vector<std::string> encoded = EncodedKeyValues();
  KeyValue kv;  // reused, as a range loop would
  size_t i = 0;
  int64_t bytes = 0;
  for (auto _ : state) {
    const std::string& e = encoded[i++ & 63];
    absl::Status s = DecodeKeyValue(e, &kv);
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(kv.value.data());
    bytes += int64_t(e.size());
  }
  if (!DecodeKeyValue(encoded[0], &kv).ok()) std::abort();
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(bytes);
}
BENCHMARK(BM_KeyValueDecode);

// KeyValue header decode (key view, create revision, version): restoring the
// index at open decodes every record of the key bucket this way.
void BM_KeyValueDecodeHeader(benchmark::State& state) {
  const std::vector<std::string> encoded = EncodedKeyValues();
  size_t i = 0;
  for (auto _ : state) {
    std::string_view key;
    int64_t created = 0, version = 0;
    absl::Status s = DecodeKeyValueHeader(encoded[i++ & 63], &key, &created, &version);
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(key.data());
    benchmark::DoNotOptimize(created);
    benchmark::DoNotOptimize(version);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_KeyValueDecodeHeader);

}  // namespace
}  // namespace revkv::mvcc
