#include "bench/btree_suite.h"

#include <malloc.h>
#include <sys/resource.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bench/engine.h"
#include "bench/histogram.h"

namespace revkv::bench {

const char kBtreeUsage[] =
    "USAGE:\n"
    "\trevkv bench btree [flags]\n"
    "\n"
    "revkv's btree file engine against LMDB, in the same process (see bench/btree_suite.h).\n"
    "\n"
    "FLAGS:\n"
    "\t--keys N\t\tkeys to load (default 1000000)\n"
    "\t--key-size B\t\tkey bytes (default 16)\n"
    "\t--value-size B\t\tvalue bytes (default 128)\n"
    "\t--batch N\t\tputs per write transaction (default 10000)\n"
    "\t--rounds R\t\trounds; the table shows medians (default 3)\n"
    "\t--readers T\t\treader threads of concurrent-read (default 2)\n"
    "\t--seed S\t\trandom seed (default 1)\n"
    "\t--dir DIR\t\twhere the files go (default: a temporary directory)\n"
    "\t--gets N\t\tpoint gets of get-rand and get-txn (default max(keys, 200000))\n"
    "\t--commits N\t\ttransactions of commit-latency (default 1000)\n"
    "\t--duration S\t\tseconds of concurrent-read (default 5)\n"
    "\t--scan-entries N\tentries scan visits, at least one pass (default 5000000)\n"
    "\t--quick\t\t\tkeys=20000, rounds=1, duration=1\n"
    "\t--json, --csv, --plot FILE.svg\toutput formats, as for every subcommand\n";

namespace {

using Clock = std::chrono::steady_clock;

volatile uint64_t g_sink = 0;

inline uint64_t NowNs() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
          .count());
}

// ---------------------------------------------------------------------------
// Flags.

absl::Status ParseUint(std::string_view flag, const std::string& text, uint64_t* out) {
  if (text.empty() || text[0] == '-') {
    return absl::InvalidArgumentError("invalid value \"" + text + "\" for flag " +
                                      std::string(flag));
  }
  errno = 0;
  char* end = nullptr;
  unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (errno != 0 || end == text.c_str() || *end != '\0') {
    return absl::InvalidArgumentError("invalid value \"" + text + "\" for flag " +
                                      std::string(flag));
  }
  *out = v;
  return absl::OkStatus();
}

absl::Status ParseDouble(std::string_view flag, const std::string& text, double* out) {
  errno = 0;
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (errno != 0 || end == text.c_str() || *end != '\0' || !(v >= 0) || !std::isfinite(v)) {
    return absl::InvalidArgumentError("invalid value \"" + text + "\" for flag " +
                                      std::string(flag));
  }
  *out = v;
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Formatting.

std::string Grouped(double v) {
  if (v < 0) return "-";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.0f", v);
  std::string digits = buf, out;
  int n = 0;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (n > 0 && n % 3 == 0) out.push_back(',');
    out.push_back(*it);
    ++n;
  }
  return std::string(out.rbegin(), out.rend());
}

std::string Bytes(double v) {
  char buf[64];
  if (v >= 1024.0 * 1024 * 1024) {
    std::snprintf(buf, sizeof(buf), "%.2f GiB", v / (1024.0 * 1024 * 1024));
  } else if (v >= 1024.0 * 1024) {
    std::snprintf(buf, sizeof(buf), "%.1f MiB", v / (1024.0 * 1024));
  } else if (v >= 1024.0) {
    std::snprintf(buf, sizeof(buf), "%.1f KiB", v / 1024.0);
  } else {
    std::snprintf(buf, sizeof(buf), "%.0f B", v);
  }
  return buf;
}

// A latency in microseconds with 3 significant digits or so.
std::string Micros(double us) {
  char buf[64];
  if (us < 0) return "-";
  if (us < 10) {
    std::snprintf(buf, sizeof(buf), "%.2f", us);
  } else if (us < 100) {
    std::snprintf(buf, sizeof(buf), "%.1f", us);
  } else {
    return Grouped(us);
  }
  return buf;
}

std::string Format(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), fmt, v);
  return buf;
}

double Median(std::vector<double> v) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 == 1 ? v[m] : (v[m - 1] + v[m]) / 2;
}

// ---------------------------------------------------------------------------
// Process memory. The run is one process, so getrusage's ru_maxrss only ever
// grows; where Linux allows it, the high-water mark is reset before each
// workload (/proc/self/clear_refs) and read back from VmHWM, so that each
// figure is the peak of that workload alone (with only that engine open).
// Heap memory freed by earlier workloads is first handed back to the kernel
// (malloc_trim), or one engine's garbage would count against the other.

