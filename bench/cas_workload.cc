#include "bench/cas_workload.h"

#include <lmdb.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <latch>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "backend/backend.h"
#include "bench/dataset.h"
#include "bench/histogram.h"
#include "bench/lmdb_env.h"
#include "bench/sysinfo.h"
#include "bench/timeline.h"
#include "kvstore/revkv_store.h"
#include "mvcc/store.h"
#include "revkv/db.h"

namespace revkv::bench {

const char kCasFlagsUsage[] =
    "FLAGS (cas):\n"
    "\t--clients A,B,C\t\tclient threads of each measurement (default 1,8,64)\n"
    "\t--keys N\t\tkeys the clients share out, loaded first (default 10000; --quick: 1000)\n"
    "\t--duration S\t\tseconds per client count and engine (default 2; --quick: 0.25)\n"
    "\t--rounds R\t\trounds; the table shows medians (default 1)\n"
    "\t--lmdb=false\t\tskip the LMDB runs\n"
    "\n"
    "OUTPUT (cas):\n"
    "\tOne row per client count (cas-C): ops/s of both engines, revkv/lmdb, and p50/p99/p99.9\n"
    "\tlatency of one operation in µs. One operation: a Get and a compare-and-swap against\n"
    "\twhat it read (revkv: libkv's Get + AtomicPut through kvstore::RevkvStore; lmdb: a read\n"
    "\ttxn, then a write txn that compares and puts), durable (fsync) when it returns.\n";

namespace {

constexpr char kBucket[] = "bench";

// One engine as the clients drive it.
class CasEngine {
 public:
  virtual ~CasEngine() = default;
  virtual std::string_view name() const = 0;
  virtual std::string Description() const = 0;
  // Opens a new file in the existing, empty directory `dir` holding every
  // key of `d`, for up to `clients` client threads.
  virtual absl::Status Open(const std::string& dir, const DataSet& d, uint64_t clients,
                            uint64_t batch) = 0;
  // One operation: Get `key`, then swap in `value` if it is still what was
  // read, durably. Called from many threads at once.
  virtual absl::Status Op(std::string_view key, std::string_view value) = 0;
  virtual absl::Status Close() = 0;
  virtual uint64_t FileBytes() = 0;
};

class RevkvCas : public CasEngine {
 public:
  ~RevkvCas() override { Close().IgnoreError(); }
  std::string_view name() const override { return "revkv"; }
  std::string Description() const override {
    return "kvstore::RevkvStore (libkv) over the mvcc store: Get, then AtomicPut(previous), "
           "which commits (fsync) before it returns";
  }

  absl::Status Open(const std::string& dir, const DataSet& d, uint64_t clients,
                    uint64_t batch) override {
    if (absl::Status s = Close(); !s.ok()) return s;
    path_ = dir + "/revkv.db";
    // The load, not timed: through the libkv layer over a store this
    // function owns (Wrap does not commit per write; the backend batches).
    {
      Options options;
      options.batch_limit = static_cast<int64_t>(batch);
      absl::StatusOr<std::unique_ptr<DB>> db = DB::OpenFile(path_, options);
      if (!db.ok()) return db.status();
      absl::StatusOr<std::unique_ptr<kvstore::RevkvStore>> kv =
          kvstore::RevkvStore::Wrap(db->get(), kBucket);
      if (!kv.ok()) return kv.status();
      for (uint64_t i = 0; i < d.n; ++i) {
        if (absl::Status s = (*kv)->Put(d.Key(i), d.Value(i)); !s.ok()) return s;
      }
      kv->reset();
      if (absl::Status s = (*db)->Close(); !s.ok()) return s;
    }
    kvstore::Config config;
    config.bucket = kBucket;
    absl::StatusOr<std::unique_ptr<kvstore::RevkvStore>> kv =
        kvstore::RevkvStore::Open(path_, config);
    if (!kv.ok()) return kv.status();
    kv_ = *std::move(kv);
    return absl::OkStatus();
  }

  absl::Status Op(std::string_view key, std::string_view value) override {
    absl::StatusOr<kvstore::KVPair> cur = kv_->Get(key);
    if (!cur.ok()) return cur.status();
    return kv_->AtomicPut(key, value, *cur).status();
  }

  absl::Status Close() override {
    if (kv_ != nullptr) kv_->Close();
    kv_.reset();
    return absl::OkStatus();
  }

  uint64_t FileBytes() override { return FileSize(path_); }

