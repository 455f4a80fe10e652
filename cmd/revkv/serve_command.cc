#include "cmd/revkv/serve_command.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <map>
#include <string_view>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/strings/str_join.h"
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

// Set when raft removed this member from its cluster (before the SIGTERM
// that stops it).
std::atomic<bool> g_removed{false};
// The state machine failed (its data file cannot be written): stop, and
// exit non-zero so that a supervisor restarts the member, which replays
// raft's log from the data's last durable index (etcd exits likewise).
std::atomic<bool> g_failed{false};

// --log-level: lines below it are dropped. Set once, before any thread.
int min_log_level = 1;

void Log(const char* level, const std::string& msg, const std::map<std::string, std::string>& fields) {
  int rank = 0;
  for (int i = 0; i < int(std::size(kLogLevels)); ++i) {
    if (std::string_view(level) == kLogLevels[i]) rank = i;
  }
  if (rank < min_log_level) return;
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

int RunServe(const std::vector<std::string>& args) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  absl::StatusOr<ServeConfig> config = ParseServeConfig(args, env);
  if (!config.ok()) {
    std::fprintf(stderr, "Error: %s\n\n%s", std::string(config.status().message()).c_str(), ServeUsage().c_str());
    return 2;
  }
  if (config->help) {
    std::fputs(ServeUsage().c_str(), stdout);
    return 0;
  }
  if (config->version) {
    std::printf("revkv Version: %s\netcd API Version: %s\n", kVersion, kApiVersion);
    return 0;
  }
  min_log_level = config->log_level;
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
    // A snapshot from the leader (this member fell more than the log's
    // trailing entries behind, or is new) replaces the data in place while
    // the server goes on serving (revkv::DB::InstallSnapshot).
    member_options.on_restore = [] {
      Log("info", "installing a snapshot from the leader", {});
    };
    member_options.on_failed = [](const absl::Status& why) {
      Log("error", "the member cannot apply the log; stopping",
          {{"error", std::string(why.message())}});
      g_failed.store(true);
      kill(getpid(), SIGTERM);
    };
    // Removed from the cluster: stop as on SIGTERM (sigwait below).
    member_options.on_removed = [] {
      Log("info", "this member was removed from the cluster; stopping", {});
      g_removed.store(true);
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
  options.max_concurrent_streams = uint32_t(config->max_concurrent_streams);
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
    // A cluster member's writes in flight wait on raft and on its applied
    // index without a deadline of their own, and gRPC's shutdown waits for
    // every call to finish: past the grace (and a second for the calls it
    // cancelled), stopping raft answers them all (stopped).
    absl::Notification server_down;
    std::thread unblock;
    // A removed member's calls waiting for a leader never get one: answer
    // them at once (stopped), as etcd does, instead of at their timeout.
    if (member != nullptr && (g_removed.load() || g_failed.load())) member->Stop();
    if (member != nullptr) {
      unblock = std::thread([&] {
        if (!server_down.WaitForNotificationWithTimeout(absl::FromChrono(kStopGrace) +
                                                        absl::Seconds(1))) {
          member->Stop();
        }
      });
    }
    (*srv)->Shutdown(std::chrono::duration_cast<std::chrono::milliseconds>(kStopGrace));
    server_down.Notify();
    if (unblock.joinable()) unblock.join();
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
  return g_failed.load() ? 1 : 0;
}

}  // namespace revkv::cli
