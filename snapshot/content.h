// Internal to snapshot/: locating, verifying and copying a snapshot file's
// content (the btree file before the trailer).
//
// Thread-safety: pure functions over the file system.
#ifndef REVKV_SNAPSHOT_CONTENT_H_
#define REVKV_SNAPSHOT_CONTENT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "snapshot/snapshot.h"
#include "snapshot/trailer.h"

namespace revkv::snapshot {

struct Content {
  uint64_t size = 0;   // content bytes
  bool bare = false;   // no trailer: the whole file is a btree file
  Trailer trailer;
};

// Reads and checks the trailer of `path`, and with check_hash the content's
// XXH3. allow_bare accepts a file without a trailer as bare content.
absl::StatusOr<Content> ReadContentInfo(const std::string& path, bool check_hash,
                                        bool allow_bare);
// Copies the first `size` bytes of `path` into the new file `dst`, fsynced.
absl::Status CopyContent(const std::string& path, uint64_t size, const std::string& dst);
// Status figures of a btree file (after a full Check).
absl::StatusOr<Status> StatusOfDbFile(const std::string& db_path);

}  // namespace revkv::snapshot

#endif  // REVKV_SNAPSHOT_CONTENT_H_