bool ResetPeakRss() {
  malloc_trim(0);
  std::ofstream f("/proc/self/clear_refs");
  if (!f) return false;
  f << "5";
  f.flush();
  return static_cast<bool>(f);
}

uint64_t PeakRssBytes(bool reset_worked) {
  if (reset_worked) {
    std::ifstream f("/proc/self/status");
    std::string line;
    while (std::getline(f, line)) {
      if (line.rfind("VmHWM:", 0) == 0) {
        return std::strtoull(line.c_str() + 6, nullptr, 10) * 1024;
      }
    }
  }
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  return static_cast<uint64_t>(ru.ru_maxrss) * 1024;
}

// ---------------------------------------------------------------------------
// The data set, shared by both engines.

struct DataSet {
  uint64_t n = 0;
  uint64_t key_size = 0;
  uint64_t value_size = 0;
  std::vector<char> keys;          // n keys of key_size bytes, ascending
  std::vector<uint32_t> shuffled;  // a random permutation of [0, n)
  std::vector<uint32_t> queries;   // random indices for the gets
  std::vector<char> pool;          // random bytes values are cut from

  std::string_view Key(uint64_t i) const {
    return std::string_view(keys.data() + i * key_size, key_size);
  }
  // A value starting at a pseudo-random place of the pool.
  std::string_view Value(uint64_t salt) const {
    const uint64_t span = pool.size() - value_size + 1;
    const uint64_t off = (salt * 0x9E3779B97F4A7C15ull >> 20) % span;
    return std::string_view(pool.data() + off, value_size);
  }
};

absl::StatusOr<DataSet> MakeDataSet(const BtreeSuiteOptions& o, uint64_t gets) {
  DataSet d;
  d.n = o.keys;
  d.key_size = o.key_size;
  d.value_size = o.value_size;
  const int digits = static_cast<int>(std::to_string(o.keys == 0 ? 0 : o.keys - 1).size());
  if (o.key_size < static_cast<uint64_t>(digits)) {
    return absl::InvalidArgumentError("--key-size " + std::to_string(o.key_size) +
                                      " is too small for " + std::to_string(o.keys) +
                                      " keys (needs " + std::to_string(digits) + ")");
  }
  d.keys.assign(d.n * d.key_size, '0');
  for (uint64_t i = 0; i < d.n; ++i) {
    char* k = d.keys.data() + i * d.key_size;
    uint64_t v = i;
    for (uint64_t j = d.key_size; j > 0 && v > 0; --j, v /= 10) k[j - 1] = '0' + v % 10;
  }
  std::mt19937_64 rng(o.seed);
  d.shuffled.resize(d.n);
  for (uint64_t i = 0; i < d.n; ++i) d.shuffled[i] = static_cast<uint32_t>(i);
  std::shuffle(d.shuffled.begin(), d.shuffled.end(), rng);
  d.queries.resize(gets);
  for (uint64_t i = 0; i < gets; ++i) d.queries[i] = static_cast<uint32_t>(rng() % d.n);
  d.pool.resize(std::max<uint64_t>(1 << 20, 2 * d.value_size));
  for (char& c : d.pool) c = static_cast<char>(rng());
  return d;
}

// ---------------------------------------------------------------------------
// One round's measurement of one workload on one engine.

struct Sample {
  double n = 0;
  double seconds = -1;
  double ops_per_s = -1;
  double p50_us = -1, p99_us = -1, p999_us = -1;
  double file_bytes = -1;
  double peak_rss_bytes = -1;

  void SetLatency(const Histogram& h) {
    if (h.Count() == 0) return;
    p50_us = h.Percentile(50) / 1000.0;
    p99_us = h.Percentile(99) / 1000.0;
    p999_us = h.Percentile(99.9) / 1000.0;
  }
  void SetRate(double ops, uint64_t ns) {
    n = ops;
    seconds = ns / 1e9;
    ops_per_s = seconds > 0 ? ops / seconds : -1;
  }
};

// What each workload reports and how its ratio reads.
struct WorkloadSpec {
  const char* name;
  enum Metric { kOpsPerS, kP50, kFileBytes } metric;
  const char* latency_of;  // nullptr: no latency
};

constexpr WorkloadSpec kWorkloads[] = {
    {"seq-put", WorkloadSpec::kOpsPerS, "write txn (--batch puts)"},
    {"file-size-seq", WorkloadSpec::kFileBytes, nullptr},
    {"rand-put", WorkloadSpec::kOpsPerS, "write txn (--batch puts)"},
    {"file-size", WorkloadSpec::kFileBytes, nullptr},
    {"get-rand", WorkloadSpec::kOpsPerS, "get (read txn per 1,000)"},
    {"get-txn", WorkloadSpec::kOpsPerS, "begin + get + end"},
    {"scan", WorkloadSpec::kOpsPerS, nullptr},
    {"commit-latency", WorkloadSpec::kP50, "1-put write txn"},
    {"concurrent-read", WorkloadSpec::kOpsPerS, "get (read txn per 1,000)"},
    {"concurrent-write", WorkloadSpec::kOpsPerS, "write txn (--batch puts)"},
};

