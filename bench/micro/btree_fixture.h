// What the btree micro-benchmarks share: their keys and values, failing
// loudly, loading a bucket, and opening a write transaction on it.
//
// Thread-compatible (the benchmarks run single-threaded).
#ifndef REVKV_BENCH_MICRO_BTREE_FIXTURE_H_
#define REVKV_BENCH_MICRO_BTREE_FIXTURE_H_

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>

#include "btree/db.h"

namespace revkv::btree::micro {

inline constexpr size_t kKeySize = 16;
inline constexpr size_t kValueSize = 128;

// Key i: the decimal i zero-padded to 16 bytes, so key order is index order.
inline std::string Key(uint64_t i) {
  char buf[24];  // room for any uint64
  std::snprintf(buf, sizeof(buf), "%016llu", static_cast<unsigned long long>(i));
  return std::string(buf, kKeySize);
}

// 128 random bytes, the same for the same seed.
inline std::string Value(uint64_t seed) {
  std::string v(kValueSize, '\0');
  std::mt19937_64 rng(seed);
  for (char& c : v) c = static_cast<char>(rng());
  return v;
}

[[noreturn]] inline void Die(const absl::Status& s, const char* what) {
  std::fprintf(stderr, "btree micro-benchmark: %s: %s\n", what, s.ToString().c_str());
  std::abort();
}

// Puts keys [0, n) with `value` into bucket "bench", 10,000 per commit.
inline void LoadAscending(DB& db, uint64_t n, const std::string& value) {
  for (uint64_t start = 0; start < n; start += 10'000) {
    absl::Status s = db.Update([&](Tx& tx) -> absl::Status {
      absl::StatusOr<Bucket*> b = tx.CreateBucketIfNotExists("bench");
      if (!b.ok()) return b.status();
      for (uint64_t i = start; i < std::min(n, start + 10'000); ++i) {
        if (absl::Status s = (*b)->Put(Key(i), value); !s.ok()) return s;
      }
      return absl::OkStatus();
    });
    if (!s.ok()) Die(s, "load");
  }
}

// Begins a write transaction into *tx and sets *bucket to its "bench".
inline void BeginWrite(DB& db, std::unique_ptr<Tx>* tx, Bucket** bucket) {
  absl::StatusOr<std::unique_ptr<Tx>> t = db.Begin(true);
  if (!t.ok()) Die(t.status(), "begin");
  *tx = *std::move(t);
  absl::StatusOr<Bucket*> b = (*tx)->GetBucket("bench");
  if (!b.ok()) Die(b.status(), "bucket");
  *bucket = *b;
}

}  // namespace revkv::btree::micro

#endif  // REVKV_BENCH_MICRO_BTREE_FIXTURE_H_
