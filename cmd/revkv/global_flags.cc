#include "cmd/revkv/global_flags.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "cmd/revkv/encoding.h"
#include "cmd/revkv/exit_status.h"

namespace revkv::cli {
namespace {

// Global flags that are revkv's, not etcdctl's: no ETCDCTL_ variable.
bool IsRevkvOwn(const std::string& name) {
  return name == "data-dir" || name == "allow-rollback";
}

}  // namespace

void AddGlobalFlags(FlagSet* fs, GlobalFlags* g) {
  fs->BeginPersistent();
  // revkv's own.
  fs->String("data-dir", &g->data_dir, "the data directory (default $REVKV_DATA_DIR)");
  fs->Bool("allow-rollback", &g->allow_rollback,
           "open the commit before a damaged newest one (that commit is lost)");
  // etcdctl 3.4's, with its usage texts.
  fs->String("write-out", &g->write_out,
             "set the output format (fields, json, simple, table; protobuf: not supported)",
             'w');
  fs->Bool("hex", &g->hex, "print byte strings as hex encoded strings");
  fs->Duration("command-timeout", &g->command_timeout,
               "timeout for short running command (excluding dial timeout)");
  fs->StringSlice("endpoints", &g->endpoints, "gRPC endpoints (ignored)");
  fs->Bool("debug", &g->debug, "enable client-side debug logging (ignored)");
  fs->Duration("dial-timeout", &g->dial_timeout, "dial timeout for client connections (ignored)");
  fs->Duration("keepalive-time", &g->keepalive_time,
               "keepalive time for client connections (ignored)");
  fs->Duration("keepalive-timeout", &g->keepalive_timeout,
               "keepalive timeout for client connections (ignored)");
  fs->Bool("insecure-transport", &g->insecure_transport,
           "disable transport security for client connections (ignored)");
  fs->Bool("insecure-discovery", &g->insecure_discovery,
           "accept insecure SRV records describing cluster endpoints (ignored)");
  fs->Bool("insecure-skip-tls-verify", &g->insecure_skip_tls_verify,
           "skip server certificate verification (ignored)");
  fs->String("cacert", &g->cacert,
             "verify certificates of TLS-enabled secure servers using this CA bundle (ignored)");
  fs->String("cert", &g->cert, "identify secure client using this TLS certificate file (ignored)");
  fs->String("key", &g->key, "identify secure client using this TLS key file (ignored)");
  fs->String("user", &g->user, "username[:password] for authentication (ignored)");
  fs->String("password", &g->password, "password for authentication (ignored)");
  fs->String("discovery-srv", &g->discovery_srv,
             "domain name to query for SRV records describing cluster endpoints (ignored)", 'd');
  fs->String("discovery-srv-name", &g->discovery_srv_name,
             "service name to query when using DNS discovery (ignored)");
}

const std::vector<std::string>& IgnoredConnectionFlags() {
  static const auto* names = new std::vector<std::string>{
      "cacert",       "cert",           "debug",
      "dial-timeout", "discovery-srv",  "discovery-srv-name",
      "endpoints",    "insecure-discovery", "insecure-skip-tls-verify",
      "insecure-transport", "keepalive-time", "keepalive-timeout",
      "key",          "password",       "user",
  };
  return *names;
}

std::string FlagToEnv(const std::string& name) {
  std::string out = "ETCDCTL_";
  for (char c : name) out += c == '-' ? '_' : char(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string PkgFlagsLogLine(char level, const std::string& msg) {
  return absl::StrFormat("%s %c | pkg/flags: %s",
                         absl::FormatTime("%Y-%m-%d %H:%M:%E6S", absl::Now(),
                                          absl::LocalTimeZone()),
                         level, msg);
}

absl::Status CheckApiVersion(const std::vector<std::string>& environ) {
  for (const std::string& e : environ) {
    if (e.rfind("ETCDCTL_API=", 0) != 0) continue;
    std::string v = e.substr(12);
    if (v.empty() || v == "3") return absl::OkStatus();
    return RawError(kExitError, "unsupported API version " + v);
  }
  return absl::OkStatus();
}

absl::Status ApplyEnvironment(FlagSet& fs, const std::vector<std::string>& environ,
                              EnvResult* result) {
  std::map<std::string, std::string> env;
  for (const std::string& e : environ) {
    size_t eq = e.find('=');
    if (eq == std::string::npos) continue;
    env.emplace(e.substr(0, eq), e.substr(eq + 1));  // the first wins, as getenv
  }
  std::set<std::string> already_set, used;
  // SetPflagsFromEnv: every flag in name order.
  for (const std::string& name : fs.PersistentNames()) {
    if (IsRevkvOwn(name)) continue;
    const std::string key = FlagToEnv(name);
    if (fs.Changed(name)) {
      already_set.insert(key);
      continue;
    }
    auto it = env.find(key);
    if (it == env.end() || it->second.empty()) continue;
    used.insert(key);
    result->used.push_back(key);
    if (absl::Status s = fs.SetValue(name, it->second); !s.ok()) {
      // etcdctl 3.4 drops this error: the flag keeps its default.
      result->warnings.push_back(absl::StrFormat(
          "Warning: invalid value %s for %s: %s; the flag keeps its default, as in etcdctl",
          GoQuote(it->second), key, s.message()));
    }
  }
  // verifyEnv: the process's variables in order. etcdctl's main() unsets
  // ETCDCTL_API before this.
  for (const std::string& e : environ) {
    const std::string key = e.substr(0, e.find('='));
    if (key == "ETCDCTL_API" || used.count(key) != 0) continue;
    if (already_set.count(key) != 0) {
      return RawError(kExitError,
                      PkgFlagsLogLine('C', absl::StrFormat(
                                               "conflicting environment variable \"%s\" is "
                                               "shadowed by corresponding command-line flag "
                                               "(either unset environment variable or disable "
                                               "flag)",
                                               key)));
    }
    if (e.rfind("ETCDCTL_", 0) == 0) {
      result->warnings.push_back(
          PkgFlagsLogLine('W', "unrecognized environment variable " + e));
    }
  }
  return absl::OkStatus();
}

std::string IgnoredFlagsNote(const FlagSet& fs, const std::vector<std::string>& used, bool remote) {
  // What the client mode (remote_kv.h) honours.
  static const auto* honoured =
      new std::vector<std::string>{"endpoints", "cacert", "cert", "key", "insecure-transport",
                                   "insecure-skip-tls-verify"};
  auto ignored = [&](const std::string& name) {
    return !remote || std::find(honoured->begin(), honoured->end(), name) == honoured->end();
  };
  std::vector<std::string> given;
  for (const std::string& name : IgnoredConnectionFlags()) {
    if (ignored(name) && fs.Changed(name) &&
        std::find(used.begin(), used.end(), FlagToEnv(name)) == used.end()) {
      given.push_back("--" + name);
    }
  }
  for (const std::string& name : IgnoredConnectionFlags()) {
    if (ignored(name) && std::find(used.begin(), used.end(), FlagToEnv(name)) != used.end()) {
      given.push_back(FlagToEnv(name));
    }
  }
  if (given.empty()) return "";
  if (remote) {
    return "Note: ignoring " + absl::StrJoin(given, ", ") +
           ": revkv's client mode does not support them";
  }
  return "Note: ignoring " + absl::StrJoin(given, ", ") +
         ": revkv has no server; commands act on the data directory (--data-dir)";
}

}  // namespace revkv::cli
