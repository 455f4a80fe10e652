#include "bench/mvcc_suite.h"

#include <stdlib.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <thread>

#include "backend/backend.h"
#include "bench/flags.h"
#include "bench/histogram.h"
#include "bench/output.h"
#include "bench/report.h"
#include "btree/db.h"
#include "mvcc/store.h"

namespace revkv::bench {
namespace {

using Clock = std::chrono::steady_clock;

// The shared flags; --quick loads 20,000 keys unless --keys is given.
bool ParseFlags(const std::vector<std::string>& args, CommonFlags* f) {
  FlagSet fs;
  AddCommonFlags(&fs, f);
  absl::Status s = fs.Parse(args);
  if (s.ok() && f->quick && !f->keys_set) f->keys = 20'000;
  if (s.ok()) s = ValidateCommonFlags(*f);
  if (!s.ok()) {
    std::fprintf(stderr, "Error: %s\n", std::string(s.message()).c_str());
    return false;
  }
  return true;
}

double Seconds(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

uint64_t PeakRss() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return uint64_t(ru.ru_maxrss) * 1024;
}

std::string Key(uint64_t i, uint64_t size) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%0*llu", int(std::min<uint64_t>(size, 30)),
                static_cast<unsigned long long>(i));
  std::string k(buf);
  k.resize(size, '0');
  return k;
}

// One result row.
struct MRow {
  MRow(std::string suite_, std::string workload_, double n_, double seconds_, double p50_,
       double p99_, double p999_, double file_bytes_, std::string note_)
      : suite(std::move(suite_)), workload(std::move(workload_)), n(n_), seconds(seconds_),
        p50(p50_), p99(p99_), p999(p999_), file_bytes(file_bytes_), note(std::move(note_)) {}
  std::string suite, workload;
  double n = 0, seconds = 0;
  double p50 = -1, p99 = -1, p999 = -1;
  double file_bytes = -1;
  std::string note;
  std::shared_ptr<const Histogram> latency;  // for --plot; null: none
  double peak_rss = static_cast<double>(PeakRss());  // the process's peak so far
};

std::string Head(const char* suite, const CommonFlags& f) {
  return std::string("revkv bench ") + suite + ": " + FormatCount(static_cast<double>(f.keys)) +
         " keys of " + std::to_string(f.key_size) + " B, values of " +
         std::to_string(f.value_size) + " B, " + std::to_string(f.readers) + " reader(s)";
}

std::shared_ptr<const Histogram> Keep(const Histogram& h) { return std::make_shared<Histogram>(h); }

// Prints the rows in the format the flags ask for; returns the exit code.
int Print(const std::vector<MRow>& rows, const CommonFlags& f, const std::string& head) {
  Report r;
  r.suite = rows.empty() ? "" : rows[0].suite;
  r.header.push_back(head);
  for (const MRow& row : rows) {
    r.rows.emplace_back();
    Row& x = r.rows.back();
    x.workload = row.workload;
    x.note = row.note;
    Result& res = x.revkv;
    res.suite = row.suite;
    res.workload = row.workload;
    res.engine = "revkv";
    res.n = row.n;
    res.seconds = row.seconds;
    res.ops_per_s = row.seconds > 0 ? row.n / row.seconds : -1;
    res.p50_us = row.p50;
    res.p99_us = row.p99;
    res.p999_us = row.p999;
    res.file_bytes = row.file_bytes;
    res.peak_rss_bytes = row.peak_rss;
    res.latency = row.latency;
  }
  r.footer = {"peak RSS: the process's peak resident memory up to the end of the workload."};
  return EmitReport(r, f);
}

