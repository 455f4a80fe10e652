// Moving in from etcd: `snapshot restore` and `snapshot status` of an etcd
// (bbolt) file, and `migrate --from-etcd-data-dir`. admin_commands.cc hands
// a file to these when DetectFormat finds bbolt's magic in it.
#include "absl/strings/str_format.h"
#include "cmd/revkv/commands.h"
#include "cmd/revkv/exit_status.h"
#include "interop/etcd/etcd_file.h"
#include "interop/etcd/import.h"

namespace revkv::cli {
namespace {

absl::Status General(const absl::Status& s) {
  if (s.ok() || s.GetPayload(kExitCodeUrl).has_value()) return s;
  return ExitError(kExitError, s.message());
}

// What the import did, on stderr (stdout keeps etcdctl's one line).
void Report(Invocation& inv, const std::string& what, const interop::etcd::ImportReport& r) {
  if (!r.meta_note.empty()) *inv.err << "Warning: " << r.meta_note << "\n";
  *inv.err << absl::StrFormat(
      "%s: %d key records, revision %d, compacted revision %d, consistent index %d, %d leases, "
      "%d alarms%s\n",
      what, r.records, r.revision, r.compact_revision, r.consistent_index, r.leases, r.alarms,
      r.sha256_verified ? "; sha256 verified" : "");
}

}  // namespace

absl::Status EtcdSnapshotRestore(Invocation& inv) {
  if (inv.bump_revision != 0 || inv.mark_compacted) {
    return ExitError(kExitBadArgs,
                     "--bump-revision and --mark-compacted are not supported for etcd snapshots");
  }
  absl::StatusOr<interop::etcd::ImportReport> r =
      interop::etcd::RestoreEtcdSnapshot(inv.args[0], inv.data_dir, inv.skip_hash_check);
  if (!r.ok()) return General(r.status());
  Report(inv, "etcd snapshot " + inv.args[0], *r);
  *inv.out << absl::StrFormat("Restored snapshot %s into %s\n", inv.args[0], inv.data_dir);
  return absl::OkStatus();
}

absl::Status EtcdSnapshotStatus(Invocation& inv) {
  const std::string& path = inv.args[0];
  // The hash is verified when the file carries one; a bare member db has none.
  absl::StatusOr<interop::etcd::EtcdFile> f = interop::etcd::ReadEtcdFile(path, true);
  if (interop::etcd::IsMissingHash(f.status())) f = interop::etcd::ReadEtcdFile(path, false);
  if (!f.ok()) return General(f.status());
  absl::StatusOr<interop::etcd::EtcdStatus> st = interop::etcd::StatusOf(*f->bolt);
  if (!st.ok()) return General(st.status());
  if (!f->bolt->note().empty()) *inv.err << "Warning: " << f->bolt->note() << "\n";
  *inv.err << absl::StrFormat(
      "snapshot %s: etcd bbolt file (%s; page size %d, meta %d, txid %d)\n", path,
      f->sha256_verified ? "sha256 verified" : "no sha256 trailer", f->bolt->page_size(),
      f->bolt->meta_slot(), f->bolt->meta().txid);
  SnapshotStatusView v{st->hash, st->revision, st->total_key, st->total_size};
  absl::StatusOr<std::string> text = PrintSnapshotStatus(inv.format, v);
  if (!text.ok()) return text.status();
  *inv.out << *text;
  return absl::OkStatus();
}

absl::Status MigrateCommand(Invocation& inv) {
  if (inv.from_etcd_data_dir.empty()) {
    return ExitError(kExitBadArgs, "migrate needs --from-etcd-data-dir DIR");
  }
  if (inv.data_dir.empty()) return ExitError(kExitBadArgs, "migrate needs --data-dir NEW");
  absl::StatusOr<interop::etcd::ImportReport> r =
      interop::etcd::MigrateEtcdDataDir(inv.from_etcd_data_dir, inv.data_dir);
  if (!r.ok()) return General(r.status());
  Report(inv, "etcd data dir " + inv.from_etcd_data_dir, *r);
  *inv.out << absl::StrFormat("Migrated etcd data dir %s into %s\n", inv.from_etcd_data_dir,
                              inv.data_dir);
  return absl::OkStatus();
}

}  // namespace revkv::cli
