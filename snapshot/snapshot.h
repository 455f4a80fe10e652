// Snapshot save / status / restore: revkv's etcdctl `snapshot` commands as a
// C++ API.
//
// A snapshot file is a complete btree database file (a consistent copy of a
// store's backend, taken with Backend::NewSnapshot while writes go on)
// followed by a 48-byte trailer (see trailer.h) holding the XXH3-64 of the
// content, its size, the format version and the revisions. Save writes it to
// "<path>.part", fsyncs, renames it into place and fsyncs the directory, so
// `path` is either absent or a complete snapshot.
//
// Status and Restore also take etcd's form, a btree file followed by the
// SHA-256 of its bytes (what `etcdctl snapshot save` writes from `revkv
// serve`'s stream), and verify that digest instead.
//
// Status and Restore verify the trailer and the content hash before anything
// else, then refuse a trailer whose revision or compact revision is not what
// the content holds (what a store opened on it would have; DataLoss named
// trailer-contradicts-content, see trailer.h); Restore then builds the data directory in a temporary sibling
// directory and renames it into place, so a crash never leaves a
// half-restored store at the target.
//
// Thread-safety: Save may run while other threads use the store; the
// functions are otherwise independent.
#ifndef REVKV_SNAPSHOT_SNAPSHOT_H_
#define REVKV_SNAPSHOT_SNAPSHOT_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_format.h"
#include "mvcc/store.h"
#include "snapshot/trailer.h"

namespace revkv::snapshot {

// Writes a snapshot of `store` (and its backend) to `path`.
absl::Status Save(mvcc::Store* store, const std::string& path);

// etcdctl's snapshot status, for revkv's files.
struct Status {
  uint32_t hash = 0;        // CRC-32C over every bucket name, key and value (etcd's formula)
  int64_t revision = 0;     // main revision of the last record of the key bucket
  int64_t total_key = 0;    // entries in all buckets
  int64_t total_size = 0;   // bytes of the btree content
  Trailer trailer;          // the verified trailer, its revisions the content's
  // The file is in etcd's form (content + SHA-256, as `etcdctl snapshot
  // save` writes it), its SHA-256 verified; `trailer` then holds the
  // content's size and revisions, no xxh3.
  bool sha256 = false;
};
absl::StatusOr<Status> GetStatus(const std::string& path);

// Checks the trailer and the content hash (not its revisions: that needs
// the content read as a store, as GetStatus does). On success *trailer
// holds it.
absl::Status Verify(const std::string& path, Trailer* trailer);

struct RestoreOptions {
  // Accept a file whose content hash does not match, or a bare btree file
  // without a trailer (etcd: a db file copied out of a data dir). A trailer's
  // revisions are still checked against the content.
  bool skip_hash_check = false;
  // etcdutl 3.5: add this to the latest revision (requires mark_compacted).
  // The sum must not pass INT64_MAX (else ErrBumpRevisionOverflow); a sum of
  // exactly INT64_MAX is applied, and leaves a store that refuses writes.
  int64_t bump_revision = 0;
  // Mark the (bumped) latest revision compacted.
  bool mark_compacted = false;
};
// Restore's refusal of a bump_revision that would take the latest revision
// `latest` past INT64_MAX, where later revisions would wrap to negative ones
// (InvalidArgument; a payload under kErrorPayloadUrl names it).
inline absl::Status ErrBumpRevisionOverflow(int64_t latest, int64_t bump) {
  absl::Status s = absl::InvalidArgumentError(absl::StrFormat(
      "--bump-revision %d is too large: the latest revision %d plus it passes the largest "
      "revision %d (at most %d fits)",
      bump, latest, INT64_MAX, INT64_MAX - latest));
  s.SetPayload(kErrorPayloadUrl, absl::Cord("bump-revision-overflow"));
  return s;
}
inline bool IsBumpRevisionOverflow(const absl::Status& s) {
  auto p = s.GetPayload(kErrorPayloadUrl);
  return absl::IsInvalidArgument(s) && p.has_value() && *p == "bump-revision-overflow";
}

// Restores `path` into the new data directory `data_dir`, which must not
// exist or be empty. When it fails, data_dir is left as it was.
absl::Status Restore(const std::string& path, const std::string& data_dir,
                     const RestoreOptions& options = {});

}  // namespace revkv::snapshot

#endif  // REVKV_SNAPSHOT_SNAPSHOT_H_
