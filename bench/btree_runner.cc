#include "bench/btree_runner.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <random>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "bench/measurement.h"

namespace revkv::bench {

absl::StatusOr<BtreeData> MakeBtreeData(const CommonFlags& c, uint64_t gets) {
  absl::StatusOr<DataSet> data = MakeDataSet(c.keys, c.key_size, c.value_size, c.seed);
  if (!data.ok()) return data.status();
  BtreeData d;
  static_cast<DataSet&>(d) = *std::move(data);
  std::mt19937_64 rng(c.seed ^ 0x5175657269657321ull);  // the gets' own stream
  d.queries.resize(gets);
  for (uint64_t i = 0; i < gets; ++i) d.queries[i] = static_cast<uint32_t>(rng() % d.n);
  return d;
}

namespace {

// What the gets and scans read, summed so that the reads cannot be
// optimized away.
std::atomic<uint64_t> g_sink{0};

uint64_t Touch(std::string_view v) {
  return static_cast<unsigned char>(v[0]) + static_cast<unsigned char>(v.back());
}

class Runner {
 public:
  Runner(const BtreeSuiteOptions& o, const BtreeData& d, Engine& e, uint64_t round, Progress& p,
         Samples* samples)
      : o_(o), d_(d), e_(e), round_(round), p_(p), samples_(samples) {}

  absl::Status Run(const WorkDir& dir) {
    if (absl::Status s = InFreshDir(dir, "-seq", &Runner::SeqFile); !s.ok()) return s;
    return InFreshDir(dir, "-rand", &Runner::RandFile);
  }

 private:
  // Opens the engine in a fresh subdirectory, runs `body`, closes the
  // engine and removes the subdirectory.
  absl::Status InFreshDir(const WorkDir& dir, const char* suffix, absl::Status (Runner::*body)()) {
    const std::string name = std::string(e_.name()) + suffix;
    absl::StatusOr<std::string> path = dir.Fresh(name);
    if (!path.ok()) return path.status();
    absl::Status s = e_.Open(*path);
    s = s.ok() ? (this->*body)() : Fail("open", s);
    e_.Close();
    dir.Remove(name);
    return s;
  }

  // seq-put, and file-size-seq: the size of the file it wrote.
  absl::Status SeqFile() {
    Sample& put = Slot("seq-put");
    if (absl::Status s = Load(/*random=*/false, &put); !s.ok()) return Fail("seq-put", s);
    Sample& f = Slot("file-size-seq");
    f.n = static_cast<double>(d_.n);
    f.file_bytes = put.file_bytes;
    f.peak_rss_bytes = put.peak_rss_bytes;
    p_.Line(SampleSummary(Label("file-size-seq"), f));
    return absl::OkStatus();
  }

  // rand-put, then the read and update workloads on that file.
  absl::Status RandFile() {
    absl::Status s = Load(/*random=*/true, &Slot("rand-put"));
    if (!s.ok()) return Fail("rand-put", s);
    FileSizeNow();
    if (s = Gets(1000, &Slot("get-rand")); !s.ok()) return Fail("get-rand", s);
    if (s = Gets(1, &Slot("get-txn")); !s.ok()) return Fail("get-txn", s);
    if (s = Scan(&Slot("scan")); !s.ok()) return Fail("scan", s);
    if (s = Commits(&Slot("commit-latency")); !s.ok()) return Fail("commit-latency", s);
    Sample& reads = Slot("concurrent-read");
    if (s = Concurrent(&reads, &Slot("concurrent-write")); !s.ok()) return Fail("concurrent", s);
    return absl::OkStatus();
  }

  absl::Status Fail(const char* what, const absl::Status& s) {
    return absl::Status(s.code(),
                        std::string(e_.name()) + " " + what + ": " + std::string(s.message()));
  }

  Sample& Slot(const char* workload) {
    return NewSample(samples_, workload, std::string(e_.name()));
  }

  std::string Label(const char* workload) const {
    return RoundLabel(round_, o_.rounds, e_.name(), workload);
  }

  // file-size: the data file after rand-put.
  void FileSizeNow() {
    Measurement m(p_, Label("file-size"), 0, 0);
    Sample& s = Slot("file-size");
    s.n = static_cast<double>(d_.n);
    s.file_bytes = static_cast<double>(e_.FileBytes());
    m.Finish(&s);
  }