double MetricOf(const WorkloadSpec& w, const Sample& s) {
  switch (w.metric) {
    case WorkloadSpec::kOpsPerS:
      return s.ops_per_s;
    case WorkloadSpec::kP50:
      return s.p50_us;
    case WorkloadSpec::kFileBytes:
      return s.file_bytes;
  }
  return -1;
}

using Samples = std::map<std::string, Sample>;  // by workload

class Runner {
 public:
  Runner(const BtreeSuiteOptions& o, const DataSet& d, std::FILE* progress, bool rss_reset)
      : o_(o), d_(d), progress_(progress), rss_reset_(rss_reset) {}

  // Runs every workload of one round on `engine`, in directories under
  // `base`. Fills samples.
  absl::Status RunRound(Engine& engine, const std::string& base, int round, Samples* samples) {
    engine_ = &engine;
    round_ = round;
    const std::string name(engine.name());
    // seq-put into its own file.
    {
      const std::string dir = base + "/" + name + "-seq";
      std::filesystem::remove_all(dir);
      std::filesystem::create_directories(dir);
      if (absl::Status s = engine.Open(dir); !s.ok()) return Fail("open", s);
      Sample& s = (*samples)["seq-put"];
      if (absl::Status st = Load(/*random=*/false, &s); !st.ok()) return Fail("seq-put", st);
      Sample& f = (*samples)["file-size-seq"];
      f.n = static_cast<double>(d_.n);
      f.file_bytes = s.file_bytes;
      f.peak_rss_bytes = s.peak_rss_bytes;
      Report("file-size-seq", f);
      engine.Close();
      std::filesystem::remove_all(dir);
    }
    // rand-put, then the read and update workloads on that file.
    const std::string dir = base + "/" + name + "-rand";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    if (absl::Status s = engine.Open(dir); !s.ok()) return Fail("open", s);
    struct Step {
      const char* workload;
      std::function<absl::Status(Sample*)> fn;
    };
    const Step steps[] = {
        {"rand-put", [&](Sample* s) { return Load(/*random=*/true, s); }},
        {"file-size",
         [&](Sample* s) {
           s->n = static_cast<double>(d_.n);
           s->file_bytes = static_cast<double>(engine.FileBytes());
           return absl::OkStatus();
         }},
        {"get-rand", [&](Sample* s) { return Gets(/*per_txn=*/1000, s); }},
        {"get-txn", [&](Sample* s) { return Gets(/*per_txn=*/1, s); }},
        {"scan", [&](Sample* s) { return Scan(s); }},
        {"commit-latency", [&](Sample* s) { return Commits(s); }},
        {"concurrent-read",
         [&](Sample* s) { return Concurrent(s, &(*samples)["concurrent-write"]); }},
    };
    for (const Step& step : steps) {
      Sample& s = (*samples)[step.workload];
      const bool reset = rss_reset_ && ResetPeakRss();
      if (absl::Status st = step.fn(&s); !st.ok()) return Fail(step.workload, st);
      s.peak_rss_bytes = static_cast<double>(PeakRssBytes(reset));
      Report(step.workload, s);
      if (std::string_view(step.workload) == "concurrent-read") {
        Sample& w = (*samples)["concurrent-write"];
        w.peak_rss_bytes = s.peak_rss_bytes;
        Report("concurrent-write", w);
      }
    }
    engine.Close();
    std::filesystem::remove_all(dir);
    return absl::OkStatus();
  }

 private:
  absl::Status Fail(const char* what, const absl::Status& s) {
    return absl::Status(s.code(),
                        std::string(engine_->name()) + " " + what + ": " + std::string(s.message()));
  }

  void Report(const char* workload, const Sample& s) {
    if (progress_ == nullptr) return;
    std::string line = "round " + std::to_string(round_ + 1) + "/" + std::to_string(o_.rounds) +
                       " " + std::string(engine_->name()) + " " + workload + ":";
    if (s.ops_per_s >= 0) {
      line += " " + Grouped(s.n) + " ops in " + Format("%.3f", s.seconds) + " s, " +
              Grouped(s.ops_per_s) + " ops/s";
    }
    if (s.p50_us >= 0) {
      line += ", p50 " + Micros(s.p50_us) + " us, p99 " + Micros(s.p99_us) + " us";
    }
    if (s.file_bytes >= 0) line += std::string(s.ops_per_s >= 0 ? "," : "") + " file " + Bytes(s.file_bytes);
    if (s.peak_rss_bytes >= 0) line += ", peak rss " + Bytes(s.peak_rss_bytes);
    std::fprintf(progress_, "%s\n", line.c_str());
    std::fflush(progress_);
  }

