// snapshot::Save: stream a backend snapshot to "<path>.part" with its trailer,
// fsync, rename into place, fsync the directory.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ostream>

#include "snapshot/content.h"
#include "snapshot/file_util.h"
#include "snapshot/hashing_file.h"
#include "snapshot/snapshot.h"

namespace revkv::snapshot {

absl::Status Save(mvcc::Store* store, const std::string& path) {
  absl::StatusOr<std::unique_ptr<backend::Snapshot>> snap = store->backend()->NewSnapshot();
  if (!snap.ok()) return snap.status();
  // The trailer records the revisions the snapshot itself holds, which
  // status and restore check it against. The store's, read before or after
  // taking it, may already be ahead: writes and compactions go on meanwhile.
  absl::StatusOr<mvcc::OpenRevisions> revs = RevisionsOfContent(*(*snap)->tx());
  if (!revs.ok()) return revs.status();

  const std::string part = path + ".part";
  int fd = ::open(part.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return PathError("open", part, errno);
  auto fail = [&](absl::Status s) {
    ::close(fd);
    ::unlink(part.c_str());
    return s;
  };
  HashingFileBuf buf(fd, part);
  {
    std::ostream out(&buf);
    if (absl::Status s = (*snap)->WriteTo(out); !s.ok()) return fail(s);
    out.flush();
  }
  if (absl::Status s = buf.Flush(); !s.ok()) return fail(s);
  (*snap)->Close().IgnoreError();

  Trailer t;
  t.content_size = buf.bytes();
  t.content_xxh3 = buf.hash();
  t.revision = revs->current;
  t.compact_revision = revs->compacted;
  const std::string trailer = EncodeTrailer(t);
  if (::write(fd, trailer.data(), trailer.size()) != ssize_t(trailer.size())) {
    return fail(PathError("write", part, errno));
  }
  if (::fsync(fd) != 0) return fail(PathError("sync", part, errno));
  if (::close(fd) != 0) {
    ::unlink(part.c_str());
    return PathError("close", part, errno);
  }
  if (::rename(part.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(part.c_str());
    return PathError("rename", part, err);
  }
  return SyncDir(Dirname(path));
}

}  // namespace revkv::snapshot
