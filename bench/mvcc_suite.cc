#include "bench/mvcc_suite.h"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench/dataset.h"
#include "bench/engine.h"
#include "bench/measurement.h"
#include "bench/open_store.h"
#include "bench/sysinfo.h"
#include "btree/db.h"
#include "mvcc/store.h"

namespace revkv::bench {

absl::StatusOr<CommonFlags> ParseLayerFlags(const std::vector<std::string>& args) {
  CommonFlags f;
  FlagSet fs;
  AddCommonFlags(&fs, &f);
  if (absl::Status s = fs.Parse(args); !s.ok()) return s;
  if (f.quick && !f.keys_set) f.keys = 20'000;
  if (absl::Status s = ValidateCommonFlags(f); !s.ok()) return s;
  return f;
}

std::string LayerHeader(const char* suite, const CommonFlags& f) {
  return std::string("revkv bench ") + suite + ": " + FormatCount(static_cast<double>(f.keys)) +
         " keys of " + std::to_string(f.key_size) + " B, values of " +
         std::to_string(f.value_size) + " B, " + std::to_string(f.readers) + " reader(s)";
}

namespace {

// See measurement.h: no reset, so that no malloc_trim disturbs the timings.
constexpr PeakRss kPeak = PeakRss::kProcess;

constexpr uint64_t kReferenceBatch = 10'000;  // puts per write txn of btree-seq-put
constexpr uint64_t kSpan = 1'000;             // keys per range of range-1000
constexpr uint64_t kTxnPuts = 4;              // puts per txn of txn-put

std::string Fixed(const char* fmt, double a, double b = 0) {
  char buf[128];
  std::snprintf(buf, sizeof(buf), fmt, a, b);
  return buf;
}

class MvccBench {
 public:
  MvccBench(const CommonFlags& f, const DataSet& d, const WorkDir& dir, Progress& p)
      : f_(f), d_(d), dir_(dir), p_(p), rng_(f.seed), rounds_(f.quick ? 1 : 3) {}

