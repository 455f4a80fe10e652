#include "cmd/revkv/serve_command.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "revkv/db.h"
#include "cmd/revkv/serve_cluster.h"
#include "raft/cluster_member.h"
#include "server/self_cert.h"
#include "server/server.h"
#include "version.h"

extern char** environ;

namespace revkv::cli {
namespace {

// How long calls in flight may run on after a stop signal before they are
// cancelled.
constexpr std::chrono::seconds kStopGrace(10);

enum class Kind { kString, kUrls, kInt, kDuration, kBool };

struct FlagSpec {
  const char* flag;  // without dashes
  const char* env;
  Kind kind;
  const char* help;
};

constexpr FlagSpec kFlags[] = {
    {"name", "ETCD_NAME", Kind::kString, "Human-readable name for this member. (default \"default\")"},
    {"data-dir", "ETCD_DATA_DIR", Kind::kString, "Path to the data directory. (default \"${name}.etcd\")"},
    {"listen-client-urls", "ETCD_LISTEN_CLIENT_URLS", Kind::kUrls,
     "List of URLs to listen on for client traffic. (default \"http://localhost:2379\")"},
    {"advertise-client-urls", "ETCD_ADVERTISE_CLIENT_URLS", Kind::kUrls,
     "List of this member's client URLs to advertise to the public. (default \"http://localhost:2379\")"},
    {"max-request-bytes", "ETCD_MAX_REQUEST_BYTES", Kind::kInt,
     "Maximum client request size in bytes the server will accept. (default 1572864)"},
    {"max-txn-ops", "ETCD_MAX_TXN_OPS", Kind::kInt,
     "Maximum number of operations permitted in a transaction. (default 128)"},
    {"quota-backend-bytes", "ETCD_QUOTA_BACKEND_BYTES", Kind::kInt,
     "Raise alarms when backend size exceeds the given quota. 0 means use the default quota (2 GiB); "
     "a negative value disables it. (default 0)"},
    {"auto-compaction-mode", "ETCD_AUTO_COMPACTION_MODE", Kind::kString,
     "Interpret 'auto-compaction-retention' one of: periodic|revision. 'periodic' for duration "
     "based retention, defaulting to hours if no time unit is provided (e.g. '5m'). 'revision' for "
     "revision number based retention. (default \"periodic\")"},
    {"auto-compaction-retention", "ETCD_AUTO_COMPACTION_RETENTION", Kind::kString,
     "Auto compaction retention for mvcc key value store. 0 means disable auto compaction. "
     "(default \"0\")"},
    {"experimental-watch-progress-notify-interval", "ETCD_EXPERIMENTAL_WATCH_PROGRESS_NOTIFY_INTERVAL",
     Kind::kDuration, "Duration of periodic watch progress notifications. (default 10m0s)"},
    {"cert-file", "ETCD_CERT_FILE", Kind::kString,
     "Path to the client server TLS cert file (PEM; needed by https:// client URLs)."},
    {"key-file", "ETCD_KEY_FILE", Kind::kString, "Path to the client server TLS key file (PEM)."},
    {"trusted-ca-file", "ETCD_TRUSTED_CA_FILE", Kind::kString,
     "Path to the client server TLS trusted CA cert file; as in etcd 3.4, https clients must then "
     "present a certificate it signed."},
    {"client-cert-auth", "ETCD_CLIENT_CERT_AUTH", Kind::kBool,
     "Enable client cert authentication (needs --trusted-ca-file). (default false)"},
    {"auto-tls", "ETCD_AUTO_TLS", Kind::kBool,
     "Client TLS using generated certificates: without --cert-file/--key-file, a self-signed "
     "certificate for the listen client URLs' hosts, kept in <data-dir>/fixtures/client and "
     "reused. (default false)"},
    {"initial-cluster", "ETCD_INITIAL_CLUSTER", Kind::kString,
     "Initial cluster configuration for bootstrapping, name=peerURL,...; given, this member joins "
     "a Raft cluster. (default: none, a single member)"},
    {"initial-cluster-state", "ETCD_INITIAL_CLUSTER_STATE", Kind::kString,
     "Initial cluster state ('new' or 'existing'). (default \"new\")"},
    {"initial-cluster-token", "ETCD_INITIAL_CLUSTER_TOKEN", Kind::kString,
     "Initial cluster token for the etcd cluster during bootstrap. (default \"etcd-cluster\")"},
    {"initial-advertise-peer-urls", "ETCD_INITIAL_ADVERTISE_PEER_URLS", Kind::kUrls,
     "This member's peer URL (must be its URL in --initial-cluster)."},
    {"listen-peer-urls", "ETCD_LISTEN_PEER_URLS", Kind::kUrls,
     "URL to listen on for peer traffic (must be this member's URL in --initial-cluster)."},
    {"snapshot-count", "ETCD_SNAPSHOT_COUNT", Kind::kInt,
     "Number of committed transactions to trigger a snapshot to disk (a cluster member's Raft "
     "log; a single member's log is released as its data file commits). (default 100000)"},
    {"election-timeout", "ETCD_ELECTION_TIMEOUT", Kind::kInt,
     "Time (in milliseconds) for an election to timeout. (default 1000)"},
    {"heartbeat-interval", "ETCD_HEARTBEAT_INTERVAL", Kind::kInt,
     "Time (in milliseconds) of a heartbeat interval. (default 100)"},
};

std::string Usage() {
  std::string u = "Usage: revkv serve [flags]\n\nServes etcd's v3 gRPC API (KV, Watch, Lease, Maintenance, Cluster) "
                  "as a single member, or as a Raft cluster member given --initial-cluster.\n\nFlags (and their environment variables):\n";
  for (const FlagSpec& f : kFlags) absl::StrAppend(&u, "  --", f.flag, " (", f.env, ")\n      ", f.help, "\n");
  absl::StrAppend(&u, "  -h, --help\n  --version\n");
  return u;
}

absl::Status Set(ServeConfig* c, const FlagSpec& f, const std::string& value, const std::string& from) {
  if (f.kind == Kind::kInt) {
    int64_t v = 0;
    // Only the quota may be negative (etcd: no quota).
    if (!absl::SimpleAtoi(value, &v) || (v < 0 && std::string(f.flag) != "quota-backend-bytes")) {
      return absl::InvalidArgumentError(absl::StrCat("invalid value \"", value, "\" for ", from));
    }
    const std::string n = f.flag;
    if (n == "max-request-bytes") c->max_request_bytes = v;
    if (n == "max-txn-ops") c->max_txn_ops = v;
    if (n == "quota-backend-bytes") c->quota_backend_bytes = v;
    if (n == "election-timeout") c->election_timeout_ms = v;
    if (n == "heartbeat-interval") c->heartbeat_interval_ms = v;
    if (n == "snapshot-count") c->snapshot_count = v;
    return absl::OkStatus();
  }
  const std::string n = f.flag;
  if (f.kind == Kind::kBool) {
    // Go's strconv.ParseBool spellings.
    bool b;
    if (value == "1" || value == "t" || value == "T" || value == "true" || value == "TRUE" ||
        value == "True") {
      b = true;
    } else if (value == "0" || value == "f" || value == "F" || value == "false" ||
               value == "FALSE" || value == "False") {
      b = false;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("invalid value \"", value, "\" for ", from));
    }
    if (n == "client-cert-auth") c->client_cert_auth = b;
    if (n == "auto-tls") c->auto_tls = b;
    return absl::OkStatus();
  }
  if (f.kind == Kind::kDuration) {
    absl::Duration d;
    if (!absl::ParseDuration(value, &d) || d <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError(absl::StrCat("invalid value \"", value, "\" for ", from));
    }
    c->watch_progress_notify_interval = d;
    return absl::OkStatus();
  }
  if (f.kind == Kind::kUrls) {
    std::vector<std::string> urls = absl::StrSplit(value, ',', absl::SkipWhitespace());
    if (urls.empty()) return absl::InvalidArgumentError(absl::StrCat("no URL in ", from));
    for (const std::string& u : urls) {
      if (absl::StatusOr<std::string> a = GrpcAddress(u); !a.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(from, ": ", a.status().message()));
      }
    }
    if (n == "listen-client-urls") c->listen_client_urls = urls;
    if (n == "advertise-client-urls") c->advertise_client_urls = urls;
    if (n == "initial-advertise-peer-urls") c->initial_advertise_peer_urls = urls;
    if (n == "listen-peer-urls") c->listen_peer_urls = urls;
    return absl::OkStatus();
  }
  if (n == "cert-file") c->cert_file = value;
  if (n == "key-file") c->key_file = value;
  if (n == "trusted-ca-file") c->trusted_ca_file = value;
  if (n == "name") c->name = value;
  if (n == "data-dir") c->data_dir = value;
  if (n == "initial-cluster") c->initial_cluster = value;
  if (n == "initial-cluster-state") c->initial_cluster_state = value;
  if (n == "initial-cluster-token") c->initial_cluster_token = value;
  if (n == "auto-compaction-mode") c->auto_compaction_mode = value;
  if (n == "auto-compaction-retention") c->auto_compaction_retention = value;
  return absl::OkStatus();
}