  // seq-put / rand-put: all N keys, --batch per durable write txn.
  absl::Status Load(bool random, Sample* s) {
    const bool reset = rss_reset_ && ResetPeakRss();
    Histogram h;
    std::vector<std::string_view> ks, vs;
    uint64_t total_ns = 0;
    for (uint64_t start = 0; start < d_.n; start += o_.batch) {
      const uint64_t end = std::min(d_.n, start + o_.batch);
      ks.clear();
      vs.clear();
      for (uint64_t i = start; i < end; ++i) {
        const uint64_t k = random ? d_.shuffled[i] : i;
        ks.push_back(d_.Key(k));
        vs.push_back(d_.Value(k));
      }
      const uint64_t t0 = NowNs();
      if (absl::Status st = engine_->PutBatch(ks, vs); !st.ok()) return st;
      const uint64_t dt = NowNs() - t0;
      h.Record(dt);
      total_ns += dt;
    }
    s->SetRate(static_cast<double>(d_.n), total_ns);
    s->SetLatency(h);
    s->file_bytes = static_cast<double>(engine_->FileBytes());
    s->peak_rss_bytes = static_cast<double>(PeakRssBytes(reset));
    if (!random) Report("seq-put", *s);
    return absl::OkStatus();
  }

  // get-rand (per_txn 1000) and get-txn (per_txn 1).
  absl::Status Gets(uint64_t per_txn, Sample* s) {
    std::unique_ptr<Reader> r = engine_->NewReader();
    Histogram h;
    uint64_t sink = 0;
    const uint64_t n = d_.queries.size();
    const uint64_t t0 = NowNs();
    for (uint64_t i = 0; i < n;) {
      const uint64_t end = std::min(n, i + per_txn);
      if (per_txn == 1) {
        const uint64_t a = NowNs();
        if (absl::Status st = r->Begin(); !st.ok()) return st;
        std::string_view v;
        if (absl::Status st = r->Get(d_.Key(d_.queries[i]), &v); !st.ok()) return st;
        if (v.size() != d_.value_size) return absl::DataLossError("value of the wrong size");
        sink += static_cast<unsigned char>(v[0]) + static_cast<unsigned char>(v.back());
        r->End();
        h.Record(NowNs() - a);
        ++i;
        continue;
      }
      if (absl::Status st = r->Begin(); !st.ok()) return st;
      for (; i < end; ++i) {
        const std::string_view key = d_.Key(d_.queries[i]);
        const uint64_t a = NowNs();
        std::string_view v;
        absl::Status st = r->Get(key, &v);
        const uint64_t b = NowNs();
        if (!st.ok()) return st;
        if (v.size() != d_.value_size) return absl::DataLossError("value of the wrong size");
        sink += static_cast<unsigned char>(v[0]) + static_cast<unsigned char>(v.back());
        h.Record(b - a);
      }
      r->End();
    }
    const uint64_t total = NowNs() - t0;
    sink_ += sink;
    s->SetRate(static_cast<double>(n), total);
    s->SetLatency(h);
    return absl::OkStatus();
  }

  // scan: full passes, one read txn each.
  absl::Status Scan(Sample* s) {
    std::unique_ptr<Reader> r = engine_->NewReader();
    const uint64_t passes = std::max<uint64_t>(1, (o_.scan_entries + d_.n - 1) / std::max<uint64_t>(d_.n, 1));
    uint64_t visited = 0;
    const uint64_t t0 = NowNs();
    for (uint64_t p = 0; p < passes; ++p) {
      if (absl::Status st = r->Begin(); !st.ok()) return st;
      uint64_t entries = 0, bytes = 0;
      if (absl::Status st = r->Scan(0, &entries, &bytes); !st.ok()) return st;
      r->End();
      if (entries != d_.n) {
        return absl::DataLossError("scan visited " + std::to_string(entries) + " entries, want " +
                                   std::to_string(d_.n));
      }
      if (bytes != d_.n * (d_.key_size + d_.value_size)) {
        return absl::DataLossError("scan visited " + std::to_string(bytes) + " bytes");
      }
      visited += entries;
      sink_ += bytes;
    }
    s->SetRate(static_cast<double>(visited), NowNs() - t0);
    return absl::OkStatus();
  }

