// The configuration of `revkv serve`: etcd's server flags and their ETCD_*
// environment variables, with etcd's defaults, for what revkv supports.
// Pure parsing (no files are read): serve_command.cc acts on it.
//
// Thread-safety: functions of their arguments only.
#ifndef REVKV_CMD_REVKV_SERVE_CONFIG_H_
#define REVKV_CMD_REVKV_SERVE_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace revkv::cli {

struct ServeConfig {
  std::string name = "default";
  std::string data_dir;  // "" until parsed: then <name>.etcd
  std::vector<std::string> listen_client_urls = {"http://localhost:2379"};
  std::vector<std::string> advertise_client_urls = {"http://localhost:2379"};
  int64_t max_request_bytes = 1536 * 1024;
  int64_t max_txn_ops = 128;
  // etcd's --max-concurrent-streams (default 2^32 - 1).
  int64_t max_concurrent_streams = 4294967295;
  // etcd's backend quota: 0 is its default (2 GiB), negative none.
  int64_t quota_backend_bytes = 0;
  // etcd's --auto-compaction-mode and --auto-compaction-retention.
  std::string auto_compaction_mode = "periodic";
  std::string auto_compaction_retention = "0";
  // etcd 3.4's --experimental-watch-progress-notify-interval.
  absl::Duration watch_progress_notify_interval = absl::Minutes(10);
  // TLS for https:// client URLs (PEM files). A trusted CA (or
  // client_cert_auth, which needs it) makes clients present a certificate
  // it signed, as etcd 3.4 does.
  std::string cert_file;
  std::string key_file;
  std::string trusted_ca_file;
  bool client_cert_auth = false;
  // etcd's --auto-tls: without cert_file and key_file, https client URLs
  // serve a self-signed certificate kept in <data-dir>/fixtures/client
  // (server/self_cert.h). Not with client_cert_auth or trusted_ca_file,
  // which etcd would silently drop.
  bool auto_tls = false;
  // A Raft cluster member (serve_cluster.h) when initial_cluster is set.
  std::string initial_cluster;
  std::string initial_cluster_state = "new";
  std::string initial_cluster_token = "etcd-cluster";
  std::vector<std::string> initial_advertise_peer_urls;
  std::vector<std::string> listen_peer_urls;
  int64_t election_timeout_ms = 1000;
  int64_t heartbeat_interval_ms = 100;
  // etcd's --snapshot-count: a cluster member's Raft log is snapshotted
  // every this many entries.
  int64_t snapshot_count = 100000;
  // etcd's --logger (revkv writes zap's JSON lines only) and --log-level:
  // 0 debug, 1 info, 2 warn, 3 error, 4 dpanic, 5 panic, 6 fatal.
  int log_level = 1;
  bool help = false;
  bool version = false;
};

// The configuration of `args` (after "serve") over `env` ("K=V" entries):
// flags win over ETCD_* variables, which win over etcd's defaults. Flags
// and ETCD_* variables revkv does not support yet are errors naming them.
absl::StatusOr<ServeConfig> ParseServeConfig(const std::vector<std::string>& args,
                                             const std::vector<std::string>& env);

// `host:port` of an http:// or https:// client URL; other schemes are
// errors.
absl::StatusOr<std::string> GrpcAddress(const std::string& url);
bool IsHttpsUrl(const std::string& url);

// zap's level names, index = ServeConfig::log_level.
inline constexpr const char* kLogLevels[] = {"debug",  "info",  "warn", "error",
                                             "dpanic", "panic", "fatal"};

// `revkv serve --help`: every flag with its variable and etcd's help.
std::string ServeUsage();

}  // namespace revkv::cli

#endif  // REVKV_CMD_REVKV_SERVE_CONFIG_H_