const FlagSpec* FindFlag(const std::string& name) {
  for (const FlagSpec& f : kFlags) {
    if (name == f.flag) return &f;
  }
  return nullptr;
}

void Log(const char* level, const std::string& msg, const std::map<std::string, std::string>& fields) {
  std::string line = absl::StrCat("{\"level\":\"", level, "\",\"ts\":\"",
                                  absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()),
                                  "\",\"msg\":\"", msg, "\"");
  for (const auto& [k, v] : fields) {
    std::string escaped;
    for (char ch : v) {
      if (ch == '"' || ch == '\\') escaped.push_back('\\');
      escaped.push_back(ch);
    }
    absl::StrAppend(&line, ",\"", k, "\":\"", escaped, "\"");
  }
  line += "}\n";
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
}

// The whole of a PEM file named by `flag`.
absl::StatusOr<std::string> ReadPem(const std::string& path, const char* flag) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("cannot read ", flag, " ", path, ": ", strerror(errno)));
  }
  std::string pem;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof(buf), f)) > 0;) pem.append(buf, n);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed || pem.empty()) return absl::InvalidArgumentError(absl::StrCat("cannot read ", flag, " ", path));
  return pem;
}

// --auto-tls: the certificate in <data-dir>/fixtures/client, made for the
// listen client URLs' hosts if it is not there yet. etcd makes it whatever
// the URLs' schemes; so does revkv (an http URL then ignores it).
absl::Status SetSelfCert(const ServeConfig& c, server::ServerOptions* options) {
  std::vector<std::string> hosts;
  for (const std::string& u : c.listen_client_urls) {
    std::string host = *GrpcAddress(u);  // checked by ParseServeConfig
    host.erase(host.rfind(':'));
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);  // an IPv6 literal
    }
    hosts.push_back(std::move(host));
  }
  absl::StatusOr<server::SelfCert> cert =
      server::LoadOrCreateSelfCert(c.data_dir + "/fixtures/client", hosts);
  if (!cert.ok()) return cert.status();
  Log("info", cert->created ? "created a self-signed client certificate (--auto-tls)"
                            : "using the existing self-signed client certificate (--auto-tls)",
      {{"cert-file", cert->cert_path}, {"key-file", cert->key_path}});
  options->tls.cert_chain = std::move(cert->cert_pem);
  options->tls.private_key = std::move(cert->key_pem);
  return absl::OkStatus();
}