  // seq-put / rand-put: all N keys, --batch per durable write txn; the time
  // is that of the commits, the latency per write txn.
  absl::Status Load(bool random, Sample* s) {
    Measurement m(p_, Label(random ? "rand-put" : "seq-put"), d_.n, 0);
    std::vector<std::string_view> ks, vs;
    uint64_t total_ns = 0;
    const uint64_t wall0 = MonotonicNs();
    for (uint64_t start = 0; start < d_.n; start += o_.common.batch) {
      const uint64_t end = std::min(d_.n, start + o_.common.batch);
      ks.clear();
      vs.clear();
      for (uint64_t i = start; i < end; ++i) {
        const uint64_t k = random ? d_.shuffled[i] : i;
        ks.push_back(d_.Key(k));
        vs.push_back(d_.Value(k));
      }
      const uint64_t t0 = MonotonicNs();
      if (absl::Status st = e_.PutBatch(ks, vs); !st.ok()) return st;
      const uint64_t dt = MonotonicNs() - t0;
      s->latency.Record(dt);
      s->timeline.Record(MonotonicNs() - wall0, end - start);
      p_.Update(end);
      total_ns += dt;
    }
    s->SetTime(d_.n, total_ns);
    s->file_bytes = static_cast<double>(e_.FileBytes());
    m.Finish(s);
    return absl::OkStatus();
  }

  // get-rand (per_txn 1000: latency per get) and get-txn (per_txn 1:
  // latency of begin + get + end).
  absl::Status Gets(uint64_t per_txn, Sample* s) {
    const uint64_t n = d_.queries.size();
    Measurement m(p_, Label(per_txn == 1 ? "get-txn" : "get-rand"), n, 0);
    std::unique_ptr<Reader> r = e_.NewReader();
    uint64_t sink = 0;
    const uint64_t t0 = MonotonicNs();
    for (uint64_t i = 0; i < n;) {
      const uint64_t end = std::min(n, i + per_txn);
      const uint64_t txn0 = MonotonicNs();
      if (absl::Status st = r->Begin(); !st.ok()) return st;
      for (; i < end; ++i) {
        const uint64_t a = per_txn == 1 ? txn0 : MonotonicNs();
        std::string_view v;
        absl::Status st = r->Get(d_.Key(d_.queries[i]), &v);
        if (per_txn == 1) r->End();
        const uint64_t b = MonotonicNs();
        if (!st.ok()) return st;
        if (v.size() != d_.value_size) return absl::DataLossError("value of the wrong size");
        sink += Touch(v);
        s->latency.Record(b - a);
        s->timeline.Record(b - t0);
        p_.Update(i + 1);
      }
      if (per_txn != 1) r->End();
    }
    s->SetTime(n, MonotonicNs() - t0);
    g_sink += sink;
    m.Finish(s);
    return absl::OkStatus();
  }

  // scan: full passes, one read txn each.
  absl::Status Scan(Sample* s) {
    const uint64_t passes = std::max<uint64_t>(1, (o_.scan_entries + d_.n - 1) / d_.n);
    Measurement m(p_, Label("scan"), passes * d_.n, 0);
    std::unique_ptr<Reader> r = e_.NewReader();
    uint64_t visited = 0;
    const uint64_t t0 = MonotonicNs();
    for (uint64_t p = 0; p < passes; ++p) {
      if (absl::Status st = r->Begin(); !st.ok()) return st;
      uint64_t entries = 0, bytes = 0;
      if (absl::Status st = r->Scan(0, &entries, &bytes); !st.ok()) return st;
      r->End();
      if (entries != d_.n || bytes != d_.n * (d_.key_size + d_.value_size)) {
        return absl::DataLossError("scan visited " + std::to_string(entries) + " entries of " +
                                   std::to_string(bytes) + " bytes, want " + std::to_string(d_.n));
      }
      visited += entries;
      s->timeline.Record(MonotonicNs() - t0, entries);
      p_.Update(visited);
      g_sink += bytes;
    }
    s->SetTime(visited, MonotonicNs() - t0);
    m.Finish(s);
    return absl::OkStatus();
  }

  // commit-latency: single-put durable transactions, random overwrites.
  absl::Status Commits(Sample* s) {
    Measurement m(p_, Label("commit-latency"), o_.commits, 0);
    std::mt19937_64 rng(o_.common.seed ^ 0xC0FFEE);
    std::vector<std::string_view> ks(1), vs(1);
    uint64_t total = 0;
    const uint64_t wall0 = MonotonicNs();
    for (uint64_t i = 0; i < o_.commits; ++i) {
      ks[0] = d_.Key(rng() % d_.n);
      vs[0] = d_.Value(rng());
      const uint64_t t0 = MonotonicNs();
      if (absl::Status st = e_.PutBatch(ks, vs); !st.ok()) return st;
      const uint64_t dt = MonotonicNs() - t0;
      s->latency.Record(dt);
      s->timeline.Record(MonotonicNs() - wall0);
      p_.Update(i + 1);
      total += dt;
    }
    s->SetTime(o_.commits, total);
    m.Finish(s);
    return absl::OkStatus();
  }

