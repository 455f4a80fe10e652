#include "bench/watch_workload.h"

#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <memory>
#include <random>
#include <stop_token>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "bench/histogram.h"
#include "bench/sysinfo.h"
#include "revkv/db.h"

namespace revkv::bench {

const char kWatchFlagsUsage[] =
    "FLAGS (watch):\n"
    "\t--watchers A,B,C\twatcher counts (default 1,1000,100000)\n"
    "\t--catchup N\t\trevisions a catching-up watcher starts behind (default 1000000; --quick: 20000)\n"
    "\t--duration S\t\tseconds per measurement (default 2; --quick: 0.25)\n"
    "\t--prefix=false\t\tskip the shared-prefix layout\n"
    "\n"
    "OUTPUT (watch):\n"
    "\tput-wW-keys|prefix: the writer's puts/s with W watchers against none (ratio with/without);\n"
    "\tdeliver-wW-...: events/s delivered and latency from put to delivery; catchup-N: events/s\n"
    "\tof a watcher N revisions behind while puts go on; below: RSS per idle watcher.\n";

namespace {

constexpr size_t kStampRing = size_t{1} << 22;
// Responses the consumer takes at a time (WatchStream::NextBatch): all that
// is queued, so NextBatch swaps the queue out instead of moving responses
// one by one under the lock the writer pushes under.
constexpr size_t kConsumerBatch = 65536;

uint64_t ThreadCpuNs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return uint64_t(ts.tv_sec) * 1000000000 + uint64_t(ts.tv_nsec);
}

// Voluntary context switches of the calling thread so far.
uint64_t ThreadSleeps() {
  rusage ru;
  getrusage(RUSAGE_THREAD, &ru);
  return uint64_t(ru.ru_nvcsw);
}

std::string WatchedKey(uint64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "key/%010" PRIu64, i);
  return buf;
}

uint64_t CurrentRssBytes() {
  std::ifstream in("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  in >> size >> resident;
  return resident * uint64_t(sysconf(_SC_PAGESIZE));
}

absl::StatusOr<std::unique_ptr<DB>> OpenDb(const WorkDir& dir, const std::string& name,
                                           const CommonFlags& c) {
  absl::StatusOr<std::string> where = dir.Fresh(name);
  if (!where.ok()) return where.status();
  Options opt;
  opt.batch_limit = int64_t(c.batch);
  return DB::Open(*where, opt);
}

struct PutRun {
  Sample put;      // the writer
  Sample deliver;  // the consumer
};

// One writer for `seconds`, putting keys chosen by `key(rng)`; if `stream`,
// one consumer reads it meanwhile.
absl::Status RunPuts(DB& db, mvcc::WatchStream* stream, double seconds, uint64_t seed,
                     uint64_t value_size, const std::function<std::string(std::mt19937_64&)>& key,
                     Progress& progress, const std::string& label, PutRun* out) {
  std::vector<std::atomic<uint64_t>> stamps(kStampRing);
  std::stop_source stop_consumer;
  uint64_t delivered = 0, last_delivery = 0, consumer_cpu = 0, consumer_sleeps = 0;
  std::jthread consumer;
  if (stream != nullptr) {
    consumer = std::jthread([&] {
      const uint64_t c0 = ThreadCpuNs();
      while (true) {
        std::vector<mvcc::WatchResponse> batch =
            stream->NextBatch(kConsumerBatch, stop_consumer.get_token());
        if (batch.empty()) break;
        const uint64_t now = MonotonicNs();
        for (const mvcc::WatchResponse& r : batch) {
          for (const mvcc::Event& e : r.events) {
            const uint64_t t = stamps[size_t(e.kv.mod_revision) & (kStampRing - 1)].load(
                std::memory_order_relaxed);
            if (t != 0 && now > t) out->deliver.latency.Record(now - t);
          }
          delivered += r.events.size();
        }
        last_delivery = now;
      }
      consumer_cpu = ThreadCpuNs() - c0;
      consumer_sleeps = ThreadSleeps();
    });
  }
  const std::string value(value_size, 'v');
  std::mt19937_64 rng(seed);
  progress.Begin(label, 0, seconds);
  const uint64_t t0 = MonotonicNs(), limit = uint64_t(seconds * 1e9);
  const uint64_t w0 = ThreadCpuNs();
  uint64_t n = 0, now = t0;
  int64_t rev = db.Rev();
  absl::Status error;
  while (now - t0 < limit) {
    const std::string k = key(rng);
    // One writer: the put's revision is the next one.
    stamps[size_t(rev + 1) & (kStampRing - 1)].store(now, std::memory_order_relaxed);
    absl::StatusOr<int64_t> r = db.Put(k, value);
    if (!r.ok()) {
      error = r.status();
      break;
    }
    rev = *r;
    const uint64_t after = MonotonicNs();
    out->put.latency.Record(after - now);
    now = after;
    if (++n % 4096 == 0) progress.Update(n);
  }
  out->put.SetTime(n, now - t0);
  const uint64_t writer_cpu = ThreadCpuNs() - w0;
  if (stream != nullptr) {
    stop_consumer.request_stop();
    consumer.join();
    out->deliver.SetTime(delivered, (last_delivery > t0 ? last_delivery : now) - t0);
  }
  // CPU time per put of the writer and the consumer threads, and how often
  // the consumer slept: where the cost of watching goes.
  char summary[300];
  std::snprintf(summary, sizeof(summary),
                "%s: %s puts/s; CPU per put: writer %.2f us, consumer %.2f us; consumer slept "
                "%" PRIu64 " times",
                label.c_str(), FormatRate(out->put.ops_per_s()).c_str(),
                double(writer_cpu) / 1e3 / double(std::max<uint64_t>(n, 1)),
                double(consumer_cpu) / 1e3 / double(std::max<uint64_t>(n, 1)), consumer_sleeps);
  progress.End(summary);
  return error;
}

}  // namespace

