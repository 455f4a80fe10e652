#include "absl/strings/str_format.h"
#include "cmd/revkv/commands.h"
#include "cmd/revkv/exit_status.h"

namespace revkv::cli {

absl::StatusOr<std::unique_ptr<snapshot::DataDir>> OpenDataDir(const Invocation& inv) {
  if (inv.data_dir.empty()) {
    return ExitError(kExitError, "no data directory: pass --data-dir DIR or set REVKV_DATA_DIR");
  }
  absl::StatusOr<std::unique_ptr<snapshot::DataDir>> d =
      snapshot::DataDir::Open(inv.data_dir, {.allow_rollback = inv.allow_rollback});
  if (!d.ok()) return ExitError(kExitError, d.status().message());
  for (const std::string& note : (*d)->OpenNotes()) *inv.err << "Warning: " << note << "\n";
  return d;
}

}  // namespace revkv::cli
