#include "bench/store_workloads.h"

#include <atomic>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "bench/measurement.h"
#include "mvcc/store.h"

namespace revkv::bench {
namespace {

// Ends a workload on `t`: the data file's size after it, then the peak RSS
// and the summary line.
void Finish(KvTarget& t, Measurement& m, Sample* out) {
  out->file_bytes = static_cast<double>(t.FileBytes());
  m.Finish(out);
}

bool Done(const Budget& b, uint64_t ops, uint64_t elapsed_ns) {
  if (b.ops != 0 && ops >= b.ops) return true;
  return b.seconds > 0 && elapsed_ns >= static_cast<uint64_t>(b.seconds * 1e9);
}

absl::Status NeedStore(KvTarget& t, const char* what) {
  if (t.store() == nullptr) {
    return absl::FailedPreconditionError(std::string(what) + " needs revkv's mvcc store");
  }
  return absl::OkStatus();
}

// Runs op() until the budget is spent, recording each call's latency and
// the timeline into *out, then the count and time. op returns an error to
// stop the run.
template <typename Op>
absl::Status TimedLoop(const Budget& b, Progress& progress, Sample* out, Op op) {
  const uint64_t t0 = MonotonicNs();
  uint64_t now = t0, ops = 0;
  while (!Done(b, ops, now - t0)) {
    const uint64_t a = now;
    if (absl::Status s = op(); !s.ok()) return s;
    now = MonotonicNs();
    out->latency.Record(now - a);
    out->timeline.Record(now - t0);
    progress.Update(++ops);
  }
  out->SetTime(ops, now - t0);
  return absl::OkStatus();
}

// A time-boxed workload from start to report: TimedLoop between the
// progress line's begin and the memory and file figures at the end.
template <typename Op>
absl::Status MeasuredLoop(KvTarget& t, Progress& progress, const std::string& label,
                          const Budget& b, Sample* out, Op op) {
  Measurement m(progress, label, b.ops, b.seconds);
  if (absl::Status s = TimedLoop(b, progress, out, op); !s.ok()) return s;
  Finish(t, m, out);
  return absl::OkStatus();
}

}  // namespace

absl::Status RunPut(KvTarget& t, const Loaded& keys, uint64_t begin, uint64_t end,
                    Progress& progress, const std::string& label, Sample* out) {
  Measurement m(progress, label, end - begin, 0);
  const DataSet& d = *keys.data;
  const uint64_t t0 = MonotonicNs();
  uint64_t last = t0;
  for (uint64_t j = begin; j < end; ++j) {
    const uint64_t k = keys.Index(j);
    if (absl::Status s = t.Put(d.Key(k), d.Value(k)); !s.ok()) return s;
    const uint64_t now = MonotonicNs();
    out->latency.Record(now - last);
    out->timeline.Record(now - t0);
    last = now;
    progress.Update(j - begin + 1);
  }
  if (absl::Status s = t.Flush(); !s.ok()) return s;
  out->SetTime(end - begin, MonotonicNs() - t0);
  Finish(t, m, out);
  return absl::OkStatus();
}

absl::Status RunRangePoint(KvTarget& t, const Loaded& keys, const Budget& b, uint64_t seed,
                           Progress& progress, const std::string& label, Sample* out) {
  std::mt19937_64 rng(seed);
  const DataSet& d = *keys.data;
  return MeasuredLoop(t, progress, label, b, out, [&]() -> absl::Status {
    size_t bytes = 0;
    if (absl::Status s = t.Get(d.Key(keys.Index(rng() % keys.count)), &bytes); !s.ok()) return s;
    if (bytes != d.value_size) return absl::DataLossError("range-point: value of the wrong size");
    return absl::OkStatus();
  });
}

absl::Status RunRangeSpan(KvTarget& t, const Loaded& keys, uint64_t span, const Budget& b,
                          uint64_t seed, Progress& progress, const std::string& label,
                          Sample* out) {
  const DataSet& d = *keys.data;
  if (span == 0 || span > d.n) return absl::InvalidArgumentError("--range-keys must be in [1, --keys]");
  std::mt19937_64 rng(seed);
  const bool full = keys.count == d.n;
  return MeasuredLoop(t, progress, label, b, out, [&]() -> absl::Status {
    const uint64_t start = rng() % (d.n - span + 1);
    const std::string end = d.EndKey(start + span);
    uint64_t count = 0;
    if (absl::Status s = t.Range(d.Key(start), end, span, &count); !s.ok()) return s;
    if (full && count != span) {
      return absl::DataLossError("range: " + std::to_string(count) + " keys, want " +
                                 std::to_string(span));
    }
    return absl::OkStatus();
  });
}

absl::Status RunRangeOld(KvTarget& t, const Loaded& keys, uint64_t visible, int64_t rev,
                         const Budget& b, uint64_t seed, Progress& progress,
                         const std::string& label, Sample* out) {
  if (absl::Status s = NeedStore(t, "range-old"); !s.ok()) return s;
  if (visible == 0) return absl::FailedPreconditionError("range-old: no key at that revision");
  mvcc::Store* st = t.store();
  std::mt19937_64 rng(seed);
  const DataSet& d = *keys.data;
  mvcc::RangeOptions o;
  o.rev = rev;
  return MeasuredLoop(t, progress, label, b, out, [&]() -> absl::Status {
    absl::StatusOr<mvcc::RangeResult> r = st->Range(d.Key(keys.Index(rng() % visible)), "", o);
    if (!r.ok()) return r.status();
    if (r->kvs.size() != 1) return absl::DataLossError("range-old: key missing at its revision");
    return absl::OkStatus();
  });
}

absl::Status RunTxnPut(KvTarget& t, const Loaded& keys, uint64_t ops_per_txn, const Budget& b,
                       uint64_t seed, Progress& progress, const std::string& label,
                       Sample* out) {
  if (absl::Status s = NeedStore(t, "txn-put"); !s.ok()) return s;
  if (keys.count == 0) return absl::FailedPreconditionError("txn-put: nothing loaded");
  mvcc::Store* st = t.store();
  Measurement m(progress, label, b.ops, b.seconds);
  std::mt19937_64 rng(seed);
  const DataSet& d = *keys.data;
  const uint64_t t0 = MonotonicNs();
  absl::Status s = TimedLoop(b, progress, out, [&]() -> absl::Status {
    absl::StatusOr<std::unique_ptr<mvcc::TxnWrite>> txn = st->Write();
    if (!txn.ok()) return txn.status();
    for (uint64_t i = 0; i < ops_per_txn; ++i) {
      absl::StatusOr<int64_t> r = (*txn)->Put(d.Key(keys.Index(rng() % keys.count)), d.Value(rng()));
      if (!r.ok()) return r.status();
    }
    return (*txn)->End();
  });
  if (!s.ok()) return s;
  if (absl::Status s = t.Flush(); !s.ok()) return s;
  // The time includes the final flush, as a put's throughput does.
  out->SetTime(uint64_t(out->n), MonotonicNs() - t0);
  Finish(t, m, out);
  return absl::OkStatus();
}

absl::Status RunMixed(KvTarget& t, const Loaded& keys, uint64_t readers, const Budget& b,
                      uint64_t seed, Progress& progress, const std::string& label,
                      Sample* reads, Sample* writes) {
  if (keys.count == 0) return absl::FailedPreconditionError("mixed: nothing loaded");
  if (b.seconds <= 0) return absl::InvalidArgumentError("mixed needs a duration");
  Measurement m(progress, label, 0, b.seconds);
  const DataSet& d = *keys.data;
  struct ReaderState {
    Histogram latency;
    Timeline timeline;
    uint64_t ops = 0;
    absl::Status error;
  };
  std::vector<ReaderState> state(readers);
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> read_ops{0};
  const uint64_t t0 = MonotonicNs();
  std::vector<std::thread> threads;
  for (uint64_t r = 0; r < readers; ++r) {
    threads.emplace_back([&, r] {
      ReaderState& rs = state[r];
      std::mt19937_64 rng(seed * 1000 + r + 1);
      uint64_t last = MonotonicNs();
      while (!stop.load(std::memory_order_relaxed)) {
        size_t bytes = 0;
        rs.error = t.Get(d.Key(keys.Index(rng() % keys.count)), &bytes);
        if (!rs.error.ok()) return;
        const uint64_t now = MonotonicNs();
        rs.latency.Record(now - last);
        rs.timeline.Record(now - t0);
        last = now;
        if ((++rs.ops & 127) == 0) read_ops.fetch_add(128, std::memory_order_relaxed);
      }
    });
  }
  std::mt19937_64 rng(seed ^ 0xBEEF);
  absl::Status werr;
  uint64_t puts = 0, now = MonotonicNs();
  const uint64_t limit = static_cast<uint64_t>(b.seconds * 1e9);
  while (now - t0 < limit) {
    const uint64_t a = now;
    werr = t.Put(d.Key(keys.Index(rng() % keys.count)), d.Value(rng()));
    if (!werr.ok()) break;
    now = MonotonicNs();
    writes->latency.Record(now - a);
    writes->timeline.Record(now - t0);
    ++puts;
    progress.Update(puts + read_ops.load(std::memory_order_relaxed));
  }
  stop.store(true);
  for (std::thread& th : threads) th.join();
  const uint64_t elapsed = MonotonicNs() - t0;
  if (werr.ok()) werr = t.Flush();
  if (!werr.ok()) return werr;
  uint64_t total = 0;
  for (ReaderState& rs : state) {
    if (!rs.error.ok()) return rs.error;
    reads->latency.Merge(rs.latency);
    reads->timeline.Merge(rs.timeline);
    total += rs.ops;
  }
  reads->SetTime(total, elapsed);
  writes->SetTime(puts, elapsed);
  reads->file_bytes = static_cast<double>(t.FileBytes());
  m.Finish(reads, writes);
  return absl::OkStatus();
}

absl::Status RunHashByRev(KvTarget& t, Progress& progress, const std::string& label,
                          Sample* out) {
  if (absl::Status s = NeedStore(t, "hash-by-rev"); !s.ok()) return s;
  Measurement m(progress, label, 1, 0);
  const uint64_t t0 = MonotonicNs();
  absl::StatusOr<mvcc::HashResult> h = t.store()->HashByRev(0);
  if (!h.ok()) return h.status();
  const uint64_t dt = MonotonicNs() - t0;
  out->latency.Record(dt);
  out->timeline.Record(dt);
  out->SetTime(1, dt);
  Finish(t, m, out);
  return absl::OkStatus();
}

absl::Status RunBaseBuild(KvTarget& t, Progress& progress, const std::string& label, Sample* out) {
  if (absl::Status s = NeedStore(t, "base-build"); !s.ok()) return s;
  mvcc::Store* st = t.store();
  const uint64_t keys = st->index().size();
  Measurement m(progress, label, 1, 0);
  const uint64_t t0 = MonotonicNs();
  absl::Status s = st->RebuildKeyOrderBase();
  if (mvcc::IsCompacted(s)) s = st->RebuildKeyOrderBase();  // a compaction passed it: again
  if (!s.ok()) return s;
  const uint64_t dt = MonotonicNs() - t0;
  out->latency.Record(dt);
  out->timeline.Record(dt);
  out->SetTime(keys, dt);
  Finish(t, m, out);
  return absl::OkStatus();
}

absl::Status RunCompact(KvTarget& t, Progress& progress, const std::string& label, Sample* out) {
  if (absl::Status s = NeedStore(t, "compact"); !s.ok()) return s;
  mvcc::Store* st = t.store();
  Measurement m(progress, label, 1, 0);
  const uint64_t t0 = MonotonicNs();
  if (absl::Status s = st->Compact(st->Rev()); !s.ok()) return s;
  if (absl::Status s = st->WaitCompaction(); !s.ok()) return s;
  const uint64_t dt = MonotonicNs() - t0;
  out->latency.Record(dt);
  out->timeline.Record(dt);
  out->SetTime(1, dt);
  Finish(t, m, out);
  return absl::OkStatus();
}

}  // namespace revkv::bench
