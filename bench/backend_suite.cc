// `revkv bench backend` (mvcc_suite.h): the backend beneath the store, with
// a writer running during the read and defrag measurements.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "backend/backend.h"
#include "bench/dataset.h"
#include "bench/measurement.h"
#include "bench/mvcc_suite.h"
#include "bench/sysinfo.h"

namespace revkv::bench {
namespace {

// See measurement.h: no reset, so that no malloc_trim disturbs the timings.
constexpr PeakRss kPeak = PeakRss::kProcess;

constexpr char kBucket[] = "bench";

// Random overwrites through BatchTx, Lock/UnsafePut/Unlock each, from
// construction until destruction; tracks the longest gap between two puts.
class Writer {
 public:
  Writer(backend::Backend& b, const DataSet& d, uint64_t seed)
      : thread_([this, &b, &d, seed] { Run(b, d, seed); }) {}
  ~Writer() {
    stop_ = true;
    thread_.join();
  }
  // Starts a new longest gap; returns the longest since the last call, in ns.
  uint64_t TakeLongestGap() { return longest_.exchange(0); }

 private:
  void Run(backend::Backend& b, const DataSet& d, uint64_t seed) {
    std::mt19937_64 rng(seed);
    uint64_t last = MonotonicNs();
    while (!stop_.load()) {
      const uint64_t i = rng() % d.n;
      b.batch_tx().Lock();
      b.batch_tx().UnsafePut(kBucket, d.Key(i), d.Value(i)).IgnoreError();
      b.batch_tx().Unlock();
      const uint64_t now = MonotonicNs(), gap = now - last;
      uint64_t cur = longest_.load();
      while (gap > cur && !longest_.compare_exchange_weak(cur, gap)) {
      }
      last = now;
    }
  }

  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> longest_{0};
  std::thread thread_;  // last: starts once the atomics exist
};

class BackendBench {
 public:
  BackendBench(const CommonFlags& f, const DataSet& d, backend::Backend& b, Progress& p)
      : f_(f), d_(d), b_(b), p_(p) {}

  absl::Status Run() {
    if (absl::Status s = Put(); !s.ok()) return s;
    Writer writer(b_, d_, f_.seed + 1);
    if (absl::Status s = ReadTx(); !s.ok()) return s;
    ConcurrentRead();
    writer.TakeLongestGap();
    return Defrag(writer);
  }

  const Samples& samples() const { return samples_; }
  const std::string& defrag_note() const { return defrag_note_; }

 private:
  Sample& Slot(const char* workload) { return NewSample(&samples_, workload, "revkv"); }

  // put: every key in order, Lock/UnsafePut/Unlock each, then a commit.
  absl::Status Put() {
    Sample& s = Slot("put");
    Measurement m(p_, "put", d_.n, 0, kPeak);
    backend::BatchTx& tx = b_.batch_tx();
    tx.Lock();
    absl::Status e = tx.UnsafeCreateBucket(kBucket);
    tx.Unlock();
    if (!e.ok()) return e;
    const uint64_t t0 = MonotonicNs();
    for (uint64_t i = 0; i < d_.n; ++i) {
      tx.Lock();
      e = tx.UnsafePut(kBucket, d_.Key(i), d_.Value(i));
      tx.Unlock();
      if (!e.ok()) return e;
      p_.Update(i + 1);
    }
    if (absl::Status c = b_.ForceCommit(); !c.ok()) return c;
    s.SetTime(d_.n, MonotonicNs() - t0);
    s.file_bytes = static_cast<double>(b_.Size());
    m.Finish(&s);
    return absl::OkStatus();
  }

  // concurrent-read-tx: taking and ending a read view.
  absl::Status ReadTx() {
    const uint64_t views = f_.quick ? 20'000 : 200'000;
    Sample& s = Slot("concurrent-read-tx");
    Measurement m(p_, "concurrent-read-tx", views, 0, kPeak);
    const uint64_t t0 = MonotonicNs();
    for (uint64_t i = 0; i < views; ++i) {
      const uint64_t a = MonotonicNs();
      absl::StatusOr<std::unique_ptr<backend::ConcurrentReadTx>> view = b_.NewConcurrentReadTx();
      if (!view.ok()) return view.status();
      view->reset();
      const uint64_t b = MonotonicNs();
      s.latency.Record(b - a);
      s.timeline.Record(b - t0);
    }
    s.SetTime(views, MonotonicNs() - t0);
    m.Finish(&s);
    return absl::OkStatus();
  }