  // One reader thread of concurrent-read: random gets, a read txn per
  // 1,000, until `stop`.
  absl::Status ReadUntil(const std::atomic<bool>& stop, uint64_t seed, uint64_t t0,
                         Sample* s) {
    std::unique_ptr<Reader> r = e_.NewReader();
    std::mt19937_64 rng(seed);
    uint64_t ops = 0, sink = 0;
    while (!stop.load(std::memory_order_relaxed)) {
      if (absl::Status st = r->Begin(); !st.ok()) return st;
      for (int j = 0; j < 1000; ++j) {
        const std::string_view key = d_.Key(rng() % d_.n);
        const uint64_t a = MonotonicNs();
        std::string_view v;
        absl::Status st = r->Get(key, &v);
        const uint64_t b = MonotonicNs();
        if (!st.ok()) return st;
        sink += Touch(v);
        s->latency.Record(b - a);
      }
      r->End();
      ops += 1000;
      s->timeline.Record(MonotonicNs() - t0, 1000);
    }
    s->n = static_cast<double>(ops);
    g_sink += sink;
    return absl::OkStatus();
  }

  // concurrent-read / concurrent-write.
  absl::Status Concurrent(Sample* rs, Sample* ws) {
    Measurement m(p_, Label("concurrent"), 0, o_.duration_s);
    const uint64_t readers = o_.common.readers;
    std::atomic<bool> stop{false};
    std::vector<Sample> per_reader(readers);
    std::vector<absl::Status> errors(readers);
    std::vector<std::thread> threads;
    const uint64_t t0 = MonotonicNs();
    for (uint64_t t = 0; t < readers; ++t) {
      threads.emplace_back([&, t] {
        errors[t] = ReadUntil(stop, o_.common.seed * 1000 + t + 1, t0, &per_reader[t]);
      });
    }
    absl::Status werr = WriteFor(t0, ws);
    stop.store(true);
    for (std::thread& t : threads) t.join();
    const uint64_t elapsed = MonotonicNs() - t0;
    if (!werr.ok()) return werr;
    uint64_t total_ops = 0;
    for (uint64_t t = 0; t < readers; ++t) {
      if (!errors[t].ok()) return errors[t];
      rs->latency.Merge(per_reader[t].latency);
      rs->timeline.Merge(per_reader[t].timeline);
      total_ops += static_cast<uint64_t>(per_reader[t].n);
    }
    rs->SetTime(total_ops, elapsed);
    ws->SetTime(static_cast<uint64_t>(ws->n), elapsed);
    m.Finish(rs, ws);
    return absl::OkStatus();
  }

  // The writer of concurrent-write: --batch random overwrites per durable
  // write txn for --duration seconds from t0. Sets s->n to the puts.
  absl::Status WriteFor(uint64_t t0, Sample* s) {
    std::mt19937_64 rng(o_.common.seed ^ 0xBEEF);
    std::vector<std::string_view> ks, vs;
    uint64_t puts = 0;
    const uint64_t limit = static_cast<uint64_t>(o_.duration_s * 1e9);
    do {
      ks.clear();
      vs.clear();
      for (uint64_t i = 0; i < o_.common.batch; ++i) {
        ks.push_back(d_.Key(rng() % d_.n));
        vs.push_back(d_.Value(rng()));
      }
      const uint64_t a = MonotonicNs();
      if (absl::Status st = e_.PutBatch(ks, vs); !st.ok()) return st;
      s->latency.Record(MonotonicNs() - a);
      s->timeline.Record(MonotonicNs() - t0, ks.size());
      puts += ks.size();
      p_.Update(puts);
    } while (MonotonicNs() - t0 < limit);
    s->n = static_cast<double>(puts);
    return absl::OkStatus();
  }

  const BtreeSuiteOptions& o_;
  const BtreeData& d_;
  Engine& e_;
  uint64_t round_;
  Progress& p_;
  Samples* samples_;
};

}  // namespace

absl::Status RunBtreeRound(const BtreeSuiteOptions& o, const BtreeData& d, Engine& engine,
                           const WorkDir& dir, uint64_t round, Progress& progress,
                           Samples* samples) {
  return Runner(o, d, engine, round, progress, samples).Run(dir);
}

}  // namespace revkv::bench
