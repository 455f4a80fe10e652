#include "cmd/revkv/serve_config.h"

#include <cstdlib>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "server/auto_compactor.h"

namespace revkv::cli {
namespace {

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
    {"logger", "ETCD_LOGGER", Kind::kString,
     "Specify 'zap' for structured logging (revkv's only logger: JSON lines on stderr). "
     "(default \"zap\")"},
    {"log-level", "ETCD_LOG_LEVEL", Kind::kString,
     "Configures log level. Only supports debug, info, warn, error, panic, or fatal. "
     "(default \"info\")"},
    {"max-concurrent-streams", "ETCD_MAX_CONCURRENT_STREAMS", Kind::kInt,
     "Maximum concurrent streams that each client can open at a time. (default 4294967295)"},
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
    if (n == "max-concurrent-streams") c->max_concurrent_streams = v;
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
  if (n == "logger" && value != "zap") {
    // etcd 3.4 also has capnslog's text lines; revkv writes zap's JSON.
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown logger option \"", value, "\" for ", from, ": revkv supports 'zap' only"));
  }
  if (n == "log-level") {
    int level = -1;
    for (int i = 0; i < int(std::size(kLogLevels)); ++i) {
      if (value == kLogLevels[i]) level = i;
    }
    if (level < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown log level \"", value, "\" for ", from));
    }
    c->log_level = level;
  }
  if (n == "auto-compaction-retention") c->auto_compaction_retention = value;
  return absl::OkStatus();
}

const FlagSpec* FindFlag(const std::string& name) {
  for (const FlagSpec& f : kFlags) {
    if (name == f.flag) return &f;
  }
  return nullptr;
}


}  // namespace

std::string ServeUsage() {
  std::string u = "Usage: revkv serve [flags]\n\nServes etcd's v3 gRPC API (KV, Watch, Lease, Maintenance, Cluster) "
                  "as a single member, or as a Raft cluster member given --initial-cluster.\n\nFlags (and their environment variables):\n";
  for (const FlagSpec& f : kFlags) absl::StrAppend(&u, "  --", f.flag, " (", f.env, ")\n      ", f.help, "\n");
  absl::StrAppend(&u, "  -h, --help\n  --version\n");
  return u;
}


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
  if (c.max_concurrent_streams == 0 ||
      c.max_concurrent_streams > std::numeric_limits<uint32_t>::max()) {
    return absl::InvalidArgumentError("--max-concurrent-streams must be between 1 and 4294967295");
  }
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


}  // namespace revkv::cli