// The TLS half of `options` from the config's files (or --auto-tls's):
// which listeners are https, and the PEM texts they need.
absl::Status SetTls(const ServeConfig& c, server::ServerOptions* options) {
  bool any = false;
  for (const std::string& u : c.listen_client_urls) {
    options->listen_tls.push_back(IsHttpsUrl(u));
    any = any || IsHttpsUrl(u);
  }
  if (c.auto_tls) {
    if (!c.cert_file.empty() || !c.key_file.empty()) {
      Log("warn", "ignoring client auto TLS since certs given", {});
    } else if (absl::Status s = SetSelfCert(c, options); !s.ok()) {
      return s;
    }
  }
  if (!any) {
    if (!c.cert_file.empty() || !c.key_file.empty() || c.auto_tls) {
      Log("warn", "scheme is HTTP while key and cert files are present; ignoring key and cert files", {});
    }
    return absl::OkStatus();
  }
  for (auto [path, flag, out] : {std::tuple{&c.cert_file, "--cert-file", &options->tls.cert_chain},
                                 std::tuple{&c.key_file, "--key-file", &options->tls.private_key},
                                 std::tuple{&c.trusted_ca_file, "--trusted-ca-file", &options->tls.client_ca}}) {
    if (path->empty()) continue;
    absl::StatusOr<std::string> pem = ReadPem(*path, flag);
    if (!pem.ok()) return pem.status();
    *out = std::move(*pem);
  }
  return absl::OkStatus();
}

}  // namespace

