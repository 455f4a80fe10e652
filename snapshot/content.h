// Internal to snapshot/: locating, verifying and copying a snapshot file's
// content (the btree file before the trailer).
//
// Thread-safety: pure functions over the file system.
#ifndef REVKV_SNAPSHOT_CONTENT_H_
#define REVKV_SNAPSHOT_CONTENT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "btree/tx.h"
#include "mvcc/open_revisions.h"
#include "snapshot/snapshot.h"
#include "snapshot/trailer.h"

namespace revkv::snapshot {

struct Content {
  uint64_t size = 0;   // content bytes
  bool bare = false;   // no trailer: the whole file is a btree file
  // etcd's form (what `etcdctl snapshot save` writes from a server's
  // stream): the content, then its SHA-256 in 32 bytes; no revkv trailer.
  bool sha256 = false;
  Trailer trailer;
};

// Reads and checks the trailer of `path`, and with check_hash the content's
// XXH3 (or, in etcd's form, its SHA-256). A file without a revkv trailer
// whose size is 32 past a multiple of 512 is in etcd's form (a btree file
// is whole pages); allow_bare accepts any other file without a trailer as
// bare content.
absl::StatusOr<Content> ReadContentInfo(const std::string& path, bool check_hash,
                                        bool allow_bare);
// Copies the first `size` bytes of `path` into the new file `dst`, fsynced.
absl::Status CopyContent(const std::string& path, uint64_t size, const std::string& dst);

// What a btree file holds: etcdctl's status figures (its trailer left
// default), and the revisions a store opened on it would have.
struct DbFileStatus {
  Status status;
  mvcc::OpenRevisions revisions;
};
// Reads a btree file after a full Check.
absl::StatusOr<DbFileStatus> StatusOfDbFile(const std::string& db_path);

// The revisions a store opened on the content of `tx` would have
// (mvcc::DeriveOpenRevisions over the key bucket's last record and the meta
// bucket's compaction revisions); DataLoss when those are malformed, as the
// store would refuse them. O(log n).
absl::StatusOr<mvcc::OpenRevisions> RevisionsOfContent(btree::Tx& tx);
// OK when the trailer's revision and compact revision are the content's;
// else ErrTrailerContradictsContent, its message prefixed with `path`.
absl::Status CheckTrailerAgainstContent(const std::string& path, const Trailer& t,
                                        const mvcc::OpenRevisions& content);
// `s` with "<path>: " before its message, payloads kept.
absl::Status WithPathPrefix(const std::string& path, const absl::Status& s);

}  // namespace revkv::snapshot

#endif  // REVKV_SNAPSHOT_CONTENT_H_
