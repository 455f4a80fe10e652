// snapshot::Verify and snapshot::GetStatus: check the trailer and content
// hash, then read the content as a btree file (etcdctl's snapshot status) and
// check the trailer's revisions against it.
#include <fcntl.h>
#include <unistd.h>
#include <xxhash.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

#include "absl/strings/str_format.h"
#include "btree/db.h"
#include "util/crc32c.h"
#include "util/sha256.h"
#include "mvcc/key_order_base.h"
#include "mvcc/revision.h"
#include "snapshot/content.h"
#include "snapshot/file_util.h"
#include "snapshot/snapshot.h"

namespace revkv::snapshot {
namespace {

absl::Status ReadAt(int fd, const std::string& path, uint64_t off, size_t n, char* buf) {
  while (n > 0) {
    ssize_t r = ::pread(fd, buf, n, off_t(off));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return PathError("read", path, errno);
    if (r == 0) return absl::DataLossError(absl::StrFormat("read %s: unexpected EOF", path));
    buf += r;
    n -= size_t(r);
    off += uint64_t(r);
  }
  return absl::OkStatus();
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

absl::StatusOr<Content> ReadContentInfo(const std::string& path, bool check_hash,
                                        bool allow_bare) {
  absl::StatusOr<uint64_t> size = StatSize(path);
  if (!size.ok()) return size.status();
  Fd f;
  f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (f.fd < 0) return PathError("open", path, errno);
  Content c;
  std::string tail(kTrailerSize, '\0');
  bool has_magic = false;
  if (*size >= kTrailerSize) {
    if (absl::Status s = ReadAt(f.fd, path, *size - kTrailerSize, kTrailerSize, tail.data());
        !s.ok()) {
      return s;
    }
    has_magic = HasMagic(tail);
  }
  if (!has_magic && *size >= util::kSha256Size && *size % 512 == util::kSha256Size) {
    c.sha256 = true;
    c.size = *size - util::kSha256Size;
    if (!check_hash) return c;
    util::Sha256 sha;
    std::vector<char> buf(1 << 20);
    for (uint64_t off = 0; off < c.size;) {
      size_t n = size_t(std::min<uint64_t>(buf.size(), c.size - off));
      if (absl::Status s = ReadAt(f.fd, path, off, n, buf.data()); !s.ok()) return s;
      sha.Update(std::string_view(buf.data(), n));
      off += n;
    }
    std::string want(util::kSha256Size, '\0');
    if (absl::Status s = ReadAt(f.fd, path, c.size, want.size(), want.data()); !s.ok()) return s;
    if (sha.Final() != want) {
      return absl::DataLossError(absl::StrFormat(
          "%s: snapshot sha256 mismatch: the last 32 bytes are not the SHA-256 of the %d "
          "before them (the file is corrupt)",
          path, c.size));
    }
    return c;
  }
  if (!has_magic) {
    if (allow_bare) {
      c.size = *size;
      c.bare = true;
      return c;
    }
    return absl::DataLossError(absl::StrFormat(
        "%s: not a revkv snapshot, or truncated: no snapshot trailer at the end of the file",
        path));
  }
  if (absl::Status s = DecodeTrailer(tail, &c.trailer); !s.ok()) return WithPathPrefix(path, s);
  if (c.trailer.content_size + kTrailerSize != *size) {
    return absl::DataLossError(absl::StrFormat(
        "%s: snapshot is truncated or extended: the trailer records %d content bytes, the "
        "file holds %d",
        path, c.trailer.content_size, *size - kTrailerSize));
  }
  c.size = c.trailer.content_size;
  if (!check_hash) return c;
  XXH3_state_t* st = XXH3_createState();
  XXH3_64bits_reset(st);
  std::vector<char> buf(1 << 20);
  absl::Status s;
  for (uint64_t off = 0; off < c.size && s.ok();) {
    size_t n = size_t(std::min<uint64_t>(buf.size(), c.size - off));
    s = ReadAt(f.fd, path, off, n, buf.data());
    XXH3_64bits_update(st, buf.data(), n);
    off += n;
  }
  uint64_t h = XXH3_64bits_digest(st);
  XXH3_freeState(st);
  if (!s.ok()) return s;
  if (h != c.trailer.content_xxh3) {
    return absl::DataLossError(absl::StrFormat(
        "%s: snapshot hash mismatch: the trailer records xxh3 %016x, the content hashes to "
        "%016x (the file is corrupt)",
        path, c.trailer.content_xxh3, h));
  }
  return c;
}

absl::Status CopyContent(const std::string& path, uint64_t size, const std::string& dst) {
  Fd in, out;
  in.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (in.fd < 0) return PathError("open", path, errno);
  out.fd = ::open(dst.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (out.fd < 0) return PathError("open", dst, errno);
  std::vector<char> buf(1 << 20);
  for (uint64_t off = 0; off < size;) {
    size_t n = size_t(std::min<uint64_t>(buf.size(), size - off));
    if (absl::Status s = ReadAt(in.fd, path, off, n, buf.data()); !s.ok()) return s;
    for (size_t done = 0; done < n;) {
      ssize_t w = ::write(out.fd, buf.data() + done, n - done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return PathError("write", dst, errno);
      done += size_t(w);
    }
    off += n;
  }
  if (::fsync(out.fd) != 0) return PathError("sync", dst, errno);
  return absl::OkStatus();
}

absl::Status Verify(const std::string& path, Trailer* trailer) {
  absl::StatusOr<Content> c = ReadContentInfo(path, /*check_hash=*/true, /*allow_bare=*/false);
  if (!c.ok()) return c.status();
  if (trailer != nullptr) *trailer = c->trailer;
  return absl::OkStatus();
}

absl::StatusOr<DbFileStatus> StatusOfDbFile(const std::string& db_path) {
  btree::Options opts;
  opts.read_only = true;
  opts.create_if_missing = false;
  absl::StatusOr<std::unique_ptr<btree::DB>> db = btree::DB::Open(db_path, opts);
  if (!db.ok()) return db.status();
  std::vector<std::string> problems;
  if (absl::Status s = (*db)->Check(&problems); !s.ok()) return s;
  Status st;
  mvcc::OpenRevisions revisions;
  uint32_t crc = 0;
  absl::Status s = (*db)->View([&](btree::Tx& tx) -> absl::Status {
    absl::StatusOr<mvcc::OpenRevisions> r = RevisionsOfContent(tx);
    if (!r.ok()) return r.status();
    revisions = *r;
    st.total_size = int64_t(tx.Size());
    absl::StatusOr<std::vector<std::string>> names = tx.ListBuckets();
    if (!names.ok()) return names.status();
    for (const std::string& name : *names) {
      // The key-ordered base is derived data, not the store's: counted, it
      // would double the keys etcdctl's status reports.
      if (mvcc::IsBaseBucket(name)) continue;
      absl::StatusOr<btree::Bucket*> b = tx.GetBucket(name);
      if (!b.ok()) return b.status();
      crc = util::Crc32cExtend(crc, name);
      const bool is_key = name == "key";
      btree::Cursor c = (*b)->NewCursor();
      for (c.First(); c.Valid(); c.Next()) {
        crc = util::Crc32cExtend(crc, c.key());
        crc = util::Crc32cExtend(crc, c.value());
        if (is_key) {
          mvcc::Revision rev;
          bool tomb;
          if (mvcc::ParseRevisionKey(c.key(), &rev, &tomb)) st.revision = rev.main;
        }
        st.total_key++;
      }
      if (!c.status().ok()) return c.status();
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  st.hash = crc;
  return DbFileStatus{st, revisions};
}

absl::StatusOr<Status> GetStatus(const std::string& path) {
  absl::StatusOr<Content> c = ReadContentInfo(path, /*check_hash=*/true, /*allow_bare=*/false);
  if (!c.ok()) return c.status();
  const char* tmpdir = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmpdir != nullptr && *tmpdir ? tmpdir : "/tmp") +
                     "/revkv-snapshot-status-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) return PathError("mkdtemp", tmpl, errno);
  const std::string db = tmpl + "/db";
  absl::Status copied = CopyContent(path, c->size, db);
  absl::StatusOr<DbFileStatus> st =
      copied.ok() ? StatusOfDbFile(db) : absl::StatusOr<DbFileStatus>(copied);
  RemoveAll(tmpl);
  if (!st.ok()) return st.status();
  if (c->sha256) {
    // No revkv trailer: report what the content holds.
    st->status.sha256 = true;
    st->status.trailer.content_size = c->size;
    st->status.trailer.content_xxh3 = 0;
    st->status.trailer.revision = st->revisions.current;
    st->status.trailer.compact_revision = st->revisions.compacted;
    return st->status;
  }
  // The trailer's revisions are reported only once the content bears them out.
  if (absl::Status s = CheckTrailerAgainstContent(path, c->trailer, st->revisions); !s.ok()) {
    return s;
  }
  st->status.trailer = c->trailer;
  return st->status;
}

}  // namespace revkv::snapshot
