#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "cmd/revkv/commands.h"
#include "cmd/revkv/exit_status.h"
#include "server/wal.h"

namespace revkv::cli {

absl::Status NoDataDir(const Invocation& inv) {
  if (inv.remote_mode()) {
    return ExitError(kExitError,
                     "no data directory: pass --data-dir DIR or set REVKV_DATA_DIR (this command "
                     "reads the data file itself; with --endpoints, the KV, lease, watch, "
                     "endpoint, member, alarm, defrag and snapshot save commands reach a "
                     "server)");
  }
  return ExitError(kExitError, "no data directory: pass --data-dir DIR or set REVKV_DATA_DIR");
}

absl::StatusOr<std::unique_ptr<revkv::DB>> OpenDataDir(const Invocation& inv,
                                                       Access access) {
  if (inv.data_dir.empty()) {
    if (inv.remote_mode()) {
      return ExitError(kExitError,
                       "no data directory: pass --data-dir DIR or set REVKV_DATA_DIR "
                       "(with --endpoints, only put, get, del, txn, compaction, endpoint hashkv and lease reach a server)");
    }
    return ExitError(kExitError, "no data directory: pass --data-dir DIR or set REVKV_DATA_DIR");
  }
  revkv::Options options;
  options.read_only = access == Access::kRead;
  options.allow_rollback = inv.allow_rollback;
  options.lock_timeout = absl::ToChronoMilliseconds(inv.command_timeout);
  absl::StatusOr<std::unique_ptr<revkv::DB>> d = revkv::DB::Open(inv.data_dir, options);
  if (!d.ok()) return ExitError(kExitError, d.status().message());
  // A server that crashed leaves acknowledged writes in its log that the
  // data file lacks until `revkv serve` replays them: reading would miss
  // them, and writing would give their revisions to other writes.
  const std::string wal_dir = inv.data_dir + "/member/wal";
  absl::StatusOr<uint64_t> pending =
      server::Wal::CountUnapplied(wal_dir, uint64_t((*d)->store()->ConsistentIndex()));
  if (!pending.ok()) {
    return ExitError(kExitError, absl::StrCat(wal_dir, ": ", pending.status().message()));
  }
  if (*pending > 0) {
    return ExitError(kExitError,
                     absl::StrCat(wal_dir, " holds ", *pending,
                                  " acknowledged writes the data file lacks (revkv serve stopped "
                                  "without closing it); run `revkv serve` on this data directory "
                                  "once to replay them"));
  }
  for (const std::string& note : (*d)->open_notes()) *inv.err << "Warning: " << note << "\n";
  return d;
}

}  // namespace revkv::cli