 private:
  std::string path_;
  std::unique_ptr<kvstore::RevkvStore> kv_;
};

class LmdbCas : public CasEngine {
 public:
  ~LmdbCas() override { Close().IgnoreError(); }
  std::string_view name() const override { return "lmdb"; }
  std::string Description() const override {
    return std::string(mdb_version(nullptr, nullptr, nullptr)) +
           ", 64 GiB map: a read txn, then a write txn that compares and puts, committed with "
           "the default durability";
  }

  absl::Status Open(const std::string& dir, const DataSet& d, uint64_t clients,
                    uint64_t batch) override {
    if (absl::Status s = Close(); !s.ok()) return s;
    const unsigned readers = static_cast<unsigned>(std::max<uint64_t>(126, clients + 16));
    if (absl::Status s = OpenLmdb(dir, 0, readers, &env_, &dbi_); !s.ok()) {
      env_ = nullptr;
      return s;
    }
    path_ = dir + "/data.mdb";
    for (uint64_t i = 0; i < d.n;) {
      MDB_txn* txn = nullptr;
      int rc = mdb_txn_begin(env_, nullptr, 0, &txn);
      if (rc != 0) return LmdbError("mdb_txn_begin", rc);
      for (const uint64_t end = std::min(d.n, i + batch); i < end; ++i) {
        MDB_val k = LmdbVal(d.Key(i)), v = LmdbVal(d.Value(i));
        if ((rc = mdb_put(txn, dbi_, &k, &v, 0)) != 0) {
          mdb_txn_abort(txn);
          return LmdbError("mdb_put", rc);
        }
      }
      if ((rc = mdb_txn_commit(txn)) != 0) return LmdbError("mdb_txn_commit", rc);
    }
    return absl::OkStatus();
  }

  absl::Status Op(std::string_view key, std::string_view value) override {
    MDB_val k = LmdbVal(key), v;
    std::string read;
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
    if (rc != 0) return LmdbError("mdb_txn_begin(rdonly)", rc);
    rc = mdb_get(txn, dbi_, &k, &v);
    if (rc == 0) read.assign(static_cast<const char*>(v.mv_data), v.mv_size);
    mdb_txn_abort(txn);  // a thread has one transaction at a time
    if (rc != 0) return LmdbError("mdb_get", rc);
    if ((rc = mdb_txn_begin(env_, nullptr, 0, &txn)) != 0) return LmdbError("mdb_txn_begin", rc);
    rc = mdb_get(txn, dbi_, &k, &v);
    if (rc == 0 && std::string_view(static_cast<const char*>(v.mv_data), v.mv_size) != read) {
      mdb_txn_abort(txn);
      return absl::FailedPreconditionError("lmdb: the key changed between the get and the swap");
    }
    MDB_val nv = LmdbVal(value);
    if (rc == 0) rc = mdb_put(txn, dbi_, &k, &nv, 0);
    if (rc != 0) {
      mdb_txn_abort(txn);
      return LmdbError("mdb_get/mdb_put", rc);
    }
    if ((rc = mdb_txn_commit(txn)) != 0) return LmdbError("mdb_txn_commit", rc);
    return absl::OkStatus();
  }

  absl::Status Close() override {
    if (env_ != nullptr) mdb_env_close(env_);
    env_ = nullptr;
    return absl::OkStatus();
  }

  uint64_t FileBytes() override { return FileSize(path_); }