bool IsHttpsUrl(const std::string& url) { return url.rfind("https://", 0) == 0; }

absl::StatusOr<std::string> GrpcAddress(const std::string& url) {
  const size_t scheme = url.rfind("http://", 0) == 0 ? 7 : IsHttpsUrl(url) ? 8 : 0;
  if (scheme == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "URL \"", url, "\" is not supported: revkv serve listens on http:// and https:// URLs only (no unix sockets yet)"));
  }
  std::string hostport = url.substr(scheme);
  if (!hostport.empty() && hostport.back() == '/') hostport.pop_back();
  const size_t colon = hostport.rfind(':');
  int port = -1;
  if (colon == std::string::npos || colon == 0 ||
      !absl::SimpleAtoi(hostport.substr(colon + 1), &port) || port < 0 || port > 65535 ||
      hostport.find('/') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("URL \"", url, "\" needs a host and a port"));
  }
  return hostport;
}

absl::StatusOr<ServeConfig> ParseServeConfig(const std::vector<std::string>& args,
                                             const std::vector<std::string>& env) {
  ServeConfig c;
  for (const std::string& kv : env) {
    if (kv.rfind("ETCD_", 0) != 0) continue;
    const size_t eq = kv.find('=');
    const std::string key = kv.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : kv.substr(eq + 1);
    const FlagSpec* spec = nullptr;
    for (const FlagSpec& f : kFlags) {
      if (key == f.env) spec = &f;
    }
    if (spec == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("environment variable ", key, " is not supported by revkv serve yet"));
    }
    if (absl::Status s = Set(&c, *spec, value, key); !s.ok()) return s;
  }
  for (size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    if (a.rfind("--", 0) == 0) {
      a = a.substr(2);
    } else if (a.rfind("-", 0) == 0 && a.size() > 1) {
      a = a.substr(1);  // Go's flag package takes one dash too
    } else {
      return absl::InvalidArgumentError(absl::StrCat("'", args[i], "' is not a valid flag"));
    }
    std::string value;
    bool has_value = false;
    if (const size_t eq = a.find('='); eq != std::string::npos) {
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
      has_value = true;
    }
    if (a == "h" || a == "help") {
      c.help = true;
      continue;
    }
    if (a == "version") {
      c.version = true;
      continue;
    }
    const FlagSpec* spec = FindFlag(a);
    if (spec == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("flag --", a, " is not supported by revkv serve yet"));
    }
    if (!has_value && spec->kind == Kind::kBool) {
      value = "true";  // Go's flag package: a bool flag takes no separate value
      has_value = true;
    }
    if (!has_value) {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(absl::StrCat("flag needs an argument: --", a));
      }
      value = args[++i];
    }
    if (absl::Status s = Set(&c, *spec, value, "--" + a); !s.ok()) return s;
  }
  if (c.data_dir.empty()) c.data_dir = c.name + ".etcd";
  if (c.max_request_bytes == 0) return absl::InvalidArgumentError("--max-request-bytes must be positive");
  if (c.max_txn_ops == 0) return absl::InvalidArgumentError("--max-txn-ops must be positive");
  if (c.snapshot_count == 0 || c.snapshot_count > std::numeric_limits<unsigned>::max()) {
    return absl::InvalidArgumentError("--snapshot-count must be between 1 and 4294967295");
  }
  if (absl::StatusOr<server::AutoCompaction> a =
          server::ParseAutoCompaction(c.auto_compaction_mode, c.auto_compaction_retention);
      !a.ok()) {
    return a.status();
  }
  // As etcd, --auto-tls applies only when neither file is given.
  const bool self_cert = c.auto_tls && c.cert_file.empty() && c.key_file.empty();
  // etcd 3.4.23 (observed) replaces its client TLS settings by the
  // generated certificate's, dropping --client-cert-auth and
  // --trusted-ca-file without a word: it would then serve clients without a
  // certificate. revkv refuses that rather than serve unauthenticated.
  if (self_cert && (c.client_cert_auth || !c.trusted_ca_file.empty())) {
    return absl::InvalidArgumentError(
        "--auto-tls cannot check client certificates: with --client-cert-auth or "
        "--trusted-ca-file give --cert-file and --key-file");
  }
  for (const std::string& u : c.listen_client_urls) {
    if (IsHttpsUrl(u) && !self_cert && (c.cert_file.empty() || c.key_file.empty())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "TLS key/cert (--cert-file, --key-file) must be provided for client url ", u,
          " with HTTPS scheme"));
    }
  }
  // Peers only exist in a cluster.
  if (c.initial_cluster.empty()) {
    if (!c.listen_peer_urls.empty()) {
      return absl::InvalidArgumentError("--listen-peer-urls needs --initial-cluster (a single member has no peers)");
    }
    if (!c.initial_advertise_peer_urls.empty()) {
      return absl::InvalidArgumentError(
          "--initial-advertise-peer-urls needs --initial-cluster (a single member has no peers)");
    }
  }
  // etcd would verify client certificates against the system's roots; revkv
  // asks for the CA that signs them.
  if (c.client_cert_auth && c.trusted_ca_file.empty()) {
    return absl::InvalidArgumentError("--client-cert-auth needs --trusted-ca-file");
  }
  return c;
}