  // commit-latency: single-put durable transactions, random overwrites.
  absl::Status Commits(Sample* s) {
    std::mt19937_64 rng(o_.seed ^ 0xC0FFEE);
    Histogram h;
    std::vector<std::string_view> ks(1), vs(1);
    uint64_t total = 0;
    for (uint64_t i = 0; i < o_.commits; ++i) {
      ks[0] = d_.Key(rng() % d_.n);
      vs[0] = d_.Value(rng());
      const uint64_t t0 = NowNs();
      if (absl::Status st = engine_->PutBatch(ks, vs); !st.ok()) return st;
      const uint64_t dt = NowNs() - t0;
      h.Record(dt);
      total += dt;
    }
    s->SetRate(static_cast<double>(o_.commits), total);
    s->SetLatency(h);
    return absl::OkStatus();
  }

  // concurrent-read / concurrent-write.
  absl::Status Concurrent(Sample* rs, Sample* ws) {
    const int readers = o_.readers;
    std::atomic<bool> go{false}, stop{false};
    std::vector<Histogram> hists(readers);
    std::vector<uint64_t> ops(readers, 0);
    std::vector<absl::Status> errors(readers);
    std::vector<std::thread> threads;
    std::atomic<uint64_t> sink{0};
    for (int t = 0; t < readers; ++t) {
      threads.emplace_back([&, t] {
        std::unique_ptr<Reader> r = engine_->NewReader();
        std::mt19937_64 rng(o_.seed * 1000 + t + 1);
        uint64_t local_sink = 0;
        while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
        while (!stop.load(std::memory_order_relaxed)) {
          if (absl::Status st = r->Begin(); !st.ok()) {
            errors[t] = st;
            return;
          }
          for (int j = 0; j < 1000; ++j) {
            const std::string_view key = d_.Key(rng() % d_.n);
            const uint64_t a = NowNs();
            std::string_view v;
            absl::Status st = r->Get(key, &v);
            const uint64_t b = NowNs();
            if (!st.ok()) {
              errors[t] = st;
              return;
            }
            local_sink += static_cast<unsigned char>(v[0]);
            hists[t].Record(b - a);
          }
          ops[t] += 1000;
          r->End();
        }
        sink += local_sink;
      });
    }
    std::mt19937_64 rng(o_.seed ^ 0xBEEF);
    Histogram wh;
    std::vector<std::string_view> ks, vs;
    uint64_t puts = 0;
    absl::Status werr;
    const uint64_t limit = static_cast<uint64_t>(o_.duration_s * 1e9);
    const uint64_t t0 = NowNs();
    go.store(true, std::memory_order_release);
    do {
      ks.clear();
      vs.clear();
      for (uint64_t i = 0; i < o_.batch; ++i) {
        ks.push_back(d_.Key(rng() % d_.n));
        vs.push_back(d_.Value(rng()));
      }
      const uint64_t a = NowNs();
      werr = engine_->PutBatch(ks, vs);
      const uint64_t dt = NowNs() - a;
      if (!werr.ok()) break;
      wh.Record(dt);
      puts += ks.size();
    } while (NowNs() - t0 < limit);
    stop.store(true);
    for (std::thread& t : threads) t.join();
    const uint64_t elapsed = NowNs() - t0;
    sink_ += sink.load();
    if (!werr.ok()) return werr;
    for (const absl::Status& e : errors) {
      if (!e.ok()) return e;
    }
    Histogram all;
    uint64_t total_ops = 0;
    for (int t = 0; t < readers; ++t) {
      all.Merge(hists[t]);
      total_ops += ops[t];
    }
    rs->SetRate(static_cast<double>(total_ops), elapsed);
    rs->SetLatency(all);
    ws->SetRate(static_cast<double>(puts), elapsed);
    ws->SetLatency(wh);
    return absl::OkStatus();
  }

  const BtreeSuiteOptions& o_;
  const DataSet& d_;
  std::FILE* progress_;
  bool rss_reset_;
  Engine* engine_ = nullptr;
  int round_ = 0;

 public:
  // Keeps reads from being optimized away.
  uint64_t sink_ = 0;
};

BtreeResult Aggregate(const std::string& workload, const std::string& engine,
                      const std::vector<Sample>& rounds) {
  BtreeResult r;
  r.workload = workload;
  r.engine = engine;
  auto med = [&](double Sample::*field) {
    std::vector<double> v;
    for (const Sample& s : rounds) {
      if (s.*field >= 0) v.push_back(s.*field);
    }
    return Median(v);
  };
  r.n = med(&Sample::n);
  r.seconds = med(&Sample::seconds);
  r.ops_per_s = med(&Sample::ops_per_s);
  r.p50_us = med(&Sample::p50_us);
  r.p99_us = med(&Sample::p99_us);
  r.p999_us = med(&Sample::p999_us);
  r.file_bytes = med(&Sample::file_bytes);
  r.peak_rss_bytes = med(&Sample::peak_rss_bytes);
  return r;
}