class TempDir {
 public:
  explicit TempDir(const std::string& given) {
    if (!given.empty()) {
      path_ = given + "/bench-" + std::to_string(getpid());
      std::filesystem::create_directories(path_);
    } else {
      char tmpl[] = "/tmp/revkv-bench-XXXXXX";
      path_ = mkdtemp(tmpl);
    }
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

#define BENCH_CHECK(expr)                                                          \
  do {                                                                             \
    auto _s = (expr);                                                              \
    if (!_s.ok()) {                                                                \
      std::fprintf(stderr, "Error: %s\n", std::string(_s.message()).c_str());      \
      return 1;                                                                    \
    }                                                                              \
  } while (0)

template <typename T>
absl::Status StatusOf(const absl::StatusOr<T>& s) { return s.status(); }

// The btree's own seq-put and random-get rates on the data of a run, in a
// file of its own at `path` (removed after): the targets' references.
absl::Status BtreeReference(const std::string& path, const CommonFlags& f, uint64_t n,
                            const std::string& value, std::mt19937_64& rng, double* put_rate,
                            double* get_rate) {
  {
    btree::Options o;
    absl::StatusOr<std::unique_ptr<btree::DB>> db = btree::DB::Open(path, o);
    if (!db.ok()) return db.status();
    auto t0 = Clock::now();
    for (uint64_t b = 0; b < n; b += 10'000) {
      absl::Status s = (*db)->Update([&](btree::Tx& tx) -> absl::Status {
        auto bk = tx.CreateBucketIfNotExists("bench");
        if (!bk.ok()) return bk.status();
        for (uint64_t i = b; i < std::min(n, b + 10'000); ++i) {
          if (absl::Status s = (*bk)->Put(Key(i, f.key_size), value); !s.ok()) return s;
        }
        return absl::OkStatus();
      });
      if (!s.ok()) return s;
    }
    *put_rate = double(n) / Seconds(t0);
    const uint64_t gets = std::max<uint64_t>(n, 200'000);
    t0 = Clock::now();
    absl::Status s = (*db)->View([&](btree::Tx& tx) -> absl::Status {
      auto bk = tx.GetBucket("bench");
      if (!bk.ok()) return bk.status();
      std::string_view v;
      for (uint64_t i = 0; i < gets; ++i) {
        if (absl::Status s = (*bk)->Get(Key(rng() % n, f.key_size), &v); !s.ok()) return s;
      }
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    *get_rate = double(gets) / Seconds(t0);
  }
  std::filesystem::remove(path);
  return absl::OkStatus();
}

// One round of the two workloads with targets on a fresh store at `path`
// (removed after): put in key order, then range-point.
absl::Status StoreRound(const std::string& path, const CommonFlags& f, uint64_t n,
                        const std::string& value, std::mt19937_64& rng, double* put_rate,
                        double* range_rate) {
  auto cfg = backend::DefaultBackendConfig();
  cfg.path = path;
  {
    absl::StatusOr<std::unique_ptr<backend::Backend>> b = backend::Backend::Open(cfg);
    if (!b.ok()) return b.status();
    absl::StatusOr<std::unique_ptr<mvcc::Store>> st = mvcc::Store::Open(b->get());
    if (!st.ok()) return st.status();
    auto t0 = Clock::now();
    for (uint64_t i = 0; i < n; ++i) {
      if (absl::Status s = StatusOf((*st)->Put(Key(i, f.key_size), value)); !s.ok()) return s;
    }
    *put_rate = double(n) / Seconds(t0);
    const uint64_t gets = std::max<uint64_t>(n, 200'000);
    t0 = Clock::now();
    for (uint64_t i = 0; i < gets; ++i) {
      if (absl::Status s = StatusOf((*st)->Range(Key(rng() % n, f.key_size), "", {})); !s.ok()) {
        return s;
      }
    }
    *range_rate = double(gets) / Seconds(t0);
    st->reset();
    if (absl::Status s = (*b)->Close(); !s.ok()) return s;
  }
  std::filesystem::remove(path);
  return absl::OkStatus();
}

double MedianOf(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 == 1 ? v[m] : (v[m - 1] + v[m]) / 2;
}

}  // namespace

int MvccSuiteMain(const std::vector<std::string>& args) {
  CommonFlags f;
  if (!ParseFlags(args, &f)) return 1;
  TempDir dir(f.dir);
  std::mt19937_64 rng(f.seed);
  const uint64_t n = f.keys;
  std::vector<uint64_t> order(n);
  for (uint64_t i = 0; i < n; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  std::string value(f.value_size, 'v');
  for (char& c : value) c = char('a' + rng() % 26);
  std::vector<MRow> rows;
  std::fprintf(stderr, "revkv bench mvcc: %llu keys of %llu B, values of %llu B\n",
               static_cast<unsigned long long>(n), static_cast<unsigned long long>(f.key_size),
               static_cast<unsigned long long>(f.value_size));

  // The btree's own rates on the same data, for the targets. Round 1 of
  // the ratio targets; the rounds after it run at the end.
  double btree_put_rate = 0, btree_get_rate = 0;
  BENCH_CHECK(BtreeReference(dir.path() + "/btree.db", f, n, value, rng, &btree_put_rate,
                             &btree_get_rate));
  std::vector<double> put_refs{btree_put_rate}, get_refs{btree_get_rate};
  std::vector<double> put_rates, range_rates;
  const size_t btree_put_row = rows.size();
  rows.push_back({"mvcc", "btree-seq-put", double(n), double(n) / btree_put_rate, -1, -1, -1, -1,
                  "reference"});
  const size_t btree_get_row = rows.size();
  const double ref_gets = double(std::max<uint64_t>(n, 200'000));
  rows.push_back({"mvcc", "btree-get-rand", ref_gets, ref_gets / btree_get_rate, -1, -1, -1, -1,
                  "reference"});

  auto cfg = backend::DefaultBackendConfig();
  // put-rand: the same keys in random order, in a store of its own. The
  // record writes are appends either way (the key bucket is keyed by
  // revision); random keys make each index insert a cache-missing walk.
  {
    auto rand_cfg = cfg;
    rand_cfg.path = dir.path() + "/mvcc-rand.db";
    auto b = backend::Backend::Open(rand_cfg);
    BENCH_CHECK(StatusOf(b));
    auto store = mvcc::Store::Open(b->get());
    BENCH_CHECK(StatusOf(store));
    auto t0 = Clock::now();
    for (uint64_t i = 0; i < n; ++i) {
      BENCH_CHECK(StatusOf((*store)->Put(Key(order[i], f.key_size), value)));
    }
    double s = Seconds(t0);
    char note[128];
    std::snprintf(note, sizeof note, "%.2fx btree seq-put; keys in random order",
                  double(n) / s / btree_put_rate);
    rows.push_back({"mvcc", "put-rand", double(n), s, -1, -1, -1, -1, note});
    store->reset();
    BENCH_CHECK((*b)->Close());
  }

  cfg.path = dir.path() + "/mvcc.db";
  int64_t load_rev = 0;
  size_t range_row = 0, put_row_out = 0;
  {
    auto b = backend::Backend::Open(cfg);
    BENCH_CHECK(StatusOf(b));
    auto store = mvcc::Store::Open(b->get());
    BENCH_CHECK(StatusOf(store));
    mvcc::Store* st = store->get();

    auto t0 = Clock::now();
    // put: the keys in ascending order, as btree-seq-put writes them: the
    // same data in the same order, which is what the target compares.
    for (uint64_t i = 0; i < n; ++i) BENCH_CHECK(StatusOf(st->Put(Key(i, f.key_size), value)));
    double s = Seconds(t0);
    load_rev = st->Rev();
    char note[128];
    // Every key has one revision now: the case the memory target is about.
    double per_key = double(st->index().MemoryBytes()) / double(st->index().size()) - double(f.key_size);
    std::snprintf(note, sizeof note, "%.1f index bytes/key beyond the key (target <= 64)", per_key);
    rows.push_back({"mvcc", "index", double(st->index().size()), 0, -1, -1, -1, -1, note});

    put_rates.push_back(double(n) / s);
    rows.push_back({"mvcc", "put", double(n), s, -1, -1, -1, -1, ""});
    const size_t put_row = rows.size() - 1;

    Histogram h;
    const uint64_t gets = std::max<uint64_t>(n, 200'000);
    t0 = Clock::now();
    for (uint64_t i = 0; i < gets; ++i) {
      auto g0 = Clock::now();
      BENCH_CHECK(StatusOf(st->Range(Key(rng() % n, f.key_size), "", {})));
      h.Record(uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - g0).count()));
    }
    s = Seconds(t0);
    range_rates.push_back(double(gets) / s);
    rows.push_back({"mvcc", "range-point", double(gets), s, h.Percentile(50) / 1e3,
                    h.Percentile(99) / 1e3, h.Percentile(99.9) / 1e3, -1, ""});
    rows.back().latency = Keep(h);
    range_row = rows.size() - 1;
    put_row_out = put_row;

    const uint64_t ranges = f.quick ? 200 : 2'000;
    t0 = Clock::now();
    for (uint64_t i = 0; i < ranges; ++i) {
      uint64_t start = rng() % (n > 1000 ? n - 1000 : 1);
      BENCH_CHECK(StatusOf(st->Range(Key(start, f.key_size), Key(start + 1000, f.key_size), {})));
    }
    rows.push_back({"mvcc", "range-1000", double(ranges), Seconds(t0), -1, -1, -1, -1, "1,000 keys per range"});

    const uint64_t txns = std::max<uint64_t>(n / 20, 1000);
    t0 = Clock::now();
    for (uint64_t i = 0; i < txns; ++i) {
      auto txn = st->Write();
      BENCH_CHECK(StatusOf(txn));
      for (int k = 0; k < 4; ++k) BENCH_CHECK(StatusOf((*txn)->Put(Key(rng() % n, f.key_size), value)));
      BENCH_CHECK((*txn)->End());
    }
    rows.push_back({"mvcc", "txn-put", double(txns), Seconds(t0), -1, -1, -1, -1, "4 puts per txn"});

    t0 = Clock::now();
    BENCH_CHECK(StatusOf(st->HashByRev(0)));
    rows.push_back({"mvcc", "hash-by-rev", 1, Seconds(t0), -1, -1, -1, -1, "seconds per hash"});

    t0 = Clock::now();
    BENCH_CHECK(st->Compact(load_rev));
    BENCH_CHECK(st->WaitCompaction());
    rows.push_back({"mvcc", "compact", 1, Seconds(t0), -1, -1, -1, -1, "seconds per compaction"});

    store->reset();
    BENCH_CHECK((*b)->Close());
  }

  // Restore against a plain scan of the key bucket (each the median of a
  // few runs: a single open is short enough for noise to matter).
  const int opens = f.quick ? 1 : 3;
  std::vector<double> scans;
  for (int r = 0; r < opens; ++r) {
    btree::Options o;
    o.read_only = true;
    auto db = btree::DB::Open(cfg.path, o);
    BENCH_CHECK(StatusOf(db));
    auto t0 = Clock::now();
    uint64_t seen = 0;
    BENCH_CHECK((*db)->View([&](btree::Tx& tx) -> absl::Status {
      auto bk = tx.GetBucket("key");
      if (!bk.ok()) return bk.status();
      btree::Cursor c = (*bk)->NewCursor();
      for (c.First(); c.Valid(); c.Next()) seen += c.value().size();
      return c.status();
    }));
    scans.push_back(Seconds(t0));
  }
  const double scan_s = MedianOf(scans);
  // restore: the open after a clean close (which left the index checkpoint);
  // restore-rebuild: the open a crash leaves, rebuilding the index from
  // every record of the key bucket (such opens leave the checkpoint alone).
  for (bool checkpoint : {true, false}) {
    mvcc::StoreOptions so;
    so.checkpoint_index = checkpoint;
    std::vector<double> times;
    double file_bytes = 0;
    for (int r = 0; r < opens; ++r) {
      auto t0 = Clock::now();
      auto b = backend::Backend::Open(cfg);
      BENCH_CHECK(StatusOf(b));
      auto store = mvcc::Store::Open(b->get(), so);
      BENCH_CHECK(StatusOf(store));
      times.push_back(Seconds(t0));
      if ((*store)->opened_from_checkpoint() != checkpoint) {
        std::fprintf(stderr, "Error: restore %s the checkpoint\n", checkpoint ? "missed" : "used");
        return 1;
      }
      file_bytes = double((*b)->Size());
      store->reset();
      BENCH_CHECK((*b)->Close());
    }
    const double s = MedianOf(times);
    char note[128];
    std::snprintf(note, sizeof note, "%.2fx a plain scan of %.3f s%s", s / scan_s, scan_s,
                  checkpoint ? " (target <= 2)" : "");
    rows.push_back({"mvcc", checkpoint ? "restore" : "restore-rebuild", 1, s, -1, -1, -1,
                    file_bytes, note});
  }

  // The ratio targets are medians over rounds, each round a fresh btree file
  // and a fresh store, alternating, so that drift of the machine cancels.
  const int rounds = f.quick ? 1 : 3;
  for (int r = 1; r < rounds; ++r) {
    double put_ref, get_ref, put_rate, range_rate;
    BENCH_CHECK(BtreeReference(dir.path() + "/btree.db", f, n, value, rng, &put_ref, &get_ref));
    BENCH_CHECK(StoreRound(dir.path() + "/round.db", f, n, value, rng, &put_rate, &range_rate));
    put_refs.push_back(put_ref);
    get_refs.push_back(get_ref);
    put_rates.push_back(put_rate);
    range_rates.push_back(range_rate);
  }
  std::vector<double> put_ratios, range_ratios;
  for (size_t i = 0; i < put_rates.size(); ++i) {
    put_ratios.push_back(put_rates[i] / put_refs[i]);
    range_ratios.push_back(range_rates[i] / get_refs[i]);
  }
  auto set_rate = [&rows](size_t row, double rate) { rows[row].seconds = rows[row].n / rate; };
  set_rate(btree_put_row, MedianOf(put_refs));
  set_rate(btree_get_row, MedianOf(get_refs));
  set_rate(put_row_out, MedianOf(put_rates));
  set_rate(range_row, MedianOf(range_rates));
  char note[160];
  std::snprintf(note, sizeof note, "%.2fx btree seq-put, median of %d rounds (target >= 0.5)",
                MedianOf(put_ratios), rounds);
  rows[put_row_out].note = note;
  std::snprintf(note, sizeof note, "%.2fx btree get-rand, median of %d rounds (target >= 0.5)",
                MedianOf(range_ratios), rounds);
  rows[range_row].note = note;
  return Print(rows, f, Head("mvcc", f));
}

int BackendSuiteMain(const std::vector<std::string>& args) {
  CommonFlags f;
  if (!ParseFlags(args, &f)) return 1;
  TempDir dir(f.dir);
  std::mt19937_64 rng(f.seed);
  const uint64_t n = f.keys;
  std::string value(f.value_size, 'v');
  std::vector<MRow> rows;
  auto cfg = backend::DefaultBackendConfig();
  cfg.path = dir.path() + "/backend.db";
  auto b = backend::Backend::Open(cfg);
  BENCH_CHECK(StatusOf(b));
  backend::Backend* be = b->get();
  backend::BatchTx& tx = be->batch_tx();
  tx.Lock();
  BENCH_CHECK(tx.UnsafeCreateBucket("bench"));
  tx.Unlock();

  auto t0 = Clock::now();
  for (uint64_t i = 0; i < n; ++i) {
    tx.Lock();
    absl::Status s = tx.UnsafePut("bench", Key(i, f.key_size), value);
    tx.Unlock();
    BENCH_CHECK(s);
  }
  BENCH_CHECK(be->ForceCommit());
  rows.push_back({"backend", "put", double(n), Seconds(t0), -1, -1, -1, double(be->Size()),
                  "Lock/UnsafePut/Unlock, default interval and limit"});

  // A writer runs during the read measurements and the defrag.
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> writes{0};
  Histogram write_gap;
  std::thread writer([&] {
    std::mt19937_64 wr(f.seed + 1);
    auto last = Clock::now();
    while (!stop.load()) {
      tx.Lock();
      tx.UnsafePut("bench", Key(wr() % n, f.key_size), value).IgnoreError();
      tx.Unlock();
      auto now = Clock::now();
      write_gap.Record(uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(now - last).count()));
      last = now;
      writes++;
    }
  });

  const uint64_t views = f.quick ? 20'000 : 200'000;
  Histogram vh;
  t0 = Clock::now();
  for (uint64_t i = 0; i < views; ++i) {
    auto v0 = Clock::now();
    auto view = be->NewConcurrentReadTx();
    BENCH_CHECK(StatusOf(view));
    view->reset();
    vh.Record(uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - v0).count()));
  }
  rows.push_back({"backend", "concurrent-read-tx", double(views), Seconds(t0), vh.Percentile(50) / 1e3,
                  vh.Percentile(99) / 1e3, vh.Percentile(99.9) / 1e3, -1, "create + end, writer running"});
  rows.back().latency = Keep(vh);

  std::atomic<uint64_t> reads{0};
  std::vector<std::thread> readers;
  const double duration = f.quick ? 1.0 : 5.0;
  t0 = Clock::now();
  for (int r = 0; r < f.readers; ++r) {
    readers.emplace_back([&, r] {
      std::mt19937_64 rr(f.seed + 10 + uint64_t(r));
      while (Seconds(t0) < duration) {
        auto view = be->NewConcurrentReadTx();
        if (!view.ok()) return;
        for (int i = 0; i < 1000; ++i) {
          if ((*view)->UnsafeRange("bench", Key(rr() % n, f.key_size), "", 0).ok()) reads++;
        }
      }
    });
  }
  for (auto& t : readers) t.join();
  char note[160];
  std::snprintf(note, sizeof note, "%llu readers, point UnsafeRange, view per 1,000",
                static_cast<unsigned long long>(f.readers));
  rows.push_back({"backend", "concurrent-read", double(reads.load()), Seconds(t0), -1, -1, -1, -1, note});

  backend::DefragStats ds;
  write_gap.Reset();
  t0 = Clock::now();
  BENCH_CHECK(be->Defrag(&ds));
  double total = Seconds(t0);
  double pause = std::chrono::duration<double>(ds.pause).count();
  std::snprintf(note, sizeof note, "pause %.1f ms = %.1f%% of %.3f s; longest writer gap %.1f ms",
                pause * 1e3, 100.0 * pause / total, total, double(write_gap.Max()) / 1e6);
  rows.push_back({"backend", "defrag", 1, total, -1, -1, -1, double(be->Size()), note});
  stop = true;
  writer.join();
  BENCH_CHECK(be->Close());
  return Print(rows, f, Head("backend", f));
}

}  // namespace revkv::bench
