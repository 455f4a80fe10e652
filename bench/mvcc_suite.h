// `revkv bench mvcc` and `revkv bench backend`: the store and backend layers
// measured against the btree beneath them, in the same run (revkv only).
//
// mvcc (N keys of --key-size bytes, --value-size values, default backend
// batching with durable commits):
//   btree-seq-put   the btree's own rate on the same data: N keys in
//                   ascending order, 10,000 puts per durable write txn
//   btree-get-rand  the btree's random point gets, one read txn
//   put-rand     each Put its own revision, keys in random order, into a
//                store of its own; ops/s
//   index        Index::MemoryBytes per key beyond the key bytes, with every
//                key at one revision
//   put          the same with keys in ascending order (as btree-seq-put
//                writes the same data); the store the rows below use
//   range-point  Range of one random key at the latest revision; ops/s
//   range-1000   Range over 1,000 consecutive keys; ranges/s
//   txn-put      write transactions of 4 puts; txns/s
//   hash-by-rev  HashByRev(0); seconds
//   compact      Compact at the revision of the last load put, until the
//                background deletes finish; seconds
//   restore      opening the store after a clean close (it loads the index
//                checkpoint); seconds, and the ratio to a plain cursor scan
//                of the key bucket
//   restore-rebuild  the same without the checkpoint, as after a crash:
//                the index rebuilt from every record
// btree-seq-put, btree-get-rand, put and range-point run in 3 rounds (--quick:
// 1), each on fresh files; put's and range-point's notes give the median of
// the per-round ratios to the btree's rates.
//
// backend:
//   put          UnsafePut through BatchTx, Lock/Unlock per put; ops/s
//   concurrent-read-tx  NewConcurrentReadTx + end while a writer runs; ops/s
//   concurrent-read     point UnsafeRange by --readers threads while a
//                writer puts; ops/s
//   defrag       Defrag while a writer puts: total time and the longest
//                write pause (DefragStats.pause)
//
// Thread-compatible: call from one thread.
#ifndef REVKV_BENCH_MVCC_SUITE_H_
#define REVKV_BENCH_MVCC_SUITE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/flags.h"
#include "bench/progress.h"
#include "bench/report.h"

namespace revkv::bench {

// The common flags alone (no --rounds); --quick loads 20,000 keys unless
// --keys is given.
absl::StatusOr<CommonFlags> ParseLayerFlags(const std::vector<std::string>& args);

absl::StatusOr<Report> RunMvccSuite(const CommonFlags& flags, Progress& progress);
absl::StatusOr<Report> RunBackendSuite(const CommonFlags& flags, Progress& progress);

// The line above both tables: what was loaded.
std::string LayerHeader(const char* suite, const CommonFlags& f);

}  // namespace revkv::bench

#endif  // REVKV_BENCH_MVCC_SUITE_H_