int RunServe(const std::vector<std::string>& args) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  absl::StatusOr<ServeConfig> config = ParseServeConfig(args, env);
  if (!config.ok()) {
    std::fprintf(stderr, "Error: %s\n\n%s", std::string(config.status().message()).c_str(), Usage().c_str());
    return 2;
  }
  if (config->help) {
    std::fputs(Usage().c_str(), stdout);
    return 0;
  }
  if (config->version) {
    std::printf("revkv Version: %s\netcd API Version: %s\n", kVersion, kApiVersion);
    return 0;
  }
  // Blocked here, before gRPC starts its threads, so that they inherit the
  // mask and the signals reach only sigwait below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // A peer that goes away mid-write (raft's TCP transport writes with
  // plain write(2)) must be an EPIPE error, not the end of this process.
  signal(SIGPIPE, SIG_IGN);

  // A cluster member's DB belongs to its raft state machine; a single
  // member's to this function.
  const bool clustered = !config->initial_cluster.empty();
  std::unique_ptr<cluster::ClusterMember> member;
  std::unique_ptr<DB> own_db;
  uint64_t cluster_id = 0;
  cluster::ClusterMemberOptions member_options;
  if (clustered) {
    absl::StatusOr<cluster::ClusterMemberOptions> o = ClusterOptions(FlagsOf(*config), &cluster_id);
    if (!o.ok()) {
      Log("error", "cannot join the cluster", {{"error", std::string(o.status().message())}});
      return 1;
    }
    member_options = *o;
    // Removed from the cluster: stop as on SIGTERM (sigwait below).
    member_options.on_removed = [] {
      Log("info", "this member was removed from the cluster; stopping", {});
      kill(getpid(), SIGTERM);
    };
    absl::StatusOr<std::unique_ptr<cluster::ClusterMember>> m =
        cluster::ClusterMember::Start(member_options, {});
    if (!m.ok()) {
      Log("error", "cannot start the cluster member",
          {{"data-dir", config->data_dir}, {"error", std::string(m.status().message())}});
      return 1;
    }
    member = *std::move(m);
  } else {
    if (absl::Status s = CheckSingleMemberDir(config->data_dir); !s.ok()) {
      Log("error", "cannot open the data directory", {{"error", std::string(s.message())}});
      return 1;
    }
    absl::StatusOr<std::unique_ptr<DB>> opened = DB::Open(config->data_dir, {});
    if (!opened.ok()) {
      Log("error", "cannot open the data directory",
          {{"data-dir", config->data_dir}, {"error", std::string(opened.status().message())}});
      return 1;
    }
    own_db = *std::move(opened);
  }
  DB* db = clustered ? member->db() : own_db.get();
  server::ServerOptions options;
  options.listen_addresses.clear();
  for (const std::string& u : config->listen_client_urls) {
    options.listen_addresses.push_back(*GrpcAddress(u));
  }
  options.max_request_bytes = config->max_request_bytes;
  options.max_txn_ops = config->max_txn_ops;
  options.quota_backend_bytes = config->quota_backend_bytes;
  options.auto_compaction =
      *server::ParseAutoCompaction(config->auto_compaction_mode, config->auto_compaction_retention);
  if (absl::Status s = SetTls(*config, &options); !s.ok()) {
    Log("error", "cannot set up TLS", {{"error", std::string(s.message())}});
    if (own_db != nullptr) (void)own_db->Close();
    return 1;
  }
  options.watch_progress_interval =
      absl::ToChronoMilliseconds(config->watch_progress_notify_interval);
  options.member.name = config->name;
  options.member.client_urls = config->advertise_client_urls;
  if (clustered) {
    options.member.member_id = member_options.id;
    options.member.cluster_id = cluster_id;
  } else {
    absl::StatusOr<server::MemberIds> ids = server::LoadOrCreateIds(config->data_dir);
    if (!ids.ok()) {
      Log("error", "cannot load the member ids", {{"error", std::string(ids.status().message())}});
      return 1;
    }
    options.member.member_id = ids->member_id;
    options.member.cluster_id = ids->cluster_id;
  }
  absl::StatusOr<std::unique_ptr<server::Server>> srv =
      clustered ? server::Server::Start(db, options, member->replication())
                : server::Server::Start(db, options);
  if (!srv.ok()) {
    Log("error", "cannot serve", {{"error", std::string(srv.status().message())}});
    if (own_db != nullptr) (void)own_db->Close();
    return 1;
  }
  if (clustered) {
    // The server holds the DB: a snapshot from the leader (this member fell
    // more than the log's trailing entries behind) cannot replace it
    // while it serves. raft has stored the snapshot; a restart restores it
    // before serving.
    member->set_on_restore([] {
      Log("error", "a snapshot from the leader must replace the data; exiting: restart to restore it",
          {});
      std::fflush(nullptr);
      _exit(3);
    });
  }
  std::vector<std::string> addresses;
  for (size_t i = 0; i < options.listen_addresses.size(); ++i) {
    const std::string& a = options.listen_addresses[i];
    addresses.push_back(absl::StrCat(a.substr(0, a.rfind(':')), ":", (*srv)->ports()[i]));
  }
  Log("info", "ready to serve client requests",
      {{"address", absl::StrJoin(addresses, ",")},
       {"data-dir", config->data_dir},
       {"member-id", absl::StrCat(absl::Hex(options.member.member_id))},
       {"cluster", clustered ? config->initial_cluster : ""},
       {"replayed-entries", absl::StrCat((*srv)->replayed_entries())}});

  int sig = 0;
  while (sigwait(&signals, &sig) == 0 && sig == SIGUSR1) {
  }
  Log("info", "stopping: finishing requests in flight", {{"signal", strsignal(sig)}});
  const pthread_t main_thread = pthread_self();
  absl::Status closed;
  std::thread stopper([&] {
    (*srv)->Shutdown(std::chrono::duration_cast<std::chrono::milliseconds>(kStopGrace));
    if (member != nullptr) {
      member.reset();  // stops raft, closes the DB
    } else {
      closed = own_db->Close();
    }
    pthread_kill(main_thread, SIGUSR1);
  });
  while (sigwait(&signals, &sig) == 0 && sig != SIGUSR1) {
    Log("warn", "second signal: exiting at once", {{"signal", strsignal(sig)}});
    std::fflush(nullptr);
    _exit(1);
  }
  stopper.join();
  if (!closed.ok()) {
    Log("error", "closing the data directory failed", {{"error", std::string(closed.message())}});
    return 1;
  }
  Log("info", "stopped", {{"data-dir", config->data_dir}});
  return 0;
}

}  // namespace revkv::cli
