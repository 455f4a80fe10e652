// Micro-benchmarks of revkv's btree operations (Google Benchmark): point
// get, cursor seek and put inside one transaction, the cost of a read
// transaction, and a batch commit. (Page search, cursor next and node split:
// btree_micro.cc.)
//
//   bazel run -c opt //bench/micro:btree_ops_micro -- --benchmark_filter=Get
//
// Each benchmark's argument is the number of keys in the file (16-byte keys,
// 128-byte values). Files are loaded once per size with no_sync (loading is
// not what is measured) under $TMPDIR and removed at exit.

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "bench/micro/btree_fixture.h"
#include "btree/db.h"

namespace revkv::btree {
namespace {

using micro::BeginWrite;
using micro::Die;
using micro::Files;
using micro::Key;
using micro::kKeySize;
using micro::kValueSize;
using micro::LoadAscending;
using micro::Value;


std::vector<std::string> RandomKeys(uint64_t n, size_t count, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> keys;
  keys.reserve(count);
  for (size_t i = 0; i < count; ++i) keys.push_back(Key(rng() % n));
  return keys;
}

// Point get of a random existing key in a long read transaction.
void BM_Get(benchmark::State& state) {
  const uint64_t n = state.range(0);
  DB* db = Files::Get().Loaded(n);
  const std::vector<std::string> keys = RandomKeys(n, 1 << 16, 7);
  std::unique_ptr<Tx> tx;
  Bucket* b = micro::Begin(*db, /*writable=*/false, &tx);
  size_t i = 0;
  for (auto _ : state) {
    std::string_view v;
    absl::Status s = b->Get(keys[i++ & (keys.size() - 1)], &v);
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(v.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Get)->Arg(10'000)->Arg(1'000'000);

// Get of a missing key (between two existing ones).
void BM_GetMissing(benchmark::State& state) {
  const uint64_t n = state.range(0);
  DB* db = Files::Get().Loaded(n);
  std::vector<std::string> keys = RandomKeys(n, 1 << 16, 8);
  for (std::string& k : keys) k += "x";
  std::unique_ptr<Tx> tx;
  Bucket* b = micro::Begin(*db, /*writable=*/false, &tx);
  size_t i = 0;
  for (auto _ : state) {
    std::string_view v;
    absl::Status s = b->Get(keys[i++ & (keys.size() - 1)], &v);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GetMissing)->Arg(1'000'000);

// Begin a read transaction, open the bucket, end it.
void BM_ReadTx(benchmark::State& state) {
  DB* db = Files::Get().Loaded(state.range(0));
  for (auto _ : state) {
    auto tx = db->Begin(false);
    if (!tx.ok()) Die(tx.status(), "begin");
    auto b = (*tx)->GetBucket("bench");
    benchmark::DoNotOptimize(b);
    (*tx)->Rollback();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ReadTx)->Arg(10'000);

// Begin + one get + end, as a View() per request does.
void BM_ReadTxGet(benchmark::State& state) {
  const uint64_t n = state.range(0);
  DB* db = Files::Get().Loaded(n);
  const std::vector<std::string> keys = RandomKeys(n, 1 << 16, 9);
  size_t i = 0;
  for (auto _ : state) {
    std::unique_ptr<Tx> tx;
    Bucket* b = micro::Begin(*db, /*writable=*/false, &tx);
    std::string_view v;
    absl::Status s = b->Get(keys[i++ & (keys.size() - 1)], &v);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ReadTxGet)->Arg(1'000'000);

// Cursor Seek to a random key.
void BM_CursorSeek(benchmark::State& state) {
  const uint64_t n = state.range(0);
  DB* db = Files::Get().Loaded(n);
  const std::vector<std::string> keys = RandomKeys(n, 1 << 16, 10);
  std::unique_ptr<Tx> tx;
  Bucket* b = micro::Begin(*db, /*writable=*/false, &tx);
  Cursor c = b->NewCursor();
  size_t i = 0;
  for (auto _ : state) {
    c.Seek(keys[i++ & (keys.size() - 1)]);
    benchmark::DoNotOptimize(c.value().data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CursorSeek)->Arg(1'000'000);

// Put inside one write transaction: overwrites of random existing keys. The
// transaction is rolled back (untimed) every 10,000 puts to bound its size.
void BM_PutRandomInTx(benchmark::State& state) {
  const uint64_t n = state.range(0);
  DB* db = Files::Get().Loaded(n);
  const std::vector<std::string> keys = RandomKeys(n, 1 << 16, 11);
  const std::string value = Value(2);
  std::unique_ptr<Tx> tx;
  Bucket* b = nullptr;
  auto begin = [&] { BeginWrite(*db, &tx, &b); };
  begin();
  size_t i = 0, in_tx = 0;
  for (auto _ : state) {
    absl::Status s = b->Put(keys[i++ & (keys.size() - 1)], value);
    if (!s.ok()) Die(s, "put");
    if (++in_tx == 10'000) {
      state.PauseTiming();
      tx->Rollback();
      begin();
      in_tx = 0;
      state.ResumeTiming();
    }
  }
  tx->Rollback();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PutRandomInTx)->Arg(1'000'000);

// Put of ascending new keys (appends) inside one write transaction, into an
// empty file; rolled back (untimed) every 10,000 puts.
void BM_PutAppendInTx(benchmark::State& state) {
  std::unique_ptr<DB> db = Files::Get().Fresh();
  const std::string value = Value(3);
  std::vector<std::string> keys;
  for (uint64_t i = 0; i < 10'000; ++i) keys.push_back(Key(i));
  std::unique_ptr<Tx> tx;
  Bucket* b = nullptr;
  auto begin = [&] { BeginWrite(*db, &tx, &b); };
  begin();
  size_t in_tx = 0;
  for (auto _ : state) {
    absl::Status s = b->Put(keys[in_tx], value);
    if (!s.ok()) Die(s, "put");
    if (++in_tx == keys.size()) {
      state.PauseTiming();
      tx->Rollback();
      begin();
      in_tx = 0;
      state.ResumeTiming();
    }
  }
  tx->Rollback();
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PutAppendInTx);

// A whole write transaction of 1,000 random overwrites, committed without
// fsync (no_sync): the cost of copy-on-write and page writes.
void BM_CommitBatchNoSync(benchmark::State& state) {
  const uint64_t n = state.range(0);
  DB* db = Files::Get().Loaded(n);
  std::mt19937_64 rng(12);
  const std::string value = Value(4);
  for (auto _ : state) {
    absl::Status s = db->Update([&](Tx& tx) -> absl::Status {
      auto b = tx.GetBucket("bench");
      if (!b.ok()) return b.status();
      for (int i = 0; i < 1000; ++i) {
        if (absl::Status s = (*b)->Put(Key(rng() % n), value); !s.ok()) return s;
      }
      return absl::OkStatus();
    });
    if (!s.ok()) Die(s, "commit");
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_CommitBatchNoSync)->Arg(1'000'000)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace revkv::btree
