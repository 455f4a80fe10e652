#include "bench/btree_runner.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "bench/progress.h"
#include "bench/report.h"
#include "bench/sysinfo.h"

namespace revkv::bench {

absl::StatusOr<BtreeData> MakeBtreeData(const BtreeSuiteOptions& o, uint64_t gets) {
  absl::StatusOr<DataSet> data = MakeDataSet(o.keys, o.key_size, o.value_size, o.seed);
  if (!data.ok()) return data.status();
  BtreeData d;
  static_cast<DataSet&>(d) = *std::move(data);
  std::mt19937_64 rng(o.seed ^ 0x5175657269657321ull);  // the gets' own stream
  d.queries.resize(gets);
  for (uint64_t i = 0; i < gets; ++i) d.queries[i] = static_cast<uint32_t>(rng() % d.n);
  return d;
}

void RoundSample::SetLatency(const Histogram& h) {
  latency.Merge(h);
  if (h.Count() == 0) return;
  p50_us = h.Percentile(50) / 1000.0;
  p99_us = h.Percentile(99) / 1000.0;
  p999_us = h.Percentile(99.9) / 1000.0;
}

void RoundSample::SetRate(double ops, uint64_t ns) {
  n = ops;
  seconds = ns / 1e9;
  ops_per_s = seconds > 0 ? ops / seconds : -1;
  timeline.Finish(ns);
}

namespace {

using Clock = std::chrono::steady_clock;

inline uint64_t NowNs() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
          .count());
}

std::string Format(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), fmt, v);
  return buf;
}


class Runner {
 public:
  Runner(const BtreeSuiteOptions& o, const BtreeData& d, std::FILE* progress, bool rss_reset)
      : o_(o),
        d_(d),
        progress_(progress),
        bar_(progress, progress == stderr && isatty(STDERR_FILENO) == 1),
        rss_reset_(rss_reset) {}