 private:
  MDB_env* env_ = nullptr;
  MDB_dbi dbi_ = 0;
  std::string path_;
};

// `clients` threads run e.Op for `seconds` on their own keys of `d`.
absl::Status Measure(CasEngine& e, const DataSet& d, uint64_t clients, double seconds,
                     uint64_t seed, Progress& progress, const std::string& label, Sample* out) {
  struct Client {
    Histogram latency;
    Timeline timeline;
    std::atomic<uint64_t> ops{0};
    uint64_t last_ns = 0;
    absl::Status error;
  };
  const bool reset = ResetPeakRss();
  progress.Begin(label, 0, seconds);
  std::vector<std::unique_ptr<Client>> state;
  for (uint64_t c = 0; c < clients; ++c) state.push_back(std::make_unique<Client>());
  std::atomic<bool> stop{false};
  std::latch start(1);
  uint64_t t0 = 0;  // written before start.count_down(), read after start.wait()
  const uint64_t limit_ns = static_cast<uint64_t>(seconds * 1e9);
  std::vector<std::thread> threads;
  for (uint64_t c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      Client& me = *state[c];
      std::mt19937_64 rng(seed * 1000003 + c);
      // Client c's keys: c, c + clients, c + 2 * clients, ...
      const uint64_t mine = (d.n - c + clients - 1) / clients;
      start.wait();
      uint64_t now = MonotonicNs(), ops = 0;
      while (now - t0 < limit_ns && !stop.load(std::memory_order_relaxed)) {
        const uint64_t a = now;
        const uint64_t i = c + clients * (rng() % mine);
        me.error = e.Op(d.Key(i), d.Value(rng()));
        if (!me.error.ok()) {
          stop.store(true);
          break;
        }
        now = MonotonicNs();
        me.latency.Record(now - a);
        me.timeline.Record(now - t0);
        me.ops.store(++ops, std::memory_order_relaxed);
      }
      me.last_ns = now;
    });
  }
  t0 = MonotonicNs();
  start.count_down();
  auto done = [&] {
    uint64_t n = 0;
    for (const auto& c : state) n += c->ops.load(std::memory_order_relaxed);
    return n;
  };
  while (MonotonicNs() - t0 < limit_ns && !stop.load(std::memory_order_relaxed)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    progress.Update(done());
  }
  for (std::thread& t : threads) t.join();
  uint64_t end = t0, n = 0;
  for (const auto& c : state) {
    if (!c->error.ok()) {
      progress.End("");
      return absl::Status(c->error.code(), std::string(e.name()) + " cas: " +
                                               std::string(c->error.message()));
    }
    end = std::max(end, c->last_ns);
    n += c->ops.load(std::memory_order_relaxed);
    out->latency.Merge(c->latency);
    out->timeline.Merge(c->timeline);
  }
  out->n = static_cast<double>(n);
  out->seconds = (end - t0) / 1e9;
  out->timeline.Finish(end - t0);
  out->peak_rss_bytes = static_cast<double>(PeakRssBytes(reset));
  out->file_bytes = static_cast<double>(e.FileBytes());
  char summary[256];
  std::snprintf(summary, sizeof(summary), "%s: %s ops/s, p99 %s µs", label.c_str(),
                FormatRate(out->ops_per_s()).c_str(),
                FormatMicros(out->latency.Percentile(99) / 1e3).c_str());
  progress.End(summary);
  return absl::OkStatus();
}

std::string Workload(uint64_t clients) { return "cas-" + std::to_string(clients); }

}  // namespace

absl::StatusOr<CasOptions> ParseCasFlags(const std::vector<std::string>& args) {
  CasOptions o;
  FlagSet fs;
  AddCommonFlags(&fs, &o.common);
  std::string clients;
  bool clients_set = false, duration_set = false;
  fs.AddString("--clients", &clients, &clients_set);
  fs.AddUint("--rounds", &o.rounds);
  fs.AddDouble("--duration", &o.duration_s, &duration_set);
  fs.AddBool("--lmdb", &o.lmdb);
  if (absl::Status s = fs.Parse(args); !s.ok()) return s;
  if (clients_set) {
    o.clients.clear();
    for (absl::string_view w : absl::StrSplit(clients, ',', absl::SkipEmpty())) {
      uint64_t c = 0;
      if (!absl::SimpleAtoi(w, &c) || c == 0 || c > 1024) {
        return absl::InvalidArgumentError("flag --clients: \"" + std::string(w) +
                                          "\" is not a client count in [1, 1024]");
      }
      if (std::find(o.clients.begin(), o.clients.end(), c) != o.clients.end()) {
        return absl::InvalidArgumentError("flag --clients: " + std::string(w) + " given twice");
      }
      o.clients.push_back(c);
    }
    if (o.clients.empty()) return absl::InvalidArgumentError("flag --clients: no client count");
  }
  if (!o.common.keys_set) o.common.keys = o.common.quick ? 1'000 : 10'000;
  if (o.common.quick && !duration_set) o.duration_s = 0.25;
  if (absl::Status s = ValidateCommonFlags(o.common); !s.ok()) return s;
  const uint64_t most = *std::max_element(o.clients.begin(), o.clients.end());
  if (o.common.keys < most) {
    return absl::InvalidArgumentError("flag --keys must be at least the largest client count (" +
                                      std::to_string(most) + ")");
  }
  if (o.rounds == 0 || o.rounds > 1000) {
    return absl::InvalidArgumentError("flag --rounds must be in [1, 1000]");
  }
  if (!(o.duration_s > 0)) return absl::InvalidArgumentError("flag --duration must be positive");
  return o;
}

