#include "bench/server_workload.h"

#include <unistd.h>

#include <atomic>
#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "bench/dataset.h"
#include "bench/grpc_load.h"
#include "bench/server_cluster.h"
#include "bench/server_process.h"
#include "bench/sysinfo.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

namespace revkv::bench {

const char kServerFlagsUsage[] =
    "FLAGS (server):\n"
    "\t--put-clients A,B,C\tcalls in flight of the put rows (default 1,16,256)\n"
    "\t--range-clients N\tcalls in flight of the range rows (default 256)\n"
    "\t--txn-clients N\t\tcalls in flight of the txn row (default 64)\n"
    "\t--conns N\t\tgRPC connections per engine, or per member of a cluster (default 4)\n"
    "\t--cluster N\t\tN members per engine (default 1; 3 or more add the failover row)\n"
    "\t--failovers K\t\tleader kills of the failover row (default 3 with --cluster >= 3)\n"
    "\t--duration S\t\tseconds per measurement (default 3; --quick: 0.3)\n"
    "\t--etcd PATH\t\tthe etcd binary to compare with (default /usr/bin/etcd; none: revkv only)\n"
    "\t--revkv PATH\t\tthe revkv binary to serve (default: this one)\n"
    "\t(--keys: keys loaded and drawn from, default 100000; --quick: 2000)\n"
    "\n"
    "OUTPUT (server):\n"
    "\tput-cC, range-cC-linearizable|serializable, txn-cC: ops/s and latency of `revkv serve`\n"
    "\tand of etcd, ratio revkv/etcd of ops/s (put-c1: of p50 latency, lower is better).\n"
    "\tfailover (--cluster >= 3): seconds from SIGKILL of the leader to the next acknowledged\n"
    "\tput, as latency; ratio revkv/etcd of the p50 (lower is better).\n";

namespace {

// A failover's Put waits at most this long for an answer before it is sent
// again (to the next survivor): the failover row's resolution.
constexpr int kFailoverCallMs = 100;
// Bounds a cluster's wait for a leader and for the first write after a kill.
constexpr double kFailoverTimeoutS = 30;

absl::Status ParseCounts(const std::string& flag, const std::string& text,
                         std::vector<uint64_t>* out) {
  out->clear();
  for (absl::string_view w : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    uint64_t c = 0;
    if (!absl::SimpleAtoi(w, &c) || c == 0 || c > 10'000) {
      return absl::InvalidArgumentError("flag " + flag + ": \"" + std::string(w) +
                                        "\" is not a client count in [1, 10000]");
    }
    out->push_back(c);
  }
  if (out->empty()) return absl::InvalidArgumentError("flag " + flag + ": no count");
  return absl::OkStatus();
}

std::vector<std::shared_ptr<grpc::Channel>> Connect(const std::string& endpoint, uint64_t conns) {
  std::vector<std::shared_ptr<grpc::Channel>> out;
  for (uint64_t i = 0; i < conns; ++i) {
    grpc::ChannelArguments args;
    // Each channel its own connection (channels share them by default).
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    out.push_back(
        grpc::CreateCustomChannel(endpoint, grpc::InsecureChannelCredentials(), args));
  }
  return out;
}

using etcdserverpb::KV;
using PutCall = KvCall<etcdserverpb::PutRequest, etcdserverpb::PutResponse>;
using RangeCall = KvCall<etcdserverpb::RangeRequest, etcdserverpb::RangeResponse>;
using TxnCall = KvCall<etcdserverpb::TxnRequest, etcdserverpb::TxnResponse>;

struct Workload {
  std::string name;
  uint64_t clients;
  std::function<std::unique_ptr<LoadCall>()> make;
  std::string note;
};

// The measured workloads, in the report's order.
std::vector<Workload> Workloads(const ServerBenchOptions& o, const DataSet& data) {
  const DataSet* d = &data;
  auto put = [d] {
    return std::make_unique<PutCall>(&KV::Stub::AsyncPut,
                                     [d](etcdserverpb::PutRequest* r, std::mt19937_64& rng) {
                                       const uint64_t i = rng() % d->n;
                                       r->set_key(std::string(d->Key(i)));
                                       r->set_value(std::string(d->Value(rng())));
                                     });
  };
  auto range = [d](bool serializable) {
    return [d, serializable] {
      return std::make_unique<RangeCall>(
          &KV::Stub::AsyncRange,
          [d, serializable](etcdserverpb::RangeRequest* r, std::mt19937_64& rng) {
            r->set_key(std::string(d->Key(rng() % d->n)));
            r->set_serializable(serializable);
          });
    };
  };
  auto txn = [d] {
    return std::make_unique<TxnCall>(
        &KV::Stub::AsyncTxn, [d](etcdserverpb::TxnRequest* r, std::mt19937_64& rng) {
          const std::string key(d->Key(rng() % d->n));
          etcdserverpb::Compare* c = r->add_compare();
          c->set_key(key);
          c->set_target(etcdserverpb::Compare::MOD);
          c->set_result(etcdserverpb::Compare::GREATER);
          c->set_mod_revision(0);
          etcdserverpb::PutRequest* p = r->add_success()->mutable_request_put();
          p->set_key(key);
          p->set_value(std::string(d->Value(rng())));
          r->add_failure()->mutable_request_range()->set_key(key);
        });
  };
  std::vector<Workload> out;
  for (uint64_t c : o.put_clients) {
    out.push_back({"put-c" + std::to_string(c), c, put,
                   "Put of a random key, " + std::to_string(c) + " calls in flight"});
  }
  for (bool s : {false, true}) {
    out.push_back({"range-c" + std::to_string(o.range_clients) +
                       (s ? "-serializable" : "-linearizable"),
                   o.range_clients, range(s),
                   std::string("point Range of a random loaded key, ") +
                       (s ? "serializable" : "linearizable")});
  }
  out.push_back({"txn-c" + std::to_string(o.txn_clients), o.txn_clients, txn,
                 "Txn: mod_revision(k) > 0 ? Put k : Range k"});
  return out;
}

// `endpoints`' channels, `conns` per member, the first one's first: the
// single-client rows talk to the first member only.
std::vector<std::shared_ptr<grpc::Channel>> ConnectAll(const std::vector<std::string>& endpoints,
                                                       uint64_t conns) {
  std::vector<std::shared_ptr<grpc::Channel>> out;
  for (uint64_t c = 0; c < conns; ++c) {
    for (const std::string& e : endpoints) out.push_back(Connect(e, 1).front());
  }
  return out;
}

// Kills the leader `o.failovers` times, each time timing the next
// acknowledged write and restarting the killed member.
absl::Status RunFailovers(const std::string& engine, ServerCluster& cluster,
                          const ServerBenchOptions& o, Progress& progress, Samples* samples) {
  Sample& s = NewSample(samples, "failover", engine);
  for (uint64_t k = 0; k < o.failovers; ++k) {
    progress.Begin(engine + ": failover " + std::to_string(k + 1), 0, 0);
    absl::StatusOr<double> took =
        cluster.KillLeaderAndTimeNextWrite(kFailoverCallMs, kFailoverTimeoutS);
    progress.End("");
    if (!took.ok()) return took.status();
    s.latency.Record(uint64_t(*took * 1e9));
    if (absl::Status r = cluster.RestartKilled(kFailoverTimeoutS); !r.ok()) return r;
  }
  s.n = double(o.failovers);
  return absl::OkStatus();
}

// Starts `engine`, loads the keys, runs every workload into `samples`.
absl::Status RunEngine(const std::string& engine, const ClusterSpec& spec,
                       const ServerBenchOptions& o, const DataSet& data, Progress& progress,
                       Samples* samples, std::vector<std::string>* errors) {
  absl::StatusOr<std::unique_ptr<ServerCluster>> cluster = ServerCluster::Start(spec);
  if (!cluster.ok()) return cluster.status();
  std::vector<std::string> endpoints = (*cluster)->endpoints();
  if (endpoints.size() > 1) {
    // The leader first, so the single-client rows of both engines measure
    // a write or read on the leader, not one on a follower for one engine
    // and on the leader for the other.
    absl::StatusOr<size_t> leader = (*cluster)->Leader(kFailoverTimeoutS);
    if (!leader.ok()) return leader.status();
    std::swap(endpoints[0], endpoints[*leader]);
  }
  // Dropped before the server stops: an idle client connection nobody
  // polls would hold up its graceful shutdown.
  auto channels = ConnectAll(endpoints, o.conns);
  progress.Begin(engine + ": load " + std::to_string(data.n) + " keys", data.n, 0);
  auto next = std::make_shared<std::atomic<uint64_t>>(0);
  const DataSet* d = &data;
  LoadResult load = RunLoad(channels, 256, 0, data.n, o.common.seed, [d, next] {
    return std::make_unique<PutCall>(&KV::Stub::AsyncPut,
                                     [d, next](etcdserverpb::PutRequest* r, std::mt19937_64&) {
                                       const uint64_t i = next->fetch_add(1) % d->n;
                                       r->set_key(std::string(d->Key(i)));
                                       r->set_value(std::string(d->Value(i)));
                                     });
  });
  progress.End("");
  if (load.errors > 0) {
    return absl::UnavailableError("bench server: " + engine + " failed loading: " +
                                  load.first_error);
  }
  uint64_t seed = o.common.seed;
  for (const Workload& w : Workloads(o, data)) {
    progress.Begin(engine + ": " + w.name, 0, o.duration_s);
    LoadResult r = RunLoad(channels, w.clients, o.duration_s, 0, ++seed, w.make);
    progress.End("");
    if (r.errors > 0) {
      errors->push_back("  " + engine + " " + w.name + ": " + std::to_string(r.errors) +
                        " calls failed, the first with " + r.first_error);
    }
    NewSample(samples, w.name, engine) = std::move(r.sample);
  }
  channels.clear();
  if (o.failovers > 0) {
    if (absl::Status s = RunFailovers(engine, **cluster, o, progress, samples); !s.ok()) return s;
  }
  (*cluster)->Stop();
  return absl::OkStatus();
}

std::string SelfPath() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, size_t(n)) : std::string();
}

}  // namespace

