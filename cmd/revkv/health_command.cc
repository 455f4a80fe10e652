// endpoint health: etcdctl's health check, for the data directory.
//
// etcd's check is a linearizable get of key "health" (it goes through raft:
// "successfully committed proposal"). revkv's does, on an existing store:
//   1. a read: a range of key "health" at the current revision through the
//      mvcc store (reads the index and, if the key exists, the key bucket);
//   2. a write that commits: a delete of the meta bucket key
//      "revkv-endpoint-health" (never present) handed to the backend, then
//      ForceCommit: a btree write transaction that seeks the key through
//      the meta bucket's pages, writes the freelist and the meta page and
//      fsyncs -- so the file is readable, writable and synced.
// Neither changes a key, the revision or any bucket's content (hashkv,
// snapshot status and get answer as before); only the btree's transaction
// id moves on (visible in `revkv stats`), as after any commit. A missing
// data file is unhealthy: the check never creates a store.
//
// "took" times the read and the commit (after the open, as etcdctl times
// the request after connecting).
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "backend/backend.h"
#include "cmd/revkv/commands.h"
#include "cmd/revkv/exit_status.h"
#include "cmd/revkv/printer.h"
#include "mvcc/store.h"
#include "snapshot/file_util.h"

namespace revkv::cli {
namespace {

constexpr char kHealthKey[] = "health";                       // etcd's key
constexpr char kCommitProbeKey[] = "revkv-endpoint-health";   // never stored

// The read and the durable commit on an open directory.
absl::Status Probe(revkv::DB* dir) {
  absl::StatusOr<mvcc::RangeResult> r = dir->store()->Range(kHealthKey, "");
  if (!r.ok()) return r.status();
  backend::Backend* b = dir->backend();
  backend::BatchTx& tx = b->batch_tx();
  tx.Lock();
  absl::Status s = tx.UnsafeDelete(mvcc::kMetaBucket, kCommitProbeKey);
  tx.Unlock();
  if (!s.ok()) return s;
  return b->ForceCommit();
}

// Checks inv's data directory; the result says why it is unhealthy.
EndpointHealth Check(const Invocation& inv) {
  EndpointHealth h;
  h.endpoint = inv.data_dir;
  if (absl::StatusOr<uint64_t> size = snapshot::StatSize(revkv::DataFilePath(inv.data_dir));
      !size.ok()) {
    h.error = std::string(size.status().message());
    return h;
  }
  auto dir = OpenDataDir(inv, Access::kWrite);
  if (!dir.ok()) {
    h.error = std::string(dir.status().message());
    return h;
  }
  const absl::Time start = absl::Now();
  absl::Status s = Probe(dir->get());
  h.took = FormatGoDuration(absl::Now() - start);
  absl::Status closed = (*dir)->Close();
  if (s.ok()) s = closed;
  h.health = s.ok();
  if (!s.ok()) h.error = std::string(s.message());
  return h;
}

}  // namespace

absl::Status EndpointHealthCommand(Invocation& inv) {
  if (inv.remote_mode()) return RemoteEndpointHealth(inv);
  if (inv.data_dir.empty()) {
    return NoDataDir(inv);
  }
  if (inv.format == Format::kProtobuf) {
    return ExitError(kExitBadFeature, "protobuf not supported as output format");
  }
  const EndpointHealth h = Check(inv);
  absl::StatusOr<HealthText> text = PrintEndpointHealth(inv.format, {h});
  if (!text.ok()) return text.status();
  *inv.out << text->out;
  inv.out->flush();
  *inv.err << text->err;
  if (!h.health) return ExitError(kExitError, "unhealthy cluster");
  return absl::OkStatus();
}

}  // namespace revkv::cli