absl::StatusOr<Report> RunCas(const CasOptions& o, Progress& progress) {
  const CommonFlags& c = o.common;
  absl::StatusOr<DataSet> data = MakeDataSet(c.keys, c.key_size, c.value_size, c.seed);
  if (!data.ok()) return data.status();
  absl::StatusOr<std::unique_ptr<WorkDir>> dir = WorkDir::Create(c.dir);
  if (!dir.ok()) return dir.status();
  std::vector<std::unique_ptr<CasEngine>> engines;
  engines.push_back(std::make_unique<RevkvCas>());
  if (o.lmdb) engines.push_back(std::make_unique<LmdbCas>());

  Report report;
  report.suite = "cas";
  char head[512];
  std::string counts;
  for (uint64_t n : o.clients) counts += (counts.empty() ? "" : ",") + std::to_string(n);
  std::snprintf(head, sizeof(head),
                "revkv bench cas: %s clients, each swapping its own of %s keys of %" PRIu64
                " B (values of %" PRIu64 " B),\n  every swap durable; %.2f s per client "
                "count and engine, median of %" PRIu64 " round(s)",
                counts.c_str(), FormatCount(static_cast<double>(c.keys)).c_str(), c.key_size,
                c.value_size, o.duration_s, o.rounds);
  report.header.push_back(head);
  for (const auto& e : engines) {
    report.header.push_back("  " + std::string(e->name()) + ": " + e->Description());
  }
  progress.Line(report.header[0] + ", dir " + (*dir)->path());
  if (OnTmpfs((*dir)->path())) {
    progress.Line("note: " + (*dir)->path() + " is on tmpfs, where fsync costs nothing");
    report.header.push_back("  note: the data directory is on tmpfs, where fsync costs nothing");
  }

  // samples[clients][engine][round]
  std::map<uint64_t, std::map<std::string, std::vector<Sample>>> samples;
  for (uint64_t r = 0; r < o.rounds; ++r) {
    for (size_t ci = 0; ci < o.clients.size(); ++ci) {
      const uint64_t clients = o.clients[ci];
      for (size_t k = 0; k < engines.size(); ++k) {
        CasEngine& e = *engines[(r + ci + k) % engines.size()];
        const std::string sub = std::string(e.name()) + "-" + Workload(clients);
        absl::StatusOr<std::string> where = (*dir)->Fresh(sub);
        if (!where.ok()) return where.status();
        if (absl::Status s = e.Open(*where, *data, clients, c.batch); !s.ok()) {
          e.Close().IgnoreError();
          (*dir)->Remove(sub);
          return s;
        }
        auto& v = samples[clients][std::string(e.name())];
        v.emplace_back();
        const std::string label = "round " + std::to_string(r + 1) + "/" +
                                  std::to_string(o.rounds) + " " + std::string(e.name()) + " " +
                                  Workload(clients);
        absl::Status s = Measure(e, *data, clients, o.duration_s, c.seed * 7919 + r * 131 + ci,
                                 progress, label, &v.back());
        absl::Status closed = e.Close();
        (*dir)->Remove(sub);
        if (!s.ok()) return s;
        if (!closed.ok()) return closed;
      }
    }
  }

  for (uint64_t clients : o.clients) {
    auto& by_engine = samples[clients];
    Row row;
    row.workload = Workload(clients);
    row.revkv = Aggregate("cas", row.workload, "revkv", by_engine["revkv"]);
    if (auto l = by_engine.find("lmdb"); l != by_engine.end()) {
      row.peer = Aggregate("cas", row.workload, "lmdb", l->second);
      row.ratio = MedianRatio(by_engine["revkv"], l->second);
    }
    row.note = std::to_string(clients) + (clients == 1 ? " client" : " clients") +
               " at once, each: Get + compare-and-swap of one of its keys, durable on return";
    report.rows.push_back(std::move(row));
  }
  report.footer = {
      "ops/s: operations of all clients together per second, median over rounds; revkv/lmdb: the",
      "median of the per-round ratios (above 1: revkv is faster). p50/p99/p99.9: latency of one",
      "operation in µs, all rounds. file: the data file after the run. peak RSS: the process's",
      "peak resident memory while the clients ran (one engine open at a time).",
      "Every operation is durable (fsync) when it returns: concurrent clients' commits can share",
      "an fsync only if the engine groups them."};
  return report;
}

}  // namespace revkv::bench
