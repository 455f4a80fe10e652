// Micro-benchmarks of revkv's btree hot paths (Google Benchmark): the binary
// search of a key inside one 4 KiB leaf or branch page, a full scan with
// btree::Cursor::Next, and node splits at commit.
//
//   bazel run -c opt //bench/micro:btree_micro -- --benchmark_filter=PageSearch
//
// Keys are 16 bytes, values 128 bytes, pages 4 KiB (the default). Random
// inputs use fixed seeds. Files live in a temp dir removed at exit.

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "benchmark/benchmark.h"
#include "bench/micro/btree_fixture.h"
#include "btree/db.h"
#include "btree/node.h"
#include "btree/page.h"

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

constexpr size_t kPageSize = kDefaultPageSize;  // 4 KiB

// ---------------------------------------------------------------------------
// Pages built by hand in the on-disk layout of page.h (what Node::Write
// produces): header, 16-byte elements, then each key (and leaf value).

struct Page {
  std::vector<char> bytes = std::vector<char>(kPageSize, 0);
  std::vector<std::string> keys;  // in page order
  NodeView view() const { return NodeView(bytes.data(), bytes.size()); }
};

// A page holding as many consecutive keys (every 2nd number, so that misses
// fall between them) as fit: 25 leaf elements or 127 branch elements.
Page BuildPage(bool leaf) {
  Page p;
  const size_t el_bytes = 16 + kKeySize + (leaf ? kValueSize : 0);
  const size_t n = (kPageSize - sizeof(PageHeader)) / el_bytes;
  const std::string value = Value(1);
  PageHeader* h = Header(p.bytes.data());
  h->id = 2;
  h->kind = uint16_t(leaf ? PageKind::kLeaf : PageKind::kBranch);
  h->count = uint32_t(n);
  char* elem = p.bytes.data() + sizeof(PageHeader);
  char* data = elem + n * 16;
  for (size_t i = 0; i < n; ++i) {
    p.keys.push_back(Key(2 * i + 2));
    const uint32_t pos = uint32_t(data - elem);
    if (leaf) {
      LeafElement el{0, pos, uint32_t(kKeySize), uint32_t(kValueSize)};
      std::memcpy(elem, &el, sizeof el);
    } else {
      BranchElement el{pos, uint32_t(kKeySize), pgid_t(100 + i)};
      std::memcpy(elem, &el, sizeof el);
    }
    std::memcpy(data, p.keys.back().data(), kKeySize);
    data += kKeySize;
    if (leaf) {
      std::memcpy(data, value.data(), kValueSize);
      data += kValueSize;
    }
    elem += 16;
  }
  SealPage(p.bytes.data(), p.bytes.size());
  return p;
}

// Random probe keys for a page: hits (existing keys) or misses (between two).
std::vector<std::string> Probes(const Page& p, bool hits, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<std::string> out;
  for (int i = 0; i < 1024; ++i) {
    uint64_t k = 2 * (rng() % p.keys.size()) + 2;
    out.push_back(Key(hits ? k : k + 1));
  }
  return out;
}

// The in-page binary search of Cursor::SeekInternal over a page of the
// mapping (leaf: first key >= key; branch: last key <= key), which is
// private to the cursor and so mirrored here.
int SearchPage(const NodeView& page, std::string_view key) {
  const bool leaf = page.is_leaf();
  int lo = 0, hi = int(page.count());
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    std::string_view k;
    if (!page.KeyAt(uint32_t(mid), &k)) std::abort();
    if (leaf ? (k < key) : (k <= key)) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return leaf ? lo : std::max(0, lo - 1);
}

