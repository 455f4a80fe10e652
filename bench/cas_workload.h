// `revkv bench cas`: compare-and-swap from many clients at once, each
// operation durable when it returns -- the load of a libkv user (libnetwork)
// whose goroutines each wait for their own write.
//
// One operation of one client: Get of one of its own keys, then a
// compare-and-swap of a new value against what it read, durable on return.
//   revkv  kvstore::RevkvStore::Open (the libkv store, owning its file):
//          Get, then AtomicPut(key, value, previous) -- an mvcc write txn
//          that checks the mod revision, then the backend's ForceCommit.
//   lmdb   a read txn (mdb_get), then a write txn that reads the key again,
//          compares it with what was read, mdb_put and mdb_txn_commit with
//          LMDB's default durability (two fdatasyncs per commit).
// The clients own disjoint keys (client c of C: the keys i with i % C == c,
// chosen at random among them), so no swap fails. Before each measurement
// the file is fresh and holds --keys keys (loaded in batches, not timed).
//
// Per client count (--clients, default 1,8,64) and engine: --duration
// seconds (default 2; --quick 0.25) of all clients at once; --rounds rounds
// (default 1), the engine that goes first alternating. A row per client count
// ("cas-8": 8 clients) with both engines' ops/s, latency percentiles of one
// operation and revkv/lmdb, printed by the shared Report formats (table,
// --json, --csv, --plot). --keys defaults to 10,000 (--quick: 1,000) and must
// be at least the largest client count.
//
// Thread-compatible: call from the main thread (it starts and joins the
// client threads).
#ifndef REVKV_BENCH_CAS_WORKLOAD_H_
#define REVKV_BENCH_CAS_WORKLOAD_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/flags.h"
#include "bench/progress.h"
#include "bench/report.h"

namespace revkv::bench {

struct CasOptions {
  CommonFlags common;
  std::vector<uint64_t> clients = {1, 8, 64};  // --clients 1,8,64
  uint64_t rounds = 1;                         // --rounds
  double duration_s = 2.0;                     // --duration, per client count and engine
  bool lmdb = true;                            // --lmdb=false: revkv only
};

absl::StatusOr<CasOptions> ParseCasFlags(const std::vector<std::string>& args);
absl::StatusOr<Report> RunCas(const CasOptions& o, Progress& progress);

extern const char kCasFlagsUsage[];

}  // namespace revkv::bench

#endif  // REVKV_BENCH_CAS_WORKLOAD_H_
