#include "interop/etcd/export.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_format.h"
#include "btree/bucket.h"
#include "btree/cursor.h"
#include "btree/tx.h"
#include "interop/etcd/bolt_writer.h"
#include "interop/etcd/etcd_file.h"
#include "interop/etcd/sha256.h"
#include "snapshot/file_util.h"

namespace revkv::interop::etcd {
namespace {

// Copies bucket `name` of the snapshot (absent: an empty one if `always`)
// through `keep`, which filters keys.
absl::Status CopyBucket(btree::Tx& tx, BoltWriter& w, const char* name, bool always,
                        bool (*keep)(std::string_view)) {
  absl::StatusOr<btree::Bucket*> b = tx.GetBucket(name);
  if (absl::IsNotFound(b.status())) {
    if (!always) return absl::OkStatus();
    if (absl::Status s = w.BeginBucket(name); !s.ok()) return s;
    return w.EndBucket();
  }
  if (!b.ok()) return b.status();
  if (absl::Status s = w.BeginBucket(name); !s.ok()) return s;
  btree::Cursor c = (*b)->NewCursor();
  for (c.First(); c.Valid(); c.Next()) {
    if (keep != nullptr && !keep(c.key())) continue;
    if (absl::Status s = w.Add(c.key(), c.value()); !s.ok()) return s;
  }
  if (!c.status().ok()) return c.status();
  return w.EndBucket();
}

bool EtcdMetaKey(std::string_view k) {
  return k == mvcc::kConsistentIndexKey || k == mvcc::kScheduledCompactKey ||
         k == mvcc::kFinishedCompactKey;
}

// Appends the SHA-256 of the file's bytes, as etcd's snapshot stream ends.
absl::Status AppendSha256(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return snapshot::PathError("open", path, errno);
  Sha256 h;
  std::string buf(1 << 20, '\0');
  uint64_t off = 0;
  absl::Status s;
  while (true) {
    const ssize_t r = ::pread(fd, buf.data(), buf.size(), off_t(off));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      s = snapshot::PathError("read", path, errno);
      break;
    }
    if (r == 0) break;
    h.Update(std::string_view(buf.data(), size_t(r)));
    off += uint64_t(r);
  }
  if (s.ok()) {
    const std::array<uint8_t, 32> d = h.Final();
    if (::pwrite(fd, d.data(), d.size(), off_t(off)) != ssize_t(d.size())) {
      s = snapshot::PathError("write", path, errno);
    } else if (::fsync(fd) != 0) {
      s = snapshot::PathError("sync", path, errno);
    }
  }
  ::close(fd);
  return s;
}

}  // namespace

absl::Status SaveEtcdSnapshot(mvcc::Store* store, const std::string& path) {
  absl::StatusOr<std::unique_ptr<backend::Snapshot>> snap = store->backend()->NewSnapshot();
  if (!snap.ok()) return snap.status();
  btree::Tx& tx = *(*snap)->tx();
  const std::string part = path + ".part";
  ::unlink(part.c_str());
  absl::StatusOr<std::unique_ptr<BoltWriter>> w = BoltWriter::Create(part);
  if (!w.ok()) return w.status();
  absl::Status s = CopyBucket(tx, **w, "alarm", false, nullptr);
  if (s.ok()) s = CopyBucket(tx, **w, mvcc::kKeyBucket, true, nullptr);
  if (s.ok()) s = CopyBucket(tx, **w, "lease", false, nullptr);
  if (s.ok()) s = CopyBucket(tx, **w, mvcc::kMetaBucket, true, EtcdMetaKey);
  // A txid above the two metas bbolt keeps (any will do in a fresh file).
  if (s.ok()) s = (*w)->Finish(2);
  (*snap)->Close().IgnoreError();
  if (s.ok()) s = AppendSha256(part);
  if (s.ok() && ::rename(part.c_str(), path.c_str()) != 0) {
    s = snapshot::PathError("rename", part, errno);
  }
  if (!s.ok()) {
    ::unlink(part.c_str());
    return s;
  }
  return snapshot::SyncDir(snapshot::Dirname(path));
}

}  // namespace revkv::interop::etcd