bool OnTmpfs(const std::string& dir) {
  struct statfs st;
  if (statfs(dir.c_str(), &st) != 0) return false;
  return st.f_type == 0x01021994;  // TMPFS_MAGIC
}

}  // namespace

absl::StatusOr<BtreeSuiteOptions> ParseBtreeSuiteFlags(const std::vector<std::string>& args) {
  BtreeSuiteOptions o;
  bool keys_set = false, rounds_set = false, duration_set = false;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    if (arg == "--help" || arg == "-h" || arg == "help") {
      o.help = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0) {
      return absl::InvalidArgumentError("unexpected argument \"" + arg + "\"");
    }
    std::string name = arg, value;
    bool has_value = false;
    if (size_t eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    }
    auto boolean = [&](bool* b) -> absl::Status {
      if (!has_value || value == "true" || value == "1") {
        *b = true;
      } else if (value == "false" || value == "0") {
        *b = false;
      } else {
        return absl::InvalidArgumentError("invalid value \"" + value + "\" for flag " + name);
      }
      return absl::OkStatus();
    };
    if (name == "--quick") {
      if (absl::Status s = boolean(&o.quick); !s.ok()) return s;
      continue;
    }
    if (name == "--json") {
      if (absl::Status s = boolean(&o.json); !s.ok()) return s;
      continue;
    }
    static const char* const kValued[] = {"--keys",    "--key-size", "--value-size", "--batch",
                                          "--rounds",  "--readers",  "--seed",       "--dir",
                                          "--gets",    "--commits",  "--duration",   "--scan-entries"};
    if (std::find_if(std::begin(kValued), std::end(kValued),
                     [&](const char* f) { return name == f; }) == std::end(kValued)) {
      return absl::InvalidArgumentError("unknown flag: " + name);
    }
    if (!has_value) {
      if (i + 1 >= args.size()) return absl::InvalidArgumentError("flag needs an argument: " + name);
      value = args[++i];
    }
    uint64_t u = 0;
    absl::Status s;
    if (name == "--dir") {
      if (value.empty()) return absl::InvalidArgumentError("flag --dir needs a directory");
      o.dir = value;
    } else if (name == "--duration") {
      s = ParseDouble(name, value, &o.duration_s);
      duration_set = true;
    } else {
      s = ParseUint(name, value, &u);
      if (!s.ok()) return s;
      if (name == "--keys") {
        o.keys = u;
        keys_set = true;
      } else if (name == "--key-size") {
        o.key_size = u;
      } else if (name == "--value-size") {
        o.value_size = u;
      } else if (name == "--batch") {
        o.batch = u;
      } else if (name == "--rounds") {
        o.rounds = static_cast<int>(std::min<uint64_t>(u, 1000));
        rounds_set = true;
      } else if (name == "--readers") {
        o.readers = static_cast<int>(std::min<uint64_t>(u, 256));
      } else if (name == "--seed") {
        o.seed = u;
      } else if (name == "--gets") {
        o.gets = u;
      } else if (name == "--commits") {
        o.commits = u;
      } else if (name == "--scan-entries") {
        o.scan_entries = u;
      }
    }
    if (!s.ok()) return s;
  }
  if (o.quick) {
    if (!keys_set) o.keys = 20'000;
    if (!rounds_set) o.rounds = 1;
    if (!duration_set) o.duration_s = 1.0;
  }
  if (o.keys == 0) return absl::InvalidArgumentError("--keys must be at least 1");
  if (o.keys > UINT32_MAX) return absl::InvalidArgumentError("--keys must be below 2^32");
  if (o.key_size == 0 || o.key_size > 4096) {
    return absl::InvalidArgumentError("--key-size must be in [1, 4096]");
  }
  if (o.value_size == 0 || o.value_size > (64 << 20)) {
    return absl::InvalidArgumentError("--value-size must be in [1, 64 MiB]");
  }
  if (o.batch == 0) return absl::InvalidArgumentError("--batch must be at least 1");
  if (o.rounds == 0) return absl::InvalidArgumentError("--rounds must be at least 1");
  if (o.readers == 0) return absl::InvalidArgumentError("--readers must be at least 1");
  return o;
}