  // Round 0 runs every workload; the rounds after it only those whose
  // ratios are medians over rounds.
  absl::Status Run() {
    if (absl::Status s = BtreeReference(0); !s.ok()) return s;
    if (absl::Status s = PutRand(); !s.ok()) return s;
    if (absl::Status s = StoreRound(0); !s.ok()) return s;
    if (absl::Status s = Restore(); !s.ok()) return s;
    for (uint64_t r = 1; r < rounds_; ++r) {
      if (absl::Status s = BtreeReference(r); !s.ok()) return s;
      if (absl::Status s = StoreRound(r); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  std::vector<RowSpec> RowSpecs() const;
  const Samples& samples() const { return samples_; }

 private:
  uint64_t Gets() const { return std::max<uint64_t>(d_.n, 200'000); }
  std::string Label(const char* workload, uint64_t round) const {
    return RoundLabel(round, rounds_, "revkv", workload);
  }
  Sample& Slot(const char* workload) { return NewSample(&samples_, workload, "revkv"); }
  // A store in the fresh subdirectory `name`, default backend settings.
  absl::StatusOr<StoreHandle> FreshStore(const std::string& name) {
    absl::StatusOr<std::string> dir = dir_.Fresh(name);
    if (!dir.ok()) return dir.status();
    return OpenStore(Config(name));
  }
  backend::BackendConfig Config(const std::string& name) const {
    backend::BackendConfig cfg = backend::DefaultBackendConfig();
    cfg.path = dir_.path() + "/" + name + "/revkv.db";
    return cfg;
  }

  absl::Status BtreeReference(uint64_t round);
  absl::Status PutRand();
  absl::Status StoreRound(uint64_t round);
  absl::Status PutAll(mvcc::Store& st, bool random, const std::string& label, Sample* s);
  absl::Status RangePoints(mvcc::Store& st, uint64_t round);
  void Index(mvcc::Store& st);
  absl::Status OneOffs(mvcc::Store& st, int64_t load_rev);
  absl::Status Restore();
  absl::StatusOr<double> ScanKeyBucket();

  const CommonFlags& f_;
  const DataSet& d_;
  const WorkDir& dir_;
  Progress& p_;
  std::mt19937_64 rng_;
  uint64_t rounds_;
  Samples samples_;
  double index_bytes_per_key_ = -1;
  double scan_seconds_ = -1;
};

// btree-seq-put and btree-get-rand: the btree's own rates on the same data,
// in a file of its own (through the btree engine the btree suite drives).
absl::Status MvccBench::BtreeReference(uint64_t round) {
  absl::StatusOr<std::string> dir = dir_.Fresh("btree");
  if (!dir.ok()) return dir.status();
  std::unique_ptr<Engine> e = NewRevkvEngine();
  if (absl::Status s = e->Open(*dir); !s.ok()) return s;
  Sample& put = Slot("btree-seq-put");
  Measurement pm(p_, Label("btree-seq-put", round), d_.n, 0, kPeak);
  uint64_t t0 = MonotonicNs();
  std::vector<std::string_view> ks, vs;
  for (uint64_t b = 0; b < d_.n; b += kReferenceBatch) {
    ks.clear();
    vs.clear();
    for (uint64_t i = b; i < std::min(d_.n, b + kReferenceBatch); ++i) {
      ks.push_back(d_.Key(i));
      vs.push_back(d_.Value(i));
    }
    if (absl::Status s = e->PutBatch(ks, vs); !s.ok()) return s;
    p_.Update(b + ks.size());
  }
  put.SetTime(d_.n, MonotonicNs() - t0);
  pm.Finish(&put);

  Sample& get = Slot("btree-get-rand");
  Measurement gm(p_, Label("btree-get-rand", round), Gets(), 0, kPeak);
  std::unique_ptr<Reader> r = e->NewReader();
  t0 = MonotonicNs();
  if (absl::Status s = r->Begin(); !s.ok()) return s;
  std::string_view v;
  for (uint64_t i = 0; i < Gets(); ++i) {
    if (absl::Status s = r->Get(d_.Key(rng_() % d_.n), &v); !s.ok()) return s;
  }
  r->End();
  get.SetTime(Gets(), MonotonicNs() - t0);
  gm.Finish(&get);
  r.reset();
  e->Close();
  dir_.Remove("btree");
  return absl::OkStatus();
}

// Each Put its own revision. The record writes are appends whatever the key
// order (the key bucket is keyed by revision); random keys make each index
// insert a cache-missing walk.
absl::Status MvccBench::PutAll(mvcc::Store& st, bool random, const std::string& label,
                               Sample* s) {
  Measurement m(p_, label, d_.n, 0, kPeak);
  const uint64_t t0 = MonotonicNs();
  for (uint64_t i = 0; i < d_.n; ++i) {
    const uint64_t k = random ? d_.shuffled[i] : i;
    if (absl::Status e = st.Put(d_.Key(k), d_.Value(k)).status(); !e.ok()) return e;
    p_.Update(i + 1);
  }
  s->SetTime(d_.n, MonotonicNs() - t0);
  m.Finish(s);
  return absl::OkStatus();
}

// put-rand: the keys in random order, in a store of its own.
absl::Status MvccBench::PutRand() {
  absl::StatusOr<StoreHandle> h = FreshStore("mvcc-rand");
  if (!h.ok()) return h.status();
  absl::Status s = PutAll(*h->store, /*random=*/true, "put-rand", &Slot("put-rand"));
  absl::Status c = h->Close();
  dir_.Remove("mvcc-rand");
  return s.ok() ? c : s;
}

// put in key order, as btree-seq-put writes the same data, then
// range-point; round 0 also measures the index and the one-off workloads
// and leaves its file for Restore.
absl::Status MvccBench::StoreRound(uint64_t round) {
  absl::StatusOr<StoreHandle> h = FreshStore("mvcc");
  if (!h.ok()) return h.status();
  mvcc::Store& st = *h->store;
  absl::Status s = PutAll(st, /*random=*/false, Label("put", round), &Slot("put"));
  const int64_t load_rev = st.Rev();
  if (s.ok() && round == 0) Index(st);
  if (s.ok()) s = RangePoints(st, round);
  if (s.ok() && round == 0) s = OneOffs(st, load_rev);
  absl::Status c = h->Close();
  if (round != 0) dir_.Remove("mvcc");
  return s.ok() ? c : s;
}

// index: right after the load, when every key has one revision.
void MvccBench::Index(mvcc::Store& st) {
  Sample& s = Slot("index");
  s.n = static_cast<double>(st.index().size());
  s.seconds = 0;
  s.peak_rss_bytes = static_cast<double>(PeakRssBytes(false));
  index_bytes_per_key_ = static_cast<double>(st.index().MemoryBytes()) / s.n -
                         static_cast<double>(d_.key_size);
}

absl::Status MvccBench::RangePoints(mvcc::Store& st, uint64_t round) {
  Sample& s = Slot("range-point");
  Measurement m(p_, Label("range-point", round), Gets(), 0, kPeak);
  const uint64_t t0 = MonotonicNs();
  for (uint64_t i = 0; i < Gets(); ++i) {
    const uint64_t a = MonotonicNs();
    if (absl::Status e = st.Range(d_.Key(rng_() % d_.n), "", {}).status(); !e.ok()) return e;
    const uint64_t b = MonotonicNs();
    s.latency.Record(b - a);
    s.timeline.Record(b - t0);
    p_.Update(i + 1);
  }
  s.SetTime(Gets(), MonotonicNs() - t0);
  m.Finish(&s);
  return absl::OkStatus();
}

// range-1000, txn-put, hash-by-rev and compact, once.
absl::Status MvccBench::OneOffs(mvcc::Store& st, int64_t load_rev) {
  auto timed = [&](const char* workload, uint64_t ops, auto op) -> absl::Status {
    Sample& s = Slot(workload);
    Measurement m(p_, workload, ops, 0, kPeak);
    const uint64_t t0 = MonotonicNs();
    for (uint64_t i = 0; i < ops; ++i) {
      if (absl::Status e = op(); !e.ok()) return e;
    }
    s.SetTime(ops, MonotonicNs() - t0);
    m.Finish(&s);
    return absl::OkStatus();
  };
  const uint64_t starts = d_.n > kSpan ? d_.n - kSpan : 1;
  absl::Status s = timed("range-1000", f_.quick ? 200 : 2'000, [&] {
    const uint64_t start = rng_() % starts;
    return st.Range(d_.Key(start), d_.EndKey(start + kSpan), {}).status();
  });
  if (s.ok()) {
    s = timed("txn-put", std::max<uint64_t>(d_.n / 20, 1'000), [&]() -> absl::Status {
      absl::StatusOr<std::unique_ptr<mvcc::TxnWrite>> txn = st.Write();
      if (!txn.ok()) return txn.status();
      for (uint64_t k = 0; k < kTxnPuts; ++k) {
        const uint64_t i = rng_() % d_.n;
        if (absl::Status e = (*txn)->Put(d_.Key(i), d_.Value(i)).status(); !e.ok()) return e;
      }
      return (*txn)->End();
    });
  }
  if (s.ok()) s = timed("hash-by-rev", 1, [&] { return st.HashByRev(0).status(); });
  if (s.ok()) {
    s = timed("compact", 1, [&]() -> absl::Status {
      if (absl::Status e = st.Compact(load_rev); !e.ok()) return e;
      return st.WaitCompaction();
    });
  }
  return s;
}

// A plain cursor scan of the key bucket of round 0's file, the yardstick of
// restore: the median of a few (a single one is short enough for noise to
// matter).
absl::StatusOr<double> MvccBench::ScanKeyBucket() {
  std::vector<double> scans;
  for (uint64_t r = 0; r < rounds_; ++r) {
    btree::Options o;
    o.read_only = true;
    absl::StatusOr<std::unique_ptr<btree::DB>> db = btree::DB::Open(Config("mvcc").path, o);
    if (!db.ok()) return db.status();
    const uint64_t t0 = MonotonicNs();
    uint64_t seen = 0;
    absl::Status s = (*db)->View([&](btree::Tx& tx) -> absl::Status {
      absl::StatusOr<btree::Bucket*> bk = tx.GetBucket("key");
      if (!bk.ok()) return bk.status();
      btree::Cursor c = (*bk)->NewCursor();
      for (c.First(); c.Valid(); c.Next()) seen += c.value().size();
      return c.status();
    });
    if (!s.ok()) return s;
    scans.push_back((MonotonicNs() - t0) / 1e9);
  }
  return Median(scans);
}

// restore: opening round 0's store after its clean close (which left the
// index checkpoint); restore-rebuild: the open a crash leaves, rebuilding the
// index from every record (such opens leave the checkpoint alone).
absl::Status MvccBench::Restore() {
  absl::StatusOr<double> scan = ScanKeyBucket();
  if (!scan.ok()) return scan.status();
  scan_seconds_ = *scan;
  for (bool checkpoint : {true, false}) {
    const char* workload = checkpoint ? "restore" : "restore-rebuild";
    mvcc::StoreOptions so;
    so.checkpoint_index = checkpoint;
    for (uint64_t r = 0; r < rounds_; ++r) {
      Sample& s = Slot(workload);
      Measurement m(p_, workload, 1, 0, kPeak);
      const uint64_t t0 = MonotonicNs();
      absl::StatusOr<StoreHandle> h = OpenStore(Config("mvcc"), so);
      if (!h.ok()) return h.status();
      s.SetTime(1, MonotonicNs() - t0);
      if (h->store->opened_from_checkpoint() != checkpoint) {
        return absl::InternalError(std::string("restore ") +
                                   (checkpoint ? "missed" : "used") + " the checkpoint");
      }
      s.file_bytes = static_cast<double>(h->backend->FileSize());
      m.Finish(&s);
      if (absl::Status c = h->Close(); !c.ok()) return c;
    }
  }
  dir_.Remove("mvcc");
  return absl::OkStatus();
}

// The rows in report order; the notes relate the measured rates to one
// another (the ratios are measured, never compared with a target here).
std::vector<RowSpec> MvccBench::RowSpecs() const {
  auto rounds = [&](const char* w) -> const std::vector<Sample>& {
    return samples_.at(w).at("revkv");
  };
  auto result = [&](const char* w) { return Aggregate("mvcc", w, "revkv", rounds(w)); };
  auto vs_btree = [&](const char* w, const char* btree) {
    return Fixed("%.2fx ", MedianRatio(rounds(w), rounds(btree))) + btree + ", median of " +
           std::to_string(rounds_) + " round(s)";
  };
  auto vs_scan = [&](const char* w) {
    return Fixed("%.2fx a plain scan of %.3f s", result(w).seconds / scan_seconds_, scan_seconds_);
  };
  return {
      {"btree-seq-put", "the btree's own rate, reference"},
      {"btree-get-rand", "the btree's own rate, reference"},
      {"put-rand", Fixed("%.2fx btree-seq-put; keys in random order",
                         result("put-rand").ops_per_s / result("btree-seq-put").ops_per_s)},
      {"index", Fixed("%.1f index bytes/key beyond the key", index_bytes_per_key_)},
      {"put", vs_btree("put", "btree-seq-put")},
      {"range-point", vs_btree("range-point", "btree-get-rand")},
      {"range-1000", "1,000 keys per range"},
      {"txn-put", "4 puts per txn"},
      {"hash-by-rev", "seconds per hash"},
      {"compact", "seconds per compaction"},
      {"restore", vs_scan("restore")},
      {"restore-rebuild", vs_scan("restore-rebuild")},
  };
}

}  // namespace

absl::StatusOr<Report> RunMvccSuite(const CommonFlags& f, Progress& progress) {
  absl::StatusOr<DataSet> data = MakeDataSet(f.keys, f.key_size, f.value_size, f.seed);
  if (!data.ok()) return data.status();
  absl::StatusOr<std::unique_ptr<WorkDir>> dir = WorkDir::Create(f.dir);
  if (!dir.ok()) return dir.status();
  Report report;
  report.suite = "mvcc";
  report.header = {LayerHeader("mvcc", f)};
  AnnounceRun(**dir, progress, &report);
  MvccBench bench(f, *data, **dir, progress);
  if (absl::Status s = bench.Run(); !s.ok()) return s;
  report.rows = MakeRows("mvcc", bench.samples(), bench.RowSpecs());
  report.footer = {"peak RSS: the process's peak resident memory up to the end of the workload."};
  return report;
}

}  // namespace revkv::bench
