// The global flags every revkv command inherits: etcdctl 3.4's, with their
// ETCDCTL_* environment variables, plus revkv's own (--data-dir,
// --allow-rollback).
//
// etcdctl's connection flags (--endpoints, --dial-timeout, TLS, auth,
// discovery, keepalive, --debug) are parsed with etcdctl's syntax and
// errors, then ignored on a local data directory. Without one, --endpoints
// selects the client mode of the KV commands (remote_kv.h), which honours
// --cacert, --cert and --key too. --command-timeout (default 5s) is kept
// for the commands (Invocation::command_timeout).
//
// The environment is read as etcdctl 3.4's pkg/flags.SetPflagsFromEnv does,
// for the commands that talk to a server in etcdctl (all but version,
// snapshot status and snapshot restore): each global flag not given on the
// command line takes a non-empty ETCDCTL_<NAME> (dashes as underscores,
// upper case); a variable whose flag *was* given is a fatal conflict (exit
// 1); any other ETCDCTL_ variable draws an "unrecognized" warning. etcdctl
// drops a bad value silently (the flag keeps its default); revkv does the
// same but says so in a warning line.
//
// Thread-safety: not thread-safe (writes the GlobalFlags it is given).
#ifndef REVKV_CMD_REVKV_GLOBAL_FLAGS_H_
#define REVKV_CMD_REVKV_GLOBAL_FLAGS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "cmd/revkv/flags.h"

namespace revkv::cli {

struct GlobalFlags {
  // revkv's own.
  std::string data_dir;
  bool allow_rollback = false;
  // etcdctl's, with etcdctl 3.4's defaults.
  std::string write_out = "simple";
  bool hex = false;
  absl::Duration command_timeout = absl::Seconds(5);
  // Accepted and ignored (no server).
  std::vector<std::string> endpoints = {"127.0.0.1:2379"};
  bool debug = false;
  absl::Duration dial_timeout = absl::Seconds(2);
  absl::Duration keepalive_time = absl::Seconds(2);
  absl::Duration keepalive_timeout = absl::Seconds(6);
  bool insecure_transport = true;
  bool insecure_discovery = true;
  bool insecure_skip_tls_verify = false;
  std::string cacert, cert, key, user, password, discovery_srv, discovery_srv_name;
};

// Defines the global flags on `fs` (as persistent flags), writing into *g.
void AddGlobalFlags(FlagSet* fs, GlobalFlags* g);

// The etcdctl flags revkv accepts and ignores, by name.
const std::vector<std::string>& IgnoredConnectionFlags();

// ETCDCTL_API as etcdctl's main() checks it: unset, empty or "3" is fine;
// anything else prints `unsupported API version X` (no "Error: " prefix)
// and exits 1 -- an error with IsRawMessage (exit_status.h).
absl::Status CheckApiVersion(const std::vector<std::string>& environ);

// What ApplyEnvironment did: the variables it used, and the stderr lines
// etcdctl would log (warnings), in order.
struct EnvResult {
  std::vector<std::string> used;      // e.g. "ETCDCTL_WRITE_OUT"
  std::vector<std::string> warnings;  // whole lines, without newline
};

// Applies the ETCDCTL_* variables of `environ` ("K=V" entries, in the
// process's order) to the persistent etcdctl flags of `fs` (revkv's own
// global flags have none). A conflict is a fatal error (exit 1, printed
// verbatim: IsRawMessage), as etcdctl's log.Fatal; *result then holds the
// warnings logged before it.
absl::Status ApplyEnvironment(FlagSet& fs, const std::vector<std::string>& environ,
                              EnvResult* result);

// The environment variable etcdctl reads for flag `name`.
std::string FlagToEnv(const std::string& name);

// A line as etcdctl's capnslog logger prints it: "2006-01-02 15:04:05.000000
// W | pkg/flags: <msg>" (local time; level 'W' warning, 'C' critical).
std::string PkgFlagsLogLine(char level, const std::string& msg);

// One line for stderr naming the ignored connection flags that were given
// (on the command line, or through `used` environment variables); "" if none.
// In client mode (`remote`) the flags it honours (--endpoints and the TLS
// files) are not named.
std::string IgnoredFlagsNote(const FlagSet& fs, const std::vector<std::string>& used,
                             bool remote = false);

}  // namespace revkv::cli

#endif  // REVKV_CMD_REVKV_GLOBAL_FLAGS_H_