  // Runs every workload of one round on `engine`, in directories under
  // `base`. Fills samples.
  absl::Status RunRound(Engine& engine, const std::string& base, int round, RoundSamples* samples) {
    engine_ = &engine;
    round_ = round;
    const std::string name(engine.name());
    // seq-put into its own file.
    {
      const std::string dir = base + "/" + name + "-seq";
      std::filesystem::remove_all(dir);
      std::filesystem::create_directories(dir);
      if (absl::Status s = engine.Open(dir); !s.ok()) return Fail("open", s);
      RoundSample& s = (*samples)["seq-put"];
      if (absl::Status st = Load(/*random=*/false, &s); !st.ok()) return Fail("seq-put", st);
      RoundSample& f = (*samples)["file-size-seq"];
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
      std::function<absl::Status(RoundSample*)> fn;
    };
    const Step steps[] = {
        {"rand-put", [&](RoundSample* s) { return Load(/*random=*/true, s); }},
        {"file-size",
         [&](RoundSample* s) {
           s->n = static_cast<double>(d_.n);
           s->file_bytes = static_cast<double>(engine.FileBytes());
           return absl::OkStatus();
         }},
        {"get-rand", [&](RoundSample* s) { return Gets(/*per_txn=*/1000, s); }},
        {"get-txn", [&](RoundSample* s) { return Gets(/*per_txn=*/1, s); }},
        {"scan", [&](RoundSample* s) { return Scan(s); }},
        {"commit-latency", [&](RoundSample* s) { return Commits(s); }},
        {"concurrent-read",
         [&](RoundSample* s) { return Concurrent(s, &(*samples)["concurrent-write"]); }},
    };
    for (const Step& step : steps) {
      RoundSample& s = (*samples)[step.workload];
      const bool reset = rss_reset_ && ResetPeakRss();
      if (absl::Status st = step.fn(&s); !st.ok()) return Fail(step.workload, st);
      s.peak_rss_bytes = static_cast<double>(PeakRssBytes(reset));
      Report(step.workload, s);
      if (std::string_view(step.workload) == "concurrent-read") {
        RoundSample& w = (*samples)["concurrent-write"];
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

  // Starts the live progress line of `workload`.
  void Begin(const char* workload, uint64_t total, double seconds) {
    bar_.Begin("round " + std::to_string(round_ + 1) + "/" + std::to_string(o_.rounds) + " " +
                   std::string(engine_->name()) + " " + workload,
               total, seconds);
  }

  void Report(const char* workload, const RoundSample& s) {
    if (progress_ == nullptr) return;
    std::string line = "round " + std::to_string(round_ + 1) + "/" + std::to_string(o_.rounds) +
                       " " + std::string(engine_->name()) + " " + workload + ":";
    if (s.ops_per_s >= 0) {
      line += " " + FormatCount(s.n) + " ops in " + Format("%.3f", s.seconds) + " s, " +
              FormatCount(s.ops_per_s) + " ops/s";
    }
    if (s.p50_us >= 0) {
      line += ", p50 " + FormatMicros(s.p50_us) + " us, p99 " + FormatMicros(s.p99_us) + " us";
    }
    if (s.file_bytes >= 0) line += std::string(s.ops_per_s >= 0 ? "," : "") + " file " + FormatBytes(s.file_bytes);
    if (s.peak_rss_bytes >= 0) line += ", peak rss " + FormatBytes(s.peak_rss_bytes);
    bar_.End(line);
  }

  // seq-put / rand-put: all N keys, --batch per durable write txn.
  absl::Status Load(bool random, RoundSample* s) {
    const bool reset = rss_reset_ && ResetPeakRss();
    Histogram h;
    std::vector<std::string_view> ks, vs;
    uint64_t total_ns = 0;
    const uint64_t wall0 = NowNs();
    Begin(random ? "rand-put" : "seq-put", d_.n, 0);
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
      s->timeline.Record(NowNs() - wall0, end - start);
      bar_.Update(end);
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
  absl::Status Gets(uint64_t per_txn, RoundSample* s) {
    std::unique_ptr<Reader> r = engine_->NewReader();
    Histogram h;
    uint64_t sink = 0;
    const uint64_t n = d_.queries.size();
    Begin(per_txn == 1 ? "get-txn" : "get-rand", n, 0);
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
        const uint64_t b = NowNs();
        h.Record(b - a);
        s->timeline.Record(b - t0);
        bar_.Update(i);
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
        s->timeline.Record(b - t0);
        bar_.Update(i);
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
  absl::Status Scan(RoundSample* s) {
    std::unique_ptr<Reader> r = engine_->NewReader();
    const uint64_t passes = std::max<uint64_t>(1, (o_.scan_entries + d_.n - 1) / std::max<uint64_t>(d_.n, 1));
    uint64_t visited = 0;
    Begin("scan", passes * d_.n, 0);
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
      s->timeline.Record(NowNs() - t0, entries);
      bar_.Update(visited);
      sink_ += bytes;
    }
    s->SetRate(static_cast<double>(visited), NowNs() - t0);
    return absl::OkStatus();
  }

  // commit-latency: single-put durable transactions, random overwrites.
  absl::Status Commits(RoundSample* s) {
    std::mt19937_64 rng(o_.seed ^ 0xC0FFEE);
    Histogram h;
    std::vector<std::string_view> ks(1), vs(1);
    uint64_t total = 0;
    const uint64_t wall0 = NowNs();
    Begin("commit-latency", o_.commits, 0);
    for (uint64_t i = 0; i < o_.commits; ++i) {
      ks[0] = d_.Key(rng() % d_.n);
      vs[0] = d_.Value(rng());
      const uint64_t t0 = NowNs();
      if (absl::Status st = engine_->PutBatch(ks, vs); !st.ok()) return st;
      const uint64_t dt = NowNs() - t0;
      h.Record(dt);
      s->timeline.Record(NowNs() - wall0);
      bar_.Update(i + 1);
      total += dt;
    }
    s->SetRate(static_cast<double>(o_.commits), total);
    s->SetLatency(h);
    return absl::OkStatus();
  }

  // concurrent-read / concurrent-write.
  absl::Status Concurrent(RoundSample* rs, RoundSample* ws) {
    const int readers = o_.readers;
    std::atomic<bool> go{false}, stop{false};
    std::vector<Histogram> hists(readers);
    std::vector<Timeline> lines(readers);
    std::atomic<uint64_t> start_ns{0};  // set before go
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
        const uint64_t base = start_ns.load(std::memory_order_relaxed);
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
          lines[t].Record(NowNs() - base, 1000);
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
    Begin("concurrent", 0, o_.duration_s);
    const uint64_t t0 = NowNs();
    start_ns.store(t0, std::memory_order_relaxed);
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
      ws->timeline.Record(NowNs() - t0, ks.size());
      bar_.Update(puts + ks.size());
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
      rs->timeline.Merge(lines[t]);
      total_ops += ops[t];
    }
    rs->SetRate(static_cast<double>(total_ops), elapsed);
    rs->SetLatency(all);
    ws->SetRate(static_cast<double>(puts), elapsed);
    ws->SetLatency(wh);
    return absl::OkStatus();
  }

  const BtreeSuiteOptions& o_;
  const BtreeData& d_;
  std::FILE* progress_;
  Progress bar_;  // the live line of the workload running
  bool rss_reset_;
  Engine* engine_ = nullptr;
  int round_ = 0;

 public:
  // Keeps reads from being optimized away.
  uint64_t sink_ = 0;
};

}  // namespace

absl::Status RunBtreeRound(const BtreeSuiteOptions& o, const BtreeData& d, std::FILE* progress,
                           bool rss_reset, Engine& engine, const std::string& base, int round,
                           RoundSamples* samples, uint64_t* sink) {
  Runner runner(o, d, progress, rss_reset);
  absl::Status s = runner.RunRound(engine, base, round, samples);
  *sink += runner.sink_;
  return s;
}

}  // namespace revkv::bench
