#include "cmd/revkv/cli.h"

#include <unistd.h>

#include <cstdlib>
#include <functional>

#include "absl/strings/str_format.h"
#include "cmd/revkv/commands.h"
#include "cmd/revkv/exit_status.h"
#include "cmd/revkv/global_flags.h"
#include "version.h"

extern char** environ;

namespace revkv::cli {
namespace {

struct Command {
  std::string name;
  std::string summary;
  std::string usage;  // after "revkv "
  std::function<void(FlagSet&, Invocation&)> flags;
  std::function<absl::Status(Invocation&)> run;
  std::vector<Command> subs;
  // Reads the ETCDCTL_* environment: etcdctl's commands that talk to a
  // server do; version, snapshot status and snapshot restore do not.
  bool reads_env = true;
};

absl::Status VersionCommand(Invocation& inv) {
  *inv.out << VersionText();
  return absl::OkStatus();
}

// etcdctl check perf / datascale: load tests of a running cluster.
absl::Status UnsupportedCheck(const std::string& name) {
  return ExitError(kExitBadFeature,
                   absl::StrFormat("check %s is not supported by revkv: it load-tests a running "
                                   "etcd cluster, and revkv has no server (`revkv bench` "
                                   "measures revkv itself)",
                                   name));
}

void AddCheckLoadFlags(FlagSet& fs, Invocation& i, const std::string& what,
                       const std::string& prefix) {
  fs.String("load", &i.check_load,
            "The " + what + " check's workload model. Accepted workloads: s(small), "
            "m(medium), l(large), xl(xLarge)");
  i.check_prefix = prefix;
  fs.String("prefix", &i.check_prefix, "The prefix for writing the " + what + " check's keys.");
  fs.Bool("auto-compact", &i.check_auto_compact,
          "Compact storage with last revision after test is finished.");
  fs.Bool("auto-defrag", &i.check_auto_defrag, "Defragment storage after test is finished.");
}

// etcdctl's --cluster of the endpoint commands and defrag (client mode).
void AddClusterFlag(FlagSet& fs, Invocation& i) {
  fs.Bool("cluster", &i.cluster, "use all endpoints from the cluster member list");
}

const std::vector<Command>& Commands() {
  static const auto* cmds = new std::vector<Command>{
      {"put", "Puts the given key into the store", "put [options] <key> <value> [flags]",
       [](FlagSet& fs, Invocation& i) { AddPutFlags(&fs, &i.put); }, PutCommand, {}},
      {"get", "Gets the key or a range of keys", "get [options] <key> [range_end] [flags]",
       [](FlagSet& fs, Invocation& i) { AddGetFlags(&fs, &i.get); }, GetCommand, {}},
      {"del", "Removes the specified key or range of keys [key, range_end)",
       "del [options] <key> [range_end] [flags]",
       [](FlagSet& fs, Invocation& i) { AddDelFlags(&fs, &i.del); }, DelCommand, {}},
      {"txn", "Txn processes all the requests in one transaction", "txn [options] [flags]",
       [](FlagSet& fs, Invocation& i) {
         fs.Bool("interactive", &i.interactive, "Input transaction in interactive mode", 'i');
       },
       TxnCommand, {}},
      {"watch", "Watches events stream on keys or prefixes (with --endpoints)",
       "watch [options] [key or prefix] [range_end] [--] [exec-command arg1 arg2 ...] [flags]",
       [](FlagSet& fs, Invocation& i) {
         fs.Bool("interactive", &i.watch_interactive, "Interactive mode", 'i');
         fs.Bool("prefix", &i.watch_prefix, "Watch on a prefix if prefix is set");
         fs.Int64("rev", &i.watch_rev, "Revision to start watching");
         fs.Bool("prev-kv", &i.watch_prev_kv, "get the previous key-value pair before the event happens");
       },
       WatchCommand, {}},
      {"compaction", "Compacts the event history in etcd",
       "compaction [options] <revision> [flags]",
       [](FlagSet& fs, Invocation& i) {
         fs.Bool("physical", &i.physical,
                 "'true' to wait for compaction to physically remove all old revisions");
       },
       CompactionCommand, {}},
      {"endpoint", "Endpoint related commands", "endpoint <subcommand> [flags]", nullptr,
       nullptr,
       {
           {"hashkv", "Prints the KV history hash of the data directory", "endpoint hashkv [flags]",
            [](FlagSet& fs, Invocation& i) {
              fs.Int64("rev", &i.hash_rev, "maximum revision to hash (default: all revisions)");
              AddClusterFlag(fs, i);
            },
            HashKVCommand, {}},
           {"health", "Checks that the data directory answers a read and commits a write",
            "endpoint health [flags]", AddClusterFlag, EndpointHealthCommand, {}},
           {"status", "Prints out the status of the data directory", "endpoint status [flags]",
            AddClusterFlag, EndpointStatusCommand, {}},
       }},
      {"lease", "Lease related commands (with --endpoints)", "lease <subcommand> [flags]",
       nullptr, nullptr,
       {
           {"grant", "Creates leases", "lease grant <ttl> [flags]", nullptr, LeaseGrantCommand,
            {}},
           {"revoke", "Revokes leases", "lease revoke <leaseID> [flags]", nullptr,
            LeaseRevokeCommand, {}},
           {"timetolive", "Get lease information", "lease timetolive <leaseID> [options] [flags]",
            [](FlagSet& fs, Invocation& i) {
              fs.Bool("keys", &i.lease_keys, "Get keys attached to this lease");
            },
            LeaseTimeToLiveCommand, {}},
           {"list", "List all active leases", "lease list [flags]", nullptr, LeaseListCommand,
            {}},
           {"keep-alive", "Keeps leases alive (renew)", "lease keep-alive [options] <leaseID> [flags]",
            [](FlagSet& fs, Invocation& i) {
              fs.Bool("once", &i.lease_once, "Resets the keep-alive time to its original value and exits immediately");
            },
            LeaseKeepAliveCommand, {}},
       }},
      {"member", "Membership related commands (with --endpoints)", "member <subcommand> [flags]",
       nullptr, nullptr,
       {
           {"add", "Adds a member into the cluster", "member add <memberName> [options] [flags]",
            [](FlagSet& fs, Invocation& i) {
              fs.String("peer-urls", &i.member_peer_urls,
                        "comma separated peer URLs for the new member.");
              fs.Bool("learner", &i.member_learner, "indicates if the new member is raft learner");
            },
            MemberAddCommand, {}},
           {"list", "Lists all members in the cluster", "member list [flags]", nullptr,
            MemberListCommand, {}},
           {"promote", "Promotes a non-voting member in the cluster",
            "member promote <memberID> [flags]", nullptr, MemberPromoteCommand, {}},
           {"remove", "Removes a member from the cluster", "member remove <memberID> [flags]",
            nullptr, MemberRemoveCommand, {}},
           {"update", "Updates a member in the cluster",
            "member update <memberID> [options] [flags]",
            [](FlagSet& fs, Invocation& i) {
              fs.String("peer-urls", &i.member_peer_urls,
                        "comma separated peer URLs for the updated member.");
            },
            MemberUpdateCommand, {}},
       }},
      {"move-leader", "Transfers leadership to another etcd cluster member (with --endpoints)",
       "move-leader <transferee-member-id> [flags]", nullptr, MoveLeaderCommand, {}},
      {"alarm", "Alarm related commands (with --endpoints)", "alarm <subcommand> [flags]",
       nullptr, nullptr,
       {
           {"disarm", "Disarms all alarms", "alarm disarm [flags]", nullptr, AlarmDisarmCommand,
            {}},
           {"list", "Lists all alarms", "alarm list [flags]", nullptr, AlarmListCommand, {}},
       }},
      {"defrag", "Defragments the storage of the data directory", "defrag [flags]",
       AddClusterFlag, DefragCommand, {}},
      {"snapshot", "Manages snapshots", "snapshot <subcommand> [flags]", nullptr, nullptr,
       {
           {"restore", "Restores a snapshot to a new data directory",
            "snapshot restore <filename> --data-dir NEW [options] [flags]",
            [](FlagSet& fs, Invocation& i) {
              fs.Bool("skip-hash-check", &i.skip_hash_check,
                      "Ignore snapshot integrity hash value (required if copied from data "
                      "directory)");
              fs.Int64("bump-revision", &i.bump_revision,
                       "How much to increase the latest revision after restore");
              fs.Bool("mark-compacted", &i.mark_compacted,
                      "Mark the latest revision after restore as the point of scheduled "
                      "compaction (required if --bump-revision > 0)");
            },
            SnapshotRestoreCommand, {}, /*reads_env=*/false},
           {"save", "Stores a snapshot of the data directory to a given file",
            "snapshot save <filename> [flags]",
            [](FlagSet& fs, Invocation& i) {
              fs.String("format", &i.snapshot_format,
                        "revkv (its own file, with an integrity trailer) or etcd (a bbolt file "
                        "and its sha256, as etcdctl snapshot save writes)");
            },
            SnapshotSaveCommand, {}},
           {"status", "Gets backend snapshot status of a given file",
            "snapshot status <filename> [flags]", nullptr, SnapshotStatusCommand, {},
            /*reads_env=*/false},
       }},
      {"migrate", "Imports a stopped etcd 3.4 member's data directory into a new one",
       "migrate --from-etcd-data-dir DIR --data-dir NEW [flags]",
       [](FlagSet& fs, Invocation& i) {
         fs.String("from-etcd-data-dir", &i.from_etcd_data_dir,
                   "The stopped etcd member's data directory (its member/snap/db is read)");
       },
       MigrateCommand, {}, /*reads_env=*/false},
      {"check", "Checks the structure of the data file; lists every problem",
       "check [flags]", nullptr, CheckCommand,
       {
           {"datascale", "Not supported: etcdctl's memory check of a running server",
            "check datascale [options] [flags]",
            [](FlagSet& fs, Invocation& i) {
              AddCheckLoadFlags(fs, i, "datascale", "/etcdctl-check-datascale/");
            },
            [](Invocation&) { return UnsupportedCheck("datascale"); }, {}},
           {"perf", "Not supported: etcdctl's performance check of a running cluster",
            "check perf [options] [flags]",
            [](FlagSet& fs, Invocation& i) {
              AddCheckLoadFlags(fs, i, "performance", "/etcdctl-check-perf/");
            },
            [](Invocation&) { return UnsupportedCheck("perf"); }, {}},
       }},
      {"stats", "Prints page and bucket statistics of the data file", "stats [flags]", nullptr,
       StatsCommand, {}},
      {"dump", "Prints the revision history of a key (every key without one), oldest first",
       "dump [key] [flags]", nullptr, DumpCommand, {}},
      {"inspect", "Alias of dump", "inspect [key] [flags]", nullptr, DumpCommand, {}},
      {"version", "Prints the version of revkv and of the etcdctl it follows", "version [flags]",
       nullptr, VersionCommand, {}, /*reads_env=*/false},
      {"bench", "Runs benchmarks (see `revkv bench help`)", "bench [suite] [flags]", nullptr,
       nullptr, {}},
  };
  return *cmds;
}

// The usage lines of the global flags.
std::string GlobalUsage() {
  GlobalFlags g;
  FlagSet fs;
  AddGlobalFlags(&fs, &g);
  return fs.Usage(/*persistent=*/true);
}

// A flag set holding only the global flags, to tell which take a value.
const FlagSet& GlobalFlagSet() {
  static const FlagSet* fs = [] {
    static GlobalFlags g;
    auto* f = new FlagSet;
    AddGlobalFlags(f, &g);
    return f;
  }();
  return *fs;
}

// cobra's command lookup with prefix matching: exact name, else a unique prefix.
const Command* Find(const std::vector<Command>& cmds, const std::string& word) {
  const Command* found = nullptr;
  int matches = 0;
  for (const Command& c : cmds) {
    if (c.name == word) return &c;
    if (!word.empty() && c.name.compare(0, word.size(), word) == 0) {
      found = &c;
      ++matches;
    }
  }
  return matches == 1 ? found : nullptr;
}

// Index of the first word of argv[from..] that is not a flag (skipping the
// values of the global flags), or -1.
int NextWord(const std::vector<std::string>& argv, size_t from) {
  for (size_t i = from; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "--") return -1;
    if (a.size() > 1 && a[0] == '-') {
      if (GlobalFlagSet().TakesNextWord(a)) ++i;
      continue;
    }
    return int(i);
  }
  return -1;
}

std::string CommandUsage(const Command& c, const std::string& path, const FlagSet& fs) {
  std::string out = absl::StrFormat("NAME:\n\trevkv %s - %s\n\nUSAGE:\n\trevkv %s\n", path,
                                    c.summary, c.usage);
  if (!c.subs.empty()) {
    out += "\nCOMMANDS:\n";
    for (const Command& s : c.subs) out += "\t" + s.name + "\t" + s.summary + "\n";
  }
  out += "\nOPTIONS:\n  -h, --help[=false]\t\thelp for " + c.name + "\n" + fs.Usage();
  out += "\nGLOBAL OPTIONS:\n" + GlobalUsage() + "\n";
  return out;
}

int Fail(const absl::Status& s, std::ostream& err) {
  std::string msg(s.message());
  if (IsRawMessage(s)) {
    // An empty raw message: etcdctl exits without a line of its own.
    if (!msg.empty()) err << msg << "\n";
  } else {
    err << "Error: " << msg << "\n";
  }
  return ExitCodeOf(s);
}

std::vector<std::string> Environment() {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) env.emplace_back(*e);
  return env;
}

}  // namespace