// Page search: binary search of a key within one 4 KiB page, as every Get,
// Seek and Put does once per tree level. Arg 0: leaf page, 1: branch page.
void BM_PageSearch(benchmark::State& state) {
  const Page page = BuildPage(state.range(0) == 0);
  const NodeView view = page.view();
  const std::vector<std::string> probes = Probes(page, true, 21);
  size_t i = 0;
  for (auto _ : state) {
    int idx = SearchPage(view, probes[i++ & 1023]);
    benchmark::DoNotOptimize(idx);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(state.range(0) == 0 ? "leaf, 25 keys" : "branch, 127 keys");
}
BENCHMARK(BM_PageSearch)->Arg(0)->Arg(1);

// Page search of absent keys (between two existing ones): a Put of a new key.
void BM_PageSearchMiss(benchmark::State& state) {
  const Page page = BuildPage(state.range(0) == 0);
  const NodeView view = page.view();
  const std::vector<std::string> probes = Probes(page, false, 22);
  size_t i = 0;
  for (auto _ : state) {
    int idx = SearchPage(view, probes[i++ & 1023]);
    benchmark::DoNotOptimize(idx);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PageSearchMiss)->Arg(0)->Arg(1);

// Node::LowerBound: the same search over a node materialized from the page,
// which a write transaction does for every Put into a page it changed.
void BM_NodeLowerBound(benchmark::State& state) {
  const bool leaf = state.range(0) == 0;
  const Page page = BuildPage(leaf);
  Node node(nullptr, leaf, nullptr);  // Read and LowerBound need no bucket
  if (absl::Status s = node.Read(page.view()); !s.ok()) Die(s, "node read");
  const std::vector<std::string> probes = Probes(page, true, 23);
  size_t i = 0;
  for (auto _ : state) {
    size_t idx = node.LowerBound(probes[i++ & 1023]);
    benchmark::DoNotOptimize(idx);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_NodeLowerBound)->Arg(0)->Arg(1);

// Cursor next: a full scan of the bucket with First/Next in one read
// transaction, as Range, compaction and HashKV walk the key bucket. One
// iteration is one whole scan; items/s is keys/s.
void BM_CursorNextScan(benchmark::State& state) {
  const uint64_t n = state.range(0);
  std::unique_ptr<Tx> tx;
  Bucket* b = micro::Begin(*Files::Get().Loaded(n), /*writable=*/false, &tx);
  uint64_t seen = 0;
  for (auto _ : state) {
    Cursor c = b->NewCursor();
    for (c.First(); c.Valid(); c.Next()) {
      benchmark::DoNotOptimize(c.key().data());
      benchmark::DoNotOptimize(c.value().data());
      ++seen;
    }
  }
  if (seen != state.iterations() * n) Die(absl::InternalError("short scan"), "scan");
  state.SetItemsProcessed(int64_t(seen));
  // Wall time per key (printed as e.g. "5.1ns").
  state.counters["per_key"] = benchmark::Counter(
      double(seen), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_CursorNextScan)->Arg(10'000)->Arg(100'000)->Unit(benchmark::kMicrosecond);

// Node split: Split is private to Node, so this goes through a write
// transaction. Untimed: a fresh bucket gets `n` puts in shuffled order (so
// nodes split at the default 50% fill, not full as appends do). Timed: the
// commit, which spills the one root leaf: split to pages, new branch root,
// page writes (no fsync). Arg 25: the leaf fits one 4 KiB page (no split, the
// baseline); 26: one full node splits in two; 1000: one node splits into ~80.
// Commits split every node a batch overfilled, so this is on every write path.
void BM_NodeSplitCommit(benchmark::State& state) {
  const int n = int(state.range(0));
  std::unique_ptr<DB> db = Files::Get().Open("split-" + std::to_string(n));
  std::vector<std::string> keys;
  for (int i = 0; i < n; ++i) keys.push_back(Key(uint64_t(i)));
  std::mt19937_64 rng(31);
  std::shuffle(keys.begin(), keys.end(), rng);
  const std::string value = Value(3);
  for (auto _ : state) {
    state.PauseTiming();
    auto tx = db->Begin(true);
    if (!tx.ok()) Die(tx.status(), "begin");
    // The previous iteration's (or previous run's: Google Benchmark calls
    // this function more than once on the same file) bucket.
    if (absl::Status s = (*tx)->DeleteBucket("split"); !s.ok() && !absl::IsNotFound(s)) {
      Die(s, "delete bucket");
    }
    auto b = (*tx)->CreateBucket("split");
    if (!b.ok()) Die(b.status(), "create bucket");
    for (const std::string& k : keys) {
      if (absl::Status s = (*b)->Put(k, value); !s.ok()) Die(s, "put");
    }
    state.ResumeTiming();
    absl::Status s = (*tx)->Commit();
    if (!s.ok()) Die(s, "commit");
  }
  state.SetItemsProcessed(state.iterations());
  // Shows the split happened: the leaf pages the committed bucket ended with.
  std::unique_ptr<Tx> read;
  absl::StatusOr<BucketStats> st = micro::Begin(*db, /*writable=*/false, &read, "split")->Stats();
  if (!st.ok()) Die(st.status(), "stats");
  state.counters["leaf_pages"] = double(st->leaf_pages);
}
BENCHMARK(BM_NodeSplitCommit)->Arg(25)->Arg(26)->Arg(1000)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace revkv::btree
