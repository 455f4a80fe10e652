// The revkv commands. Each takes an Invocation (positional arguments, output
// format, data directory, streams) and returns OK or an error carrying
// etcdctl's exit code (exit_status.h); RunCli (cli.h) parses the command
// line, dispatches and prints the error.
//
// Thread-safety: one invocation at a time per process (they open the data
// directory, which is locked against other processes too).
#ifndef REVKV_CMD_REVKV_COMMANDS_H_
#define REVKV_CMD_REVKV_COMMANDS_H_

#include <chrono>
#include <istream>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cmd/revkv/flags.h"
#include "cmd/revkv/op_parse.h"
#include "cmd/revkv/printer.h"
#include "cmd/revkv/remote_kv.h"
#include "revkv/db.h"

namespace revkv::cli {

// A command's inputs: its arguments, the global flags (after the ETCDCTL_*
// environment, global_flags.h) and its own flags.
struct Invocation {
  std::vector<std::string> args;  // positional arguments
  int args_before_dash = -1;      // how many came before "--" (-1: none)
  // Global flags.
  Format format = Format::kSimple;  // -w, --write-out
  bool hex = false;                 // --hex: simple output prints keys/values as \xNN
  // --command-timeout (etcdctl's default 5s): how long a command may take
  // past its start -- the bound for waiting on the data directory's lock.
  absl::Duration command_timeout = absl::Seconds(5);
  std::string data_dir;           // --data-dir, else $REVKV_DATA_DIR
  // Client mode (remote_kv.h): --endpoints (or ETCDCTL_ENDPOINTS) given
  // and no data directory. Empty endpoints: the data directory's mode.
  RemoteOptions remote;
  bool remote_mode() const { return !remote.endpoints.empty(); }
  std::istream* in = nullptr;
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  // Command flags (only those of the running command are meaningful).
  GetFlags get;
  PutFlags put;
  DelFlags del;
  bool interactive = false;       // txn -i
  bool physical = false;          // compaction --physical
  int64_t hash_rev = 0;           // endpoint hashkv --rev
  bool cluster = false;           // endpoint *, defrag --cluster (client mode)
  bool skip_hash_check = false;   // snapshot restore
  int64_t bump_revision = 0;
  bool mark_compacted = false;
  bool allow_rollback = false;    // --allow-rollback
  std::string from_etcd_data_dir;  // migrate
  std::string snapshot_format = "revkv";  // snapshot save --format
  bool lease_keys = false;        // lease timetolive --keys
  bool lease_once = false;        // lease keep-alive --once
  std::string member_peer_urls;   // member add / update --peer-urls
  bool member_learner = false;    // member add --learner
  bool watch_interactive = false; // watch -i
  std::string watch_env_key;      // $ETCDCTL_WATCH_KEY (watch only)
  std::string watch_env_range;    // $ETCDCTL_WATCH_RANGE_END (watch only)
  bool watch_prefix = false;      // watch --prefix
  int64_t watch_rev = 0;          // watch --rev
  bool watch_prev_kv = false;     // watch --prev-kv
  // check perf / datascale (accepted, then refused: not supported).
  std::string check_load = "s";
  std::string check_prefix;
  bool check_auto_compact = false;
  bool check_auto_defrag = false;
};

// What a command does to the store: reads open it read-only under a shared
// lock (readers run side by side, and never create a store: "no revkv store
// at DIR"); writes open it exclusively, creating it if need be.
enum class Access { kRead, kWrite };

// Opens the data directory of `inv`, with its --allow-rollback, waiting up
// to its --command-timeout for another process's lock, and prints
// what the open worked around (revkv::DB::open_notes) on stderr, one
// "Warning: " line each. Errors carry the CLI's exit code.
absl::StatusOr<std::unique_ptr<revkv::DB>> OpenDataDir(const Invocation& inv,
                                                       Access access);

// "no data directory: ..." -- in client mode also naming the commands that
// reach a server.
absl::Status NoDataDir(const Invocation& inv);

absl::Status PutCommand(Invocation& inv);
absl::Status GetCommand(Invocation& inv);
absl::Status DelCommand(Invocation& inv);
absl::Status TxnCommand(Invocation& inv);
absl::Status CompactionCommand(Invocation& inv);
absl::Status HashKVCommand(Invocation& inv);
absl::Status EndpointStatusCommand(Invocation& inv);
// etcdctl's endpoint health for the data directory: a read of key "health"
// and a durable commit that changes no key (health_command.cc).
absl::Status EndpointHealthCommand(Invocation& inv);
absl::Status DefragCommand(Invocation& inv);
absl::Status SnapshotSaveCommand(Invocation& inv);
absl::Status SnapshotStatusCommand(Invocation& inv);
absl::Status SnapshotRestoreCommand(Invocation& inv);
// The same for etcd's bbolt files (interop_commands.cc): SnapshotStatus- and
// SnapshotRestoreCommand hand them over.
absl::Status EtcdSnapshotStatus(Invocation& inv);
absl::Status EtcdSnapshotRestore(Invocation& inv);
// revkv migrate --from-etcd-data-dir DIR --data-dir NEW: a stopped etcd
// member's data into a new revkv data directory.
absl::Status MigrateCommand(Invocation& inv);
absl::Status CheckCommand(Invocation& inv);
// etcdctl's lease commands, client mode only (remote_lease.cc).
absl::Status LeaseGrantCommand(Invocation& inv);
absl::Status LeaseRevokeCommand(Invocation& inv);
absl::Status LeaseTimeToLiveCommand(Invocation& inv);
absl::Status LeaseListCommand(Invocation& inv);
absl::Status LeaseKeepAliveCommand(Invocation& inv);
// alarm list / disarm and member list: client mode only.
absl::Status AlarmListCommand(Invocation& inv);
absl::Status AlarmDisarmCommand(Invocation& inv);
absl::Status MemberListCommand(Invocation& inv);
// member add / remove / update / promote and move-leader: client mode only
// (remote_member_change.cc).
absl::Status MemberAddCommand(Invocation& inv);
absl::Status MemberRemoveCommand(Invocation& inv);
absl::Status MemberUpdateCommand(Invocation& inv);
absl::Status MemberPromoteCommand(Invocation& inv);
absl::Status MoveLeaderCommand(Invocation& inv);
// watch: client mode only (remote_watch.cc); runs until killed.
absl::Status WatchCommand(Invocation& inv);
// The client mode of endpoint status / health / hashkv, defrag
// (remote_endpoint.cc) and snapshot save (remote_maintenance.cc); their
// commands hand over when --endpoints chose client mode.
absl::Status RemoteEndpointStatus(Invocation& inv);
absl::Status RemoteEndpointHealth(Invocation& inv);
absl::Status RemoteEndpointHashKV(Invocation& inv);
absl::Status RemoteDefrag(Invocation& inv);
absl::Status RemoteSnapshotSave(Invocation& inv);
absl::Status StatsCommand(Invocation& inv);
// The revision history of a key (or of all keys) in the data file.
absl::Status DumpCommand(Invocation& inv);

}  // namespace revkv::cli

#endif  // REVKV_CMD_REVKV_COMMANDS_H_
