#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "cmd/revkv/commands.h"
#include "cmd/revkv/exit_status.h"

namespace revkv::cli {

absl::StatusOr<std::unique_ptr<revkv::DB>> OpenDataDir(const Invocation& inv,
                                                       Access access) {
  if (inv.data_dir.empty()) {
    return ExitError(kExitError, "no data directory: pass --data-dir DIR or set REVKV_DATA_DIR");
  }
  revkv::Options options;
  options.read_only = access == Access::kRead;
  options.allow_rollback = inv.allow_rollback;
  options.lock_timeout = absl::ToChronoMilliseconds(inv.command_timeout);
  absl::StatusOr<std::unique_ptr<revkv::DB>> d = revkv::DB::Open(inv.data_dir, options);
  if (!d.ok()) return ExitError(kExitError, d.status().message());
  for (const std::string& note : (*d)->open_notes()) *inv.err << "Warning: " << note << "\n";
  return d;
}

}  // namespace revkv::cli
