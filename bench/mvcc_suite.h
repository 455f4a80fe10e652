// `revkv bench mvcc` and `revkv bench backend`: the store and backend layers
// measured against the btree beneath them, in the same run.
//
// mvcc (N keys of --key-size bytes, --value-size values, default backend
// batching with durable commits):
//   put-rand     each Put its own revision, keys in random order, into a
//                store of its own; ops/s
//   put          the same with keys in ascending order (as btree-seq-put
//                writes the same data); the store the rows below use
//   range-point  Range of one random key at the latest revision; ops/s
//   range-1000   Range over 1,000 consecutive keys; ranges/s
//   txn-put      write transactions of 4 puts; txns/s
//   compact      Compact at the revision of the last load put, until the
//                background deletes finish; seconds
//   hash-by-rev  HashByRev(0); seconds
//   restore      Store::Open over the reopened backend after a clean close
//                (it loads the index checkpoint); seconds, and the ratio to
//                a plain cursor scan of the key bucket
//   restore-rebuild  the same without the checkpoint, as after a crash:
//                the index rebuilt from every record
//   index        Index::MemoryBytes per key beyond the key bytes
// and, for the targets, the btree's own seq-put and random-get rates on the
// same data (btree-seq-put, btree-get-rand).
//
// backend:
//   put          UnsafePut through BatchTx, Lock/Unlock per put; ops/s
//   concurrent-read-tx  NewConcurrentReadTx + end while a writer runs; ops/s
//   concurrent-read     point UnsafeRange by --readers threads while a
//                writer puts; ops/s
//   defrag       Defrag while a writer puts: total time and the longest
//                write pause (DefragStats.pause)
#ifndef REVKV_BENCH_MVCC_SUITE_H_
#define REVKV_BENCH_MVCC_SUITE_H_

#include <string>
#include <vector>

namespace revkv::bench {

// Entry points: args are the words after `bench mvcc` / `bench backend`.
// Flags: --keys, --key-size, --value-size, --readers, --seed, --dir, --quick,
// --json. Returns the exit code.
int MvccSuiteMain(const std::vector<std::string>& args);
int BackendSuiteMain(const std::vector<std::string>& args);

}  // namespace revkv::bench

#endif  // REVKV_BENCH_MVCC_SUITE_H_
