// endpoint hashkv / status, defrag, snapshot save / status / restore, and
// revkv's own check and stats.
#include "absl/strings/str_format.h"
#include "btree/db.h"
#include "etcdkv/apply.h"
#include "cmd/revkv/commands.h"
#include "cmd/revkv/encoding.h"
#include "cmd/revkv/exit_status.h"
#include "interop/etcd/etcd_file.h"
#include "interop/etcd/export.h"
#include "mvcc/store.h"
#include "revkv/db.h"
#include "snapshot/file_util.h"
#include "snapshot/snapshot.h"
#include "version.h"

namespace revkv::cli {
namespace {

absl::Status General(const absl::Status& s) {
  if (s.ok() || s.GetPayload(kExitCodeUrl).has_value()) return s;
  return ExitError(kExitError, s.message());
}

absl::Status Emit(Invocation& inv, revkv::DB* dir,
                  const absl::StatusOr<std::string>& text) {
  absl::Status closed = dir != nullptr ? dir->Close() : absl::OkStatus();
  if (!closed.ok()) return General(closed);
  if (!text.ok()) return text.status();
  *inv.out << *text;
  return absl::OkStatus();
}

// A read-only btree handle on the data file (check and stats never write).
absl::StatusOr<std::unique_ptr<btree::DB>> OpenFile(const Invocation& inv) {
  if (inv.data_dir.empty()) {
    return NoDataDir(inv);
  }
  const std::string path = revkv::DataFilePath(inv.data_dir);
  if (absl::StatusOr<uint64_t> size = snapshot::StatSize(path); !size.ok()) {
    return General(size.status());
  }
  btree::Options opts;
  opts.read_only = true;
  opts.create_if_missing = false;
  opts.allow_rollback = inv.allow_rollback;
  absl::StatusOr<std::unique_ptr<btree::DB>> db = btree::DB::Open(path, opts);
  if (!db.ok()) return General(db.status());
  if (!(*db)->open_note().empty()) *inv.err << "Warning: " << (*db)->open_note() << "\n";
  return db;
}

}  // namespace

absl::Status HashKVCommand(Invocation& inv) {
  if (inv.remote_mode()) return RemoteEndpointHashKV(inv);
  auto dir = OpenDataDir(inv, Access::kRead);
  if (!dir.ok()) return dir.status();
  absl::StatusOr<mvcc::HashResult> h = (*dir)->store()->HashByRev(inv.hash_rev);
  if (!h.ok()) {
    absl::Status e = ServerError(h.status());
    absl::Status closed = (*dir)->Close();
    if (inv.format == Format::kJson) *inv.out << "[]\n";
    *inv.err << absl::StrFormat("Failed to get the hash of endpoint %s (%s)\n", inv.data_dir,
                                e.message());
    return closed.ok() ? e : General(closed);
  }
  return Emit(inv, dir->get(), PrintHashKV(inv.format, inv.data_dir, *h));
}

absl::Status EndpointStatusCommand(Invocation& inv) {
  if (inv.remote_mode()) return RemoteEndpointStatus(inv);
  auto dir = OpenDataDir(inv, Access::kRead);
  if (!dir.ok()) return dir.status();
  backend::Backend* b = (*dir)->backend();
  EndpointStatus st;
  st.endpoint = inv.data_dir;
  st.revision = (*dir)->store()->Rev();
  st.version = kVersion;
  absl::StatusOr<backend::DbSizes> sizes = b->Sizes();
  if (!sizes.ok()) return General(sizes.status());
  st.db_size = int64_t(sizes->size);
  st.db_size_in_use = int64_t(sizes->in_use);
  return Emit(inv, dir->get(), PrintEndpointStatus(inv.format, st));
}

absl::Status DefragCommand(Invocation& inv) {
  if (inv.remote_mode()) return RemoteDefrag(inv);
  auto dir = OpenDataDir(inv, Access::kWrite);
  if (!dir.ok()) return dir.status();
  if (absl::Status s = (*dir)->backend()->Defrag(); !s.ok()) {
    (*dir)->Close().IgnoreError();
    return ExitError(kExitError, absl::StrFormat("Failed to defragment etcd member[%s] (%s)",
                                                 inv.data_dir, s.message()));
  }
  return Emit(inv, dir->get(),
              absl::StrFormat("Finished defragmenting etcd member[%s]\n", inv.data_dir));
}

absl::Status SnapshotSaveCommand(Invocation& inv) {
  if (inv.args.size() != 1) {
    return ExitError(kExitBadArgs, "snapshot save expects one argument");
  }
  if (inv.snapshot_format != "revkv" && inv.snapshot_format != "etcd") {
    return ExitError(kExitBadArgs, absl::StrFormat("unknown snapshot format \"%s\" (revkv or etcd)",
                                                   inv.snapshot_format));
  }
  // A server sends its own file (etcd's form): --format does not apply.
  if (inv.remote_mode()) return RemoteSnapshotSave(inv);
  auto dir = OpenDataDir(inv, Access::kRead);
  if (!dir.ok()) return dir.status();
  absl::Status saved = inv.snapshot_format == "etcd"
                           ? interop::etcd::SaveEtcdSnapshot((*dir)->store(), inv.args[0])
                           : snapshot::Save((*dir)->store(), inv.args[0]);
  if (absl::Status s = saved; !s.ok()) {
    (*dir)->Close().IgnoreError();
    return General(s);
  }
  return Emit(inv, dir->get(), absl::StrFormat("Snapshot saved at %s\n", inv.args[0]));
}

absl::Status SnapshotStatusCommand(Invocation& inv) {
  if (inv.args.size() != 1) {
    return ExitError(kExitBadArgs, "snapshot status requires exactly one argument");
  }
  // An etcd (bbolt) file goes to the importer's reader; anything else,
  // unreadable files included, gets revkv's own errors below.
  absl::StatusOr<interop::etcd::FileFormat> format = interop::etcd::DetectFormat(inv.args[0]);
  if (format.ok() && *format == interop::etcd::FileFormat::kBolt) return EtcdSnapshotStatus(inv);
  absl::StatusOr<snapshot::Status> st = snapshot::GetStatus(inv.args[0]);
  if (!st.ok()) return General(st.status());
  if (st->sha256) {
    *inv.err << absl::StrFormat(
        "snapshot %s: sha256 verified (etcd's form, %d bytes, revision %d)\n", inv.args[0],
        st->trailer.content_size, st->trailer.revision);
  } else {
    *inv.err << absl::StrFormat(
      "snapshot %s: trailer verified (format %d, xxh3 %016x over %d bytes, saved at revision %d)\n",
      inv.args[0], st->trailer.format_version, st->trailer.content_xxh3,
      st->trailer.content_size, st->trailer.revision);
  }
  SnapshotStatusView v{st->hash, st->revision, st->total_key, st->total_size};
  return Emit(inv, nullptr, PrintSnapshotStatus(inv.format, v));
}

absl::Status SnapshotRestoreCommand(Invocation& inv) {
  if (inv.args.size() != 1) {
    return ExitError(kExitBadArgs, "snapshot restore requires exactly one argument");
  }
  if (inv.data_dir.empty()) return ExitError(kExitBadArgs, "snapshot restore needs --data-dir");
  absl::StatusOr<interop::etcd::FileFormat> format = interop::etcd::DetectFormat(inv.args[0]);
  if (format.ok() && *format == interop::etcd::FileFormat::kBolt) return EtcdSnapshotRestore(inv);
  snapshot::RestoreOptions opts;
  opts.skip_hash_check = inv.skip_hash_check;
  opts.bump_revision = inv.bump_revision;
  opts.mark_compacted = inv.mark_compacted;
  if (absl::Status s = snapshot::Restore(inv.args[0], inv.data_dir, opts); !s.ok()) {
    if (absl::IsInvalidArgument(s)) return ExitError(kExitBadArgs, s.message());
    return General(s);
  }
  *inv.out << absl::StrFormat("Restored snapshot %s into %s\n", inv.args[0], inv.data_dir);
  return absl::OkStatus();
}

absl::Status StatsCommand(Invocation& inv) {
  absl::StatusOr<std::unique_ptr<btree::DB>> db = OpenFile(inv);
  if (!db.ok()) return db.status();
  absl::StatusOr<btree::DBStats> st = (*db)->Stats();
  if (!st.ok()) return General(st.status());
  const btree::DBStats& s = *st;
  std::string out;
  if (inv.format == Format::kJson) {
    out = absl::StrFormat(
        "{\"page_size\":%d,\"txid\":%d,\"file_bytes\":%d,\"high_water_pages\":%d,"
        "\"branch_pages\":%d,\"leaf_pages\":%d,\"overflow_pages\":%d,\"free_pages\":%d,"
        "\"pending_pages\":%d,\"freelist_pages\":%d,\"meta_pages\":%d,\"bytes_in_use\":%d,"
        "\"max_depth\":%d,\"buckets\":{",
        s.page_size, s.txid, s.file_bytes, s.high_water_pages, s.branch_pages, s.leaf_pages,
        s.overflow_pages, s.free_pages, s.pending_pages, s.freelist_pages, s.meta_pages,
        s.bytes_in_use, s.max_depth);
    bool first = true;
    for (const auto& [name, b] : s.buckets) {
      out += absl::StrFormat(
          "%s%s:{\"key_count\":%d,\"branch_pages\":%d,\"leaf_pages\":%d,\"overflow_pages\":%d,"
          "\"depth\":%d,\"bytes_in_use\":%d}",
          first ? "" : ",", JsonString(name), b.key_count, b.branch_pages, b.leaf_pages,
          b.overflow_pages, b.depth, b.bytes_in_use);
      first = false;
    }
    out += "}}\n";
  } else {
    out = absl::StrFormat(
        "page size: %d\ntxid: %d\nfile bytes: %d\npages below high water: %d\n"
        "branch pages: %d\nleaf pages: %d\noverflow pages: %d\nfree pages: %d\n"
        "pending pages: %d\nfreelist pages: %d\nmeta pages: %d\nbytes in use: %d\n"
        "max depth: %d\n",
        s.page_size, s.txid, s.file_bytes, s.high_water_pages, s.branch_pages, s.leaf_pages,
        s.overflow_pages, s.free_pages, s.pending_pages, s.freelist_pages, s.meta_pages,
        s.bytes_in_use, s.max_depth);
    for (const auto& [name, b] : s.buckets) {
      out += absl::StrFormat(
          "bucket %s: keys %d, branch pages %d, leaf pages %d, overflow pages %d, depth %d, "
          "bytes %d\n",
          name, b.key_count, b.branch_pages, b.leaf_pages, b.overflow_pages, b.depth,
          b.bytes_in_use);
    }
  }
  *inv.out << out;
  return absl::OkStatus();
}

}  // namespace revkv::cli
