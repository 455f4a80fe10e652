// The workloads of `revkv bench put|range|txn-put|mixed|suite`, run against a
// KvTarget (revkv's mvcc::Store or LMDB). Each fills a Sample: operations,
// wall time, per-operation latency (Histogram), operations over time
// (Timeline), the data file's size after, and the process's peak RSS while
// it ran (sysinfo.h). None keeps per-operation samples: memory is bounded
// whatever the count or duration.
//
// Keys come from a DataSet; `Loaded` says which of its keys the target holds
// (the first `count` of the load order) so that reads always hit.
//
// Thread-safety: each function runs on the calling thread (plus the reader
// threads Mixed starts and joins); do not run two on one target at once.
#ifndef REVKV_BENCH_STORE_WORKLOADS_H_
#define REVKV_BENCH_STORE_WORKLOADS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "bench/dataset.h"
#include "bench/kv_target.h"
#include "bench/progress.h"
#include "bench/report.h"

namespace revkv::bench {

// The keys a target holds: the first `count` keys of the load order
// (ascending when `sequential`, else DataSet::shuffled).
struct Loaded {
  const DataSet* data = nullptr;
  uint64_t count = 0;
  bool sequential = false;

  uint64_t Index(uint64_t j) const { return sequential ? j : data->shuffled[j]; }
};

// How long a time-boxed workload runs, or how many operations it does when
// `ops` is not zero (whichever ends first).
struct Budget {
  double seconds = 1.0;
  uint64_t ops = 0;
};

// put: keys [begin, end) of the load order, one Put each, then Flush (its
// time counts: the puts are durable when the workload ends). Latency per put.
absl::Status RunPut(KvTarget& t, const Loaded& keys, uint64_t begin, uint64_t end,
                    Progress& progress, const std::string& label, Sample* out);

// range-point: Get of a random loaded key, each in its own read transaction.
absl::Status RunRangePoint(KvTarget& t, const Loaded& keys, const Budget& b, uint64_t seed,
                           Progress& progress, const std::string& label, Sample* out);

// range-N: Range over `span` consecutive keys from a random start. Every
// range must return `span` keys when the whole data set is loaded.
absl::Status RunRangeSpan(KvTarget& t, const Loaded& keys, uint64_t span, const Budget& b,
                          uint64_t seed, Progress& progress, const std::string& label,
                          Sample* out);

// range-old (revkv): point reads at revision `rev`, of random keys among the
// first `visible` of the load order (those put at or before `rev`).
absl::Status RunRangeOld(KvTarget& t, const Loaded& keys, uint64_t visible, int64_t rev,
                         const Budget& b, uint64_t seed, Progress& progress,
                         const std::string& label, Sample* out);

// txn-put (revkv): write transactions of `ops_per_txn` puts of random loaded
// keys, each one revision. One operation = one transaction.
absl::Status RunTxnPut(KvTarget& t, const Loaded& keys, uint64_t ops_per_txn, const Budget& b,
                       uint64_t seed, Progress& progress, const std::string& label,
                       Sample* out);

// mixed: `readers` threads Get random loaded keys while this thread puts
// random loaded keys (overwrites), for the budget's seconds. Fills `reads`
// (all readers together) and `writes`.
absl::Status RunMixed(KvTarget& t, const Loaded& keys, uint64_t readers, const Budget& b,
                      uint64_t seed, Progress& progress, const std::string& label,
                      Sample* reads, Sample* writes);

// hash-by-rev (revkv): one HashByRev at the current revision.
absl::Status RunHashByRev(KvTarget& t, Progress& progress, const std::string& label,
                          Sample* out);
// base-build (revkv): one round of the key-ordered base now
// (mvcc/key_order_base.h), run between workloads so that the background
// thread's round never overlaps another measurement; n is the live keys.
absl::Status RunBaseBuild(KvTarget& t, Progress& progress, const std::string& label, Sample* out);
// compact (revkv): Compact at the current revision, until the background
// deletes have finished.
absl::Status RunCompact(KvTarget& t, Progress& progress, const std::string& label, Sample* out);

}  // namespace revkv::bench

#endif  // REVKV_BENCH_STORE_WORKLOADS_H_