absl::StatusOr<BtreeSuiteReport> RunBtreeSuite(const BtreeSuiteOptions& options,
                                               std::FILE* progress) {
  BtreeSuiteOptions o = options;
  const uint64_t gets = o.gets != 0 ? o.gets : std::max<uint64_t>(o.keys, 200'000);
  absl::StatusOr<DataSet> data = MakeDataSet(o, gets);
  if (!data.ok()) return data.status();

  // The directory.
  std::string base;
  bool remove_base = false;
  if (o.dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") +
                       "/revkv-bench-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) {
      return absl::InternalError("mkdtemp " + tmpl + ": " + std::strerror(errno));
    }
    base = tmpl;
    remove_base = true;
  } else {
    std::filesystem::path p = o.dir;
    const char* wd = std::getenv("BUILD_WORKING_DIRECTORY");  // under `bazel run`
    if (p.is_relative() && wd != nullptr && *wd != '\0') p = std::filesystem::path(wd) / p;
    std::error_code ec;
    std::filesystem::create_directories(p, ec);
    if (ec) return absl::InternalError("creating " + p.string() + ": " + ec.message());
    base = p.string();
  }
  struct Cleanup {
    std::string dir;
    bool on;
    ~Cleanup() {
      if (on) {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
      }
    }
  } cleanup{base, remove_base};

  std::unique_ptr<Engine> engines[2] = {NewRevkvEngine(), NewLmdbEngine()};
  BtreeSuiteReport report;
  report.options = o;
  report.options.gets = gets;
  report.revkv_description = engines[0]->Description();
  report.lmdb_description = engines[1]->Description();

  const bool rss_reset = ResetPeakRss();
  if (progress != nullptr) {
    std::fprintf(progress,
                 "revkv bench btree: %" PRIu64 " keys of %" PRIu64 " B, values of %" PRIu64
                 " B, batch %" PRIu64 ", %d round(s), %d reader(s), dir %s\n",
                 o.keys, o.key_size, o.value_size, o.batch, o.rounds, o.readers, base.c_str());
    if (OnTmpfs(base)) {
      std::fprintf(progress, "note: %s is on tmpfs, where fsync costs nothing\n", base.c_str());
    }
    std::fflush(progress);
  }

  // samples[engine][workload][round]
  std::map<std::string, std::map<std::string, std::vector<Sample>>> samples;
  Runner runner(o, *data, progress, rss_reset);
  for (int round = 0; round < o.rounds; ++round) {
    for (int k = 0; k < 2; ++k) {
      Engine& e = *engines[(round + k) % 2];  // who goes first alternates
      Samples s;
      if (absl::Status st = runner.RunRound(e, base, round, &s); !st.ok()) {
        e.Close();
        return st;
      }
      for (auto& [w, sample] : s) samples[std::string(e.name())][w].push_back(sample);
    }
  }

  for (const WorkloadSpec& w : kWorkloads) {
    BtreeComparison c;
    c.workload = w.name;
    c.latency_of = w.latency_of != nullptr ? w.latency_of : "";
    c.revkv = Aggregate(w.name, "revkv", samples["revkv"][w.name]);
    c.lmdb = Aggregate(w.name, "lmdb", samples["lmdb"][w.name]);
    switch (w.metric) {
      case WorkloadSpec::kOpsPerS:
        c.metric = "ops/s";
        c.higher_is_better = true;
        break;
      case WorkloadSpec::kP50:
        c.metric = "p50 latency";
        c.higher_is_better = false;
        break;
      case WorkloadSpec::kFileBytes:
        c.metric = "file bytes";
        c.higher_is_better = false;
        break;
    }
    const auto& rv = samples["revkv"][w.name];
    const auto& lv = samples["lmdb"][w.name];
    std::vector<double> ratios;
    for (size_t i = 0; i < rv.size() && i < lv.size(); ++i) {
      const double a = MetricOf(w, rv[i]), b = MetricOf(w, lv[i]);
      if (a >= 0 && b > 0) ratios.push_back(a / b);
    }
    c.ratio = Median(ratios);
    report.rows.push_back(c);
  }
  g_sink = g_sink + runner.sink_;  // keeps the reads alive
  return report;
}