std::string VersionText() {
  return absl::StrFormat("etcdctl version: %s\nAPI version: %s\nrevkv version: %s\n",
                         kEtcdctlVersion, kApiVersion, kVersion);
}

std::string RootUsage() {
  std::string out =
      "NAME:\n\trevkv - an embedded, etcd-style MVCC storage engine\n\nUSAGE:\n"
      "\trevkv [--data-dir DIR] [-w simple|json|fields|table] <command> [args] [flags]\n\n"
      "COMMANDS:\n";
  for (const Command& c : Commands()) out += "\t" + c.name + "\t" + c.summary + "\n";
  out += "\thelp\tHelp about any command\n";
  out += "\nGLOBAL OPTIONS:\n" + GlobalUsage();
  return out;
}

int RunCli(const std::vector<std::string>& argv, std::istream& in, std::ostream& out,
           std::ostream& err) {
  const std::vector<std::string> env = Environment();
  // etcdctl's main() checks ETCDCTL_API before anything else.
  if (absl::Status s = CheckApiVersion(env); !s.ok()) return Fail(s, err);
  int w = NextWord(argv, 0);
  if (w < 0) {
    // Only flags: --help, --version or nothing useful.
    for (const std::string& a : argv) {
      if (a == "--version") {
        Invocation inv;
        inv.out = &out;
        return ExitCodeOf(VersionCommand(inv));
      }
    }
    out << RootUsage();
    return 0;
  }
  std::vector<std::string> rest = argv;
  const Command* cmd = Find(Commands(), argv[w]);
  if (argv[w] == "help") {
    out << RootUsage();
    return 0;
  }
  if (cmd == nullptr) {
    std::string msg = absl::StrFormat("unknown command \"%s\" for \"revkv\"", argv[w]);
    err << "Error: " << msg << "\nRun 'revkv --help' for usage.\n";
    return Fail(ExitError(kExitError, msg), err);
  }
  rest.erase(rest.begin() + w);
  std::string path = cmd->name;
  if (!cmd->subs.empty()) {
    int s = NextWord(rest, size_t(w));
    const Command* sub = s >= 0 ? Find(cmd->subs, rest[s]) : nullptr;
    if (sub != nullptr) {
      rest.erase(rest.begin() + s);
      path += " " + sub->name;
      cmd = sub;
    } else if (!cmd->run) {
      FlagSet fs;
      out << CommandUsage(*cmd, path, fs);
      return 0;
    }
    // else: a command that runs itself too (check); its words are arguments.
  }

  Invocation inv;
  inv.in = &in;
  inv.out = &out;
  inv.err = &err;
  GlobalFlags g;
  FlagSet fs;
  if (cmd->flags) cmd->flags(fs, inv);
  AddGlobalFlags(&fs, &g);
  absl::Status s = fs.Parse(rest, &inv.args);
  if (!s.ok()) {
    err << "Error: " << s.message() << "\n";
    out << CommandUsage(*cmd, path, fs);
    err << "\n";
    return Fail(s, err);
  }
  inv.args_before_dash = fs.args_before_dash();
  if (fs.help() || !cmd->run) {
    out << CommandUsage(*cmd, path, fs);
    return 0;
  }
  EnvResult env_result;
  if (cmd->reads_env) {
    // watch reads ETCDCTL_WATCH_KEY and _RANGE_END itself; etcdctl gives
    // them discarding flags, so that (set) they raise no "unrecognized"
    // warning.
    std::vector<std::string> flag_env;
    for (const std::string& e : env) {
      const size_t eq = e.find('=');
      const std::string key = e.substr(0, eq);
      const std::string value = eq == std::string::npos ? "" : e.substr(eq + 1);
      if (path == "watch" && !value.empty() &&
          (key == "ETCDCTL_WATCH_KEY" || key == "ETCDCTL_WATCH_RANGE_END")) {
        (key == "ETCDCTL_WATCH_KEY" ? inv.watch_env_key : inv.watch_env_range) = value;
        continue;
      }
      flag_env.push_back(e);
    }
    s = ApplyEnvironment(fs, flag_env, &env_result);
    for (const std::string& line : env_result.warnings) err << line << "\n";
    if (!s.ok()) return Fail(s, err);
  }
  inv.data_dir = g.data_dir;
  if (!fs.Changed("data-dir")) {
    const char* dir = std::getenv("REVKV_DATA_DIR");
    if (dir != nullptr) inv.data_dir = dir;
  }
  // Client mode: endpoints named (flag or ETCDCTL_ENDPOINTS), no directory.
  const bool remote = inv.data_dir.empty() && fs.Changed("endpoints");
  if (remote) {
    inv.remote.endpoints = g.endpoints;
    inv.remote.command_timeout = g.command_timeout;
    inv.remote.cacert = g.cacert;
    inv.remote.cert = g.cert;
    inv.remote.key = g.key;
    inv.remote.insecure_transport = g.insecure_transport;
    inv.remote.insecure_skip_tls_verify = g.insecure_skip_tls_verify;
  }
  if (std::string note = IgnoredFlagsNote(fs, env_result.used, remote); !note.empty()) {
    err << note << "\n";
  }
  inv.allow_rollback = g.allow_rollback;
  inv.hex = g.hex;
  inv.command_timeout = g.command_timeout;
  absl::StatusOr<Format> f = ParseFormat(g.write_out);
  if (!f.ok()) return Fail(f.status(), err);
  inv.format = *f;
  s = cmd->run(inv);
  out.flush();
  if (!s.ok()) return Fail(s, err);
  return 0;
}

}  // namespace revkv::cli