absl::StatusOr<WatchBenchOptions> ParseWatchFlags(const std::vector<std::string>& args) {
  WatchBenchOptions o;
  FlagSet fs;
  AddCommonFlags(&fs, &o.common);
  std::string watchers;
  bool watchers_set = false, duration_set = false, catchup_set = false;
  fs.AddString("--watchers", &watchers, &watchers_set);
  fs.AddUint("--catchup", &o.catchup, &catchup_set);
  fs.AddDouble("--duration", &o.duration_s, &duration_set);
  fs.AddBool("--prefix", &o.prefix);
  if (absl::Status s = fs.Parse(args); !s.ok()) return s;
  if (watchers_set) {
    o.watchers.clear();
    for (absl::string_view w : absl::StrSplit(watchers, ',', absl::SkipEmpty())) {
      uint64_t c = 0;
      if (!absl::SimpleAtoi(w, &c) || c == 0 || c > 10'000'000) {
        return absl::InvalidArgumentError("flag --watchers: \"" + std::string(w) +
                                          "\" is not a watcher count in [1, 10000000]");
      }
      o.watchers.push_back(c);
    }
    if (o.watchers.empty()) return absl::InvalidArgumentError("flag --watchers: no count");
  }
  if (o.common.quick) {
    if (!duration_set) o.duration_s = 0.25;
    if (!catchup_set) o.catchup = 20'000;
    if (!watchers_set) o.watchers = {1, 1000};
  }
  if (absl::Status s = ValidateCommonFlags(o.common); !s.ok()) return s;
  if (!(o.duration_s > 0)) return absl::InvalidArgumentError("flag --duration must be positive");
  if (o.catchup == 0) return absl::InvalidArgumentError("flag --catchup must be positive");
  return o;
}