std::string FormatBtreeTable(const BtreeSuiteReport& r) {
  const BtreeSuiteOptions& o = r.options;
  std::string out;
  out += "revkv bench btree: " + Grouped(static_cast<double>(o.keys)) + " keys of " +
         std::to_string(o.key_size) + " B, values of " + std::to_string(o.value_size) +
         " B, batch " + Grouped(static_cast<double>(o.batch)) + ", " +
         std::to_string(o.readers) + " reader(s), " + Grouped(static_cast<double>(o.gets)) +
         " gets, " + Grouped(static_cast<double>(o.commits)) + " commits, median of " +
         std::to_string(o.rounds) + " round(s)\n";
  out += "  revkv: " + r.revkv_description + "\n";
  out += "  lmdb:  " + r.lmdb_description + "\n\n";

  struct Line {
    std::string c[8];
  };
  std::vector<Line> lines;
  lines.push_back({{"workload", "revkv ops/s", "lmdb ops/s", "revkv/lmdb", "better",
                    "revkv p50/p99 µs", "lmdb p50/p99 µs", "latency of"}});
  for (const BtreeComparison& c : r.rows) {
    Line l;
    l.c[0] = c.workload;
    if (c.metric == "file bytes") {
      l.c[1] = c.revkv.file_bytes >= 0 ? Bytes(c.revkv.file_bytes) : "-";
      l.c[2] = c.lmdb.file_bytes >= 0 ? Bytes(c.lmdb.file_bytes) : "-";
    } else {
      l.c[1] = Grouped(c.revkv.ops_per_s);
      l.c[2] = Grouped(c.lmdb.ops_per_s);
    }
    l.c[3] = c.ratio >= 0 ? Format("%.2fx", c.ratio) : "-";
    l.c[4] = c.higher_is_better ? "higher" : ("lower " + std::string(c.metric == "file bytes"
                                                                         ? "(size)"
                                                                         : "(p50)"));
    auto lat = [](const BtreeResult& b) {
      return b.p50_us < 0 ? std::string("-") : Micros(b.p50_us) + "/" + Micros(b.p99_us);
    };
    l.c[5] = lat(c.revkv);
    l.c[6] = lat(c.lmdb);
    l.c[7] = c.latency_of.empty() ? "-" : c.latency_of;
    lines.push_back(l);
  }
  // Column widths in characters (µs is one character, two bytes).
  auto width = [](const std::string& s) {
    size_t w = 0;
    for (unsigned char ch : s) w += (ch & 0xC0) != 0x80;
    return w;
  };
  size_t widths[8] = {};
  for (const Line& l : lines) {
    for (int i = 0; i < 8; ++i) widths[i] = std::max(widths[i], width(l.c[i]));
  }
  for (const Line& l : lines) {
    std::string row;
    for (int i = 0; i < 8; ++i) {
      const std::string& cell = l.c[i];
      const size_t pad = widths[i] - width(cell);
      const bool left = i == 0 || i == 4 || i == 7;
      if (i > 0) row += "  ";
      if (left) {
        row += cell;
        if (i != 7) row += std::string(pad, ' ');
      } else {
        row += std::string(pad, ' ') + cell;
      }
    }
    out += row + "\n";
  }
  out +=
      "\nratio = revkv/lmdb of the row's metric (median over rounds of per-round ratios): ops/s\n"
      "for throughput rows (higher is better), p50 commit latency for commit-latency and\n"
      "file size for file-size rows (lower is better). file-size-seq: after seq-put;\n"
      "file-size: after rand-put. Every commit is durable (fsync).\n";
  return out;
}

std::string FormatBtreeJson(const BtreeSuiteReport& r) {
  std::string out;
  auto emit = [&](const BtreeResult& b) {
    std::string line = "{\"suite\":\"btree\",\"workload\":\"" + b.workload +
                       "\",\"engine\":\"" + b.engine + "\"";
    if (b.n >= 0) line += ",\"n\":" + Format("%.0f", b.n);
    if (b.seconds >= 0) line += ",\"seconds\":" + Format("%.6f", b.seconds);
    if (b.ops_per_s >= 0) line += ",\"ops_per_s\":" + Format("%.1f", b.ops_per_s);
    if (b.p50_us >= 0) line += ",\"p50_us\":" + Format("%.3f", b.p50_us);
    if (b.p99_us >= 0) line += ",\"p99_us\":" + Format("%.3f", b.p99_us);
    if (b.p999_us >= 0) line += ",\"p999_us\":" + Format("%.3f", b.p999_us);
    if (b.file_bytes >= 0) line += ",\"file_bytes\":" + Format("%.0f", b.file_bytes);
    if (b.peak_rss_bytes >= 0) line += ",\"peak_rss_bytes\":" + Format("%.0f", b.peak_rss_bytes);
    out += line + "}\n";
  };
  for (const BtreeComparison& c : r.rows) {
    emit(c.revkv);
    emit(c.lmdb);
  }
  return out;
}

int BtreeSuiteMain(const std::vector<std::string>& args) {
  absl::StatusOr<BtreeSuiteOptions> o = ParseBtreeSuiteFlags(args);
  if (!o.ok()) {
    std::fprintf(stderr, "Error: %s\n", std::string(o.status().message()).c_str());
    return 1;
  }
  if (o->help) {
    std::printf("%s", kBtreeUsage);
    return 0;
  }
  absl::StatusOr<BtreeSuiteReport> r = RunBtreeSuite(*o, stderr);
  if (!r.ok()) {
    std::fprintf(stderr, "Error: %s\n", std::string(r.status().message()).c_str());
    return 1;
  }
  const std::string text = o->json ? FormatBtreeJson(*r) : FormatBtreeTable(*r);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
  return 0;
}

}  // namespace revkv::bench