  // concurrent-read: --readers threads of point UnsafeRange, a view per
  // 1,000, for 5 s (--quick: 1 s).
  void ConcurrentRead() {
    const double duration = f_.quick ? 1.0 : 5.0;
    Sample& s = Slot("concurrent-read");
    Measurement m(p_, "concurrent-read", 0, duration, kPeak);
    std::atomic<uint64_t> reads{0};
    std::vector<std::thread> readers;
    const uint64_t t0 = MonotonicNs(), end = t0 + static_cast<uint64_t>(duration * 1e9);
    for (uint64_t r = 0; r < f_.readers; ++r) {
      readers.emplace_back([&, r] {
        std::mt19937_64 rng(f_.seed + 10 + r);
        while (MonotonicNs() < end) {
          auto view = b_.NewConcurrentReadTx();
          if (!view.ok()) return;
          for (int i = 0; i < 1000; ++i) {
            if ((*view)->UnsafeRange(kBucket, d_.Key(rng() % d_.n), "", 0).ok()) reads++;
          }
        }
      });
    }
    for (std::thread& t : readers) t.join();
    s.SetTime(reads.load(), MonotonicNs() - t0);
    m.Finish(&s);
  }

  // defrag: the total time, and the pause it imposed on the writer.
  absl::Status Defrag(Writer& writer) {
    Sample& s = Slot("defrag");
    Measurement m(p_, "defrag", 1, 0, kPeak);
    backend::DefragStats ds;
    const uint64_t t0 = MonotonicNs();
    if (absl::Status e = b_.Defrag(&ds); !e.ok()) return e;
    s.SetTime(1, MonotonicNs() - t0);
    const double gap_ms = writer.TakeLongestGap() / 1e6;
    s.file_bytes = static_cast<double>(b_.Size());
    m.Finish(&s);
    const double pause = std::chrono::duration<double>(ds.pause).count();
    char note[160];
    std::snprintf(note, sizeof(note),
                  "pause %.1f ms = %.1f%% of %.3f s; longest writer gap %.1f ms", pause * 1e3,
                  100.0 * pause / s.seconds, s.seconds, gap_ms);
    defrag_note_ = note;
    return absl::OkStatus();
  }

  const CommonFlags& f_;
  const DataSet& d_;
  backend::Backend& b_;
  Progress& p_;
  Samples samples_;
  std::string defrag_note_;
};

}  // namespace

absl::StatusOr<Report> RunBackendSuite(const CommonFlags& f, Progress& progress) {
  absl::StatusOr<DataSet> data = MakeDataSet(f.keys, f.key_size, f.value_size, f.seed);
  if (!data.ok()) return data.status();
  absl::StatusOr<std::unique_ptr<WorkDir>> dir = WorkDir::Create(f.dir);
  if (!dir.ok()) return dir.status();
  absl::StatusOr<std::string> sub = (*dir)->Fresh("backend");
  if (!sub.ok()) return sub.status();
  backend::BackendConfig cfg = backend::DefaultBackendConfig();
  cfg.path = *sub + "/backend.db";
  absl::StatusOr<std::unique_ptr<backend::Backend>> b = backend::Backend::Open(cfg);
  if (!b.ok()) return b.status();

  Report report;
  report.suite = "backend";
  report.header = {LayerHeader("backend", f)};
  AnnounceRun(**dir, progress, &report);
  BackendBench bench(f, *data, **b, progress);
  absl::Status s = bench.Run();
  absl::Status c = (*b)->Close();
  (*dir)->Remove("backend");
  if (!s.ok()) return s;
  if (!c.ok()) return c;
  report.rows = MakeRows(
      "backend", bench.samples(),
      {{"put", "Lock/UnsafePut/Unlock, default interval and limit"},
       {"concurrent-read-tx", "create + end, writer running"},
       {"concurrent-read",
        std::to_string(f.readers) + " readers, point UnsafeRange, view per 1,000"},
       {"defrag", bench.defrag_note()}});
  report.footer = {"peak RSS: the process's peak resident memory up to the end of the workload."};
  return report;
}

}  // namespace revkv::bench