absl::StatusOr<ServerBenchOptions> ParseServerFlags(const std::vector<std::string>& args) {
  ServerBenchOptions o;
  FlagSet fs;
  AddCommonFlags(&fs, &o.common);
  std::string put_clients;
  bool put_set = false, duration_set = false;
  fs.AddString("--put-clients", &put_clients, &put_set);
  fs.AddUint("--range-clients", &o.range_clients);
  fs.AddUint("--txn-clients", &o.txn_clients);
  fs.AddUint("--conns", &o.conns);
  fs.AddDouble("--duration", &o.duration_s, &duration_set);
  fs.AddString("--etcd", &o.etcd);
  fs.AddString("--revkv", &o.revkv);
  fs.AddUint("--cluster", &o.cluster);
  bool failovers_set = false;
  fs.AddUint("--failovers", &o.failovers, &failovers_set);
  if (absl::Status s = fs.Parse(args); !s.ok()) return s;
  if (put_set) {
    if (absl::Status s = ParseCounts("--put-clients", put_clients, &o.put_clients); !s.ok()) {
      return s;
    }
  }
  if (!o.common.keys_set) o.common.keys = o.common.quick ? 2'000 : 100'000;
  if (o.common.quick && !duration_set) o.duration_s = 0.3;
  if (absl::Status s = ValidateCommonFlags(o.common); !s.ok()) return s;
  if (!(o.duration_s > 0)) return absl::InvalidArgumentError("flag --duration must be positive");
  if (o.cluster == 0 || o.cluster > 7 || o.cluster == 2) {
    return absl::InvalidArgumentError("flag --cluster must be 1 or a member count in [3, 7]");
  }
  if (!failovers_set) o.failovers = o.cluster >= 3 ? 3 : 0;
  if (o.failovers > 0 && o.cluster < 3) {
    return absl::InvalidArgumentError("flag --failovers needs --cluster 3 or more");
  }
  if (o.failovers > 100) return absl::InvalidArgumentError("flag --failovers must be at most 100");
  for (auto [flag, v] : {std::pair{"--range-clients", o.range_clients},
                         std::pair{"--txn-clients", o.txn_clients}, std::pair{"--conns", o.conns}}) {
    if (v == 0 || v > 10'000) {
      return absl::InvalidArgumentError(std::string("flag ") + flag + " must be in [1, 10000]");
    }
  }
  return o;
}