absl::StatusOr<Report> RunWatch(const WatchBenchOptions& o, Progress& progress) {
  const CommonFlags& c = o.common;
  absl::StatusOr<std::unique_ptr<WorkDir>> dir = WorkDir::Create(c.dir);
  if (!dir.ok()) return dir.status();
  Report report;
  report.suite = "watch";
  report.peer_name = "no watchers";
  report.header.push_back(
      "revkv bench watch: one writer putting " + std::to_string(c.value_size) +
      " B values through revkv::DB for " + FormatRate(o.duration_s) +
      " s per measurement, one consumer reading the stream of all watchers");

  // Idle watchers first, largest count first, before anything else has
  // grown the heap (freed memory the allocator keeps would hide the growth).
  {
    std::vector<uint64_t> counts = o.watchers;
    std::sort(counts.rbegin(), counts.rend());
    for (uint64_t w : counts) {
      absl::StatusOr<std::unique_ptr<DB>> db = OpenDb(**dir, "idle", c);
      if (!db.ok()) return db.status();
      auto stream = (*db)->NewWatchStream();
      std::vector<std::string> keys;
      keys.reserve(w);
      for (uint64_t i = 0; i < w; ++i) keys.push_back(WatchedKey(i));
      const uint64_t rss0 = CurrentRssBytes();
      const size_t heap0 = mallinfo2().uordblks;
      for (uint64_t i = 0; i < w; ++i) {
        if (absl::StatusOr<mvcc::WatchId> id = stream->Watch(keys[i], "", {}); !id.ok()) {
          return id.status();
        }
      }
      const uint64_t rss1 = CurrentRssBytes();
      const size_t heap1 = mallinfo2().uordblks;
      char line[240];
      const int n = std::snprintf(line, sizeof(line),
                                  "  idle watchers on distinct keys: %" PRIu64 ": RSS +%s (%.0f B each)",
                                  w, FormatBytes(double(rss1 - std::min(rss0, rss1))).c_str(),
                                  double(rss1 - std::min(rss0, rss1)) / double(w));
      // glibc's count of the heap in use; another allocator (the revkv
      // binary links jemalloc) leaves it at zero.
      if (heap1 > 0 && n > 0 && size_t(n) < sizeof(line)) {
        std::snprintf(line + n, sizeof(line) - size_t(n), ", heap in use +%s (%.0f B each)",
                      FormatBytes(double(heap1 - std::min(heap0, heap1))).c_str(),
                      double(heap1 - std::min(heap0, heap1)) / double(w));
      }
      report.footer.push_back(line);
      progress.Line(line + 2);
      stream.reset();
      if (absl::Status s = (*db)->Close(); !s.ok()) return s;
      (*dir)->Remove("idle");
    }
  }

  std::vector<std::string> layouts = {"keys"};
  if (o.prefix) layouts.push_back("prefix");
  uint64_t seed = c.seed;
  for (uint64_t w : o.watchers) {
    for (const std::string& layout : layouts) {
      const bool prefix = layout == "prefix";
      auto key = [&](std::mt19937_64& rng) { return WatchedKey(rng() % w); };
      // Without watchers, then with, each on a fresh store.
      PutRun base, with;
      {
        absl::StatusOr<std::unique_ptr<DB>> db = OpenDb(**dir, "base", c);
        if (!db.ok()) return db.status();
        if (absl::Status s = RunPuts(**db, nullptr, o.duration_s, ++seed, c.value_size, key,
                                     progress, "no watchers (w" + std::to_string(w) + ")", &base);
            !s.ok()) {
          return s;
        }
        if (absl::Status s = (*db)->Close(); !s.ok()) return s;
      }
      {
        absl::StatusOr<std::unique_ptr<DB>> db = OpenDb(**dir, "with", c);
        if (!db.ok()) return db.status();
        auto stream = (*db)->NewWatchStream();
        for (uint64_t i = 0; i < w; ++i) {
          absl::StatusOr<mvcc::WatchId> id =
              prefix ? stream->Watch("key/", "key0", {}) : stream->Watch(WatchedKey(i), "", {});
          if (!id.ok()) return id.status();
        }
        const std::string label = std::to_string(w) + " watchers (" + layout + ")";
        if (absl::Status s = RunPuts(**db, stream.get(), o.duration_s, ++seed, c.value_size, key,
                                     progress, label, &with);
            !s.ok()) {
          return s;
        }
        stream.reset();
        if (absl::Status s = (*db)->Close(); !s.ok()) return s;
      }
      (*dir)->Remove("base");
      (*dir)->Remove("with");
      const std::string suffix = "-w" + std::to_string(w) + "-" + layout;
      Row put;
      put.workload = "put" + suffix;
      put.revkv = Aggregate("watch", put.workload, "revkv", {with.put});
      put.peer = Aggregate("watch", put.workload, "no watchers", {base.put});
      put.ratio = MedianRatio({with.put}, {base.put});
      put.note = "one put, with " + std::to_string(w) + " watchers " +
                 (prefix ? "on one prefix" : "on distinct keys") + " against none";
      report.rows.push_back(std::move(put));
      Row del;
      del.workload = "deliver" + suffix;
      del.revkv = Aggregate("watch", del.workload, "revkv", {with.deliver});
      del.note = "one event delivered; latency from the start of its put to the consumer";
      report.rows.push_back(std::move(del));
    }
  }

  // Catch-up: a watcher N revisions behind, while the writer goes on.
  {
    absl::StatusOr<std::unique_ptr<DB>> db = OpenDb(**dir, "catchup", c);
    if (!db.ok()) return db.status();
    const std::string value(c.value_size, 'v');
    progress.Begin("catch-up: loading " + FormatCount(double(o.catchup)) + " revisions",
                   o.catchup, 0);
    std::mt19937_64 rng(++seed);
    for (uint64_t i = 0; i < o.catchup; ++i) {
      absl::StatusOr<int64_t> r = (*db)->Put(WatchedKey(rng() % 100000), value);
      if (!r.ok()) return r.status();
      if (i % 65536 == 0) progress.Update(i);
    }
    progress.End("loaded");
    const int64_t start = (*db)->Rev() - int64_t(o.catchup) + 1;
    std::atomic<bool> writing{true};
    std::jthread writer([&] {
      std::mt19937_64 wr(seed + 1);
      while (writing.load(std::memory_order_relaxed)) {
        if (!(*db)->Put(WatchedKey(wr() % 100000), value).ok()) return;
      }
    });
    auto stream = (*db)->NewWatchStream();
    Sample catchup;
    progress.Begin("catch-up", 0, 0);
    const uint64_t t0 = MonotonicNs();
    absl::StatusOr<mvcc::WatchId> id = stream->Watch("key/", "key0", {.start_rev = start});
    if (!id.ok()) return id.status();
    // Caught up: an event of a revision written after the watch began.
    const int64_t target = (*db)->Rev() + 1;
    uint64_t events = 0;
    int64_t last = 0;
    while (last < target) {
      std::optional<mvcc::WatchResponse> r = stream->Next();
      if (!r) return absl::InternalError("watch bench: the stream closed during catch-up");
      if (r->canceled) return absl::InternalError("watch bench: the catch-up was canceled");
      events += r->events.size();
      if (!r->events.empty()) last = r->events.back().kv.mod_revision;
    }
    catchup.SetTime(events, MonotonicNs() - t0);
    writing = false;
    writer.join();
    progress.End("catch-up: " + FormatRate(catchup.ops_per_s()) + " events/s");
    stream.reset();
    if (absl::Status s = (*db)->Close(); !s.ok()) return s;
    (*dir)->Remove("catchup");
    Row row;
    row.workload = "catchup-" + std::to_string(o.catchup);
    row.revkv = Aggregate("watch", row.workload, "revkv", {catchup});
    row.note = "one event of a watcher starting " + FormatCount(double(o.catchup)) +
               " revisions behind, until it is caught up, while a writer puts";
    report.rows.push_back(std::move(row));
  }
  return report;
}

}  // namespace revkv::bench