absl::StatusOr<Report> RunServer(const ServerBenchOptions& o, Progress& progress) {
  const CommonFlags& c = o.common;
  absl::StatusOr<std::unique_ptr<WorkDir>> dir = WorkDir::Create(c.dir);
  if (!dir.ok()) return dir.status();
  absl::StatusOr<DataSet> data = MakeDataSet(c.keys, c.key_size, c.value_size, c.seed);
  if (!data.ok()) return data.status();
  const std::string revkv = o.revkv.empty() ? SelfPath() : o.revkv;
  const bool with_etcd = o.etcd != "none" && access(o.etcd.c_str(), X_OK) == 0;

  Report report;
  report.suite = "server";
  report.peer_name = "etcd";
  report.header.push_back("revkv bench server: `revkv serve` against " +
                          (with_etcd ? "etcd (" + o.etcd + ")" : std::string("no etcd (not installed)")) +
                          " on loopback, " +
                          (o.cluster > 1 ? "clusters of " + std::to_string(o.cluster) +
                                               " members (election timeout 1000 ms, heartbeat "
                                               "100 ms), " +
                                               std::to_string(o.conns) + " connections per member, "
                                         : std::to_string(o.conns) + " connections each, ") +
                          FormatCount(double(c.keys)) + " keys of " + std::to_string(c.key_size) +
                          " B with " + std::to_string(c.value_size) + " B values, " +
                          FormatRate(o.duration_s) + " s per row");
  Samples samples;
  std::vector<std::string> errors;
  for (bool etcd : {false, true}) {
    if (etcd && !with_etcd) continue;
    const std::string engine = etcd ? "etcd" : "revkv";
    absl::StatusOr<std::string> d = (*dir)->Fresh(engine);
    if (!d.ok()) return d.status();
    ClusterSpec spec;
    spec.etcd = etcd;
    spec.binary = etcd ? o.etcd : revkv;
    spec.dir = *d;
    spec.members = int(o.cluster);
    if (absl::Status s = RunEngine(engine, spec, o, *data, progress, &samples, &errors); !s.ok()) {
      return s;
    }
  }
  std::vector<RowSpec> specs;
  for (const Workload& w : Workloads(o, *data)) {
    specs.push_back({w.name, w.note, w.clients == 1 ? ByP50 : ByOpsPerS});
  }
  if (o.failovers > 0) {
    specs.push_back({"failover", "seconds from SIGKILL of the leader to the next acknowledged Put "
                                 "through a survivor (latency columns; " +
                                     std::to_string(o.failovers) + " kills, each member restarted)",
                     ByP50});
  }
  report.rows = MakeRows("server", samples, specs);
  report.footer = errors;
  return report;
}

}  // namespace revkv::bench
