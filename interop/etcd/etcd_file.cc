#include "interop/etcd/etcd_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "absl/strings/str_format.h"
#include "interop/etcd/bolt_error.h"
#include "interop/etcd/sha256.h"
#include "mvcc/revision.h"
#include "snapshot/trailer.h"
#include "util/crc32c.h"
#include "util/status_payload.h"

namespace revkv::interop::etcd {
namespace {

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Reads up to n bytes at off (fewer at the end of the file).
absl::StatusOr<std::string> ReadSome(int fd, const std::string& path, uint64_t off, size_t n) {
  std::string buf(n, '\0');
  size_t got = 0;
  while (got < n) {
    const ssize_t r = ::pread(fd, buf.data() + got, n - got, off_t(off + got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return absl::ErrnoToStatus(errno, absl::StrFormat("read %s", path));
    if (r == 0) break;
    got += size_t(r);
  }
  buf.resize(got);
  return buf;
}

bool HasBoltMagicAt(std::string_view head, size_t off) {
  return head.size() >= off + kPageHeaderSize + 4 &&
         Load32(head.data() + off + kPageHeaderSize) == kBoltMagic;
}

absl::StatusOr<std::array<uint8_t, 32>> HashPrefix(int fd, const std::string& path,
                                                   uint64_t size) {
  Sha256 h;
  for (uint64_t off = 0; off < size;) {
    const size_t n = size_t(std::min<uint64_t>(uint64_t{1} << 20, size - off));
    absl::StatusOr<std::string> b = ReadSome(fd, path, off, n);
    if (!b.ok()) return b.status();
    if (b->size() != n) return absl::DataLossError(absl::StrFormat("%s shrank while read", path));
    h.Update(*b);
    off += n;
  }
  return h.Final();
}

using IgnoreFn = std::function<bool(std::string_view bucket, std::string_view key)>;

// The walk of etcd's backend hash and of etcdctl's snapshot status: for
// each top-level bucket (in bbolt's order) not left out whole, on_bucket
// with its name, then on_entry for each of its entries not ignored, in key
// order.
absl::Status WalkBuckets(
    const BoltFile& f, const IgnoreFn& ignores,
    const std::function<void(std::string_view name)>& on_bucket,
    const std::function<void(std::string_view bucket, std::string_view key,
                             std::string_view value, bool is_bucket)>& on_entry) {
  BucketCursor top = f.Cursor(f.Root());
  for (top.First(); top.Valid(); top.Next()) {
    if (!top.is_bucket()) {
      return BoltError(kBoltBadBucket, top.page(), "a top-level entry is not a bucket");
    }
    const std::string_view name = top.key();
    if (ignores && ignores(name, std::string_view())) continue;
    absl::StatusOr<BucketRef> b = BoltFile::DecodeBucket(top.value(), top.page(), f.meta().pgid);
    if (!b.ok()) return b.status();
    on_bucket(name);
    absl::Status s = f.ForEach(*b, [&](std::string_view k, std::string_view v, bool is_bucket) {
      if (!ignores || !ignores(name, k)) on_entry(name, k, v, is_bucket);
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
  }
  return top.status();
}

// etcd's CRC-32C step for one entry: bbolt's ForEach gives etcd a nil value
// for a nested bucket, so its key goes in alone.
uint32_t ExtendEntry(uint32_t crc, std::string_view key, std::string_view value, bool is_bucket) {
  crc = util::Crc32cExtend(crc, key);
  return is_bucket ? crc : util::Crc32cExtend(crc, value);
}

}  // namespace

bool IsMissingHash(const absl::Status& s) {
  return util::IsNamed(s, absl::StatusCode::kFailedPrecondition, kEtcdFileErrorUrl, kMissingHash);
}
bool IsHashMismatch(const absl::Status& s) {
  return util::IsNamed(s, absl::StatusCode::kDataLoss, kEtcdFileErrorUrl, kHashMismatch);
}

absl::StatusOr<FileFormat> DetectFormat(const std::string& path) {
  Fd f;
  f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (f.fd < 0) return absl::ErrnoToStatus(errno, absl::StrFormat("open %s", path));
  struct stat st;
  if (::fstat(f.fd, &st) != 0) return absl::ErrnoToStatus(errno, absl::StrFormat("stat %s", path));
  const uint64_t size = uint64_t(st.st_size);
  if (size >= snapshot::kTrailerSize) {
    absl::StatusOr<std::string> tail =
        ReadSome(f.fd, path, size - snapshot::kTrailerSize, snapshot::kTrailerSize);
    if (!tail.ok()) return tail.status();
    if (tail->size() == snapshot::kTrailerSize && snapshot::HasMagic(*tail)) {
      return FileFormat::kRevkvSnapshot;
    }
  }
  // Meta 0 at the start; meta 1 one page in, whatever the page size.
  absl::StatusOr<std::string> head = ReadSome(f.fd, path, 0, 65536 + kPageHeaderSize + 8);
  if (!head.ok()) return head.status();
  if (HasBoltMagicAt(*head, 0)) return FileFormat::kBolt;
  for (size_t n = 1024; n <= 65536; n *= 2) {
    if (HasBoltMagicAt(*head, n)) return FileFormat::kBolt;
  }
  return FileFormat::kUnknown;
}

absl::StatusOr<EtcdFile> ReadEtcdFile(const std::string& path, bool check_hash) {
  Fd f;
  f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (f.fd < 0) return absl::ErrnoToStatus(errno, absl::StrFormat("open %s", path));
  struct stat st;
  if (::fstat(f.fd, &st) != 0) return absl::ErrnoToStatus(errno, absl::StrFormat("stat %s", path));
  const uint64_t size = uint64_t(st.st_size);
  EtcdFile out;
  out.has_sha256 = size % 512 == kSha256Size;
  out.content_size = out.has_sha256 ? size - kSha256Size : size;
  if (check_hash && !out.has_sha256) {
    return util::WithName(
        absl::FailedPreconditionError(absl::StrFormat(
            "%s: snapshot missing hash but --skip-hash-check=false", path)),
        kEtcdFileErrorUrl, kMissingHash);
  }
  if (check_hash) {
    absl::StatusOr<std::array<uint8_t, 32>> got = HashPrefix(f.fd, path, out.content_size);
    if (!got.ok()) return got.status();
    absl::StatusOr<std::string> want = ReadSome(f.fd, path, out.content_size, kSha256Size);
    if (!want.ok()) return want.status();
    const std::string got_bytes(got->begin(), got->end());
    if (*want != got_bytes) {
      std::array<uint8_t, 32> w{};
      std::copy(want->begin(), want->end(), w.begin());
      return util::WithName(
          absl::DataLossError(absl::StrFormat("%s: expected sha256 %s, got %s", path, Hex(w),
                                              Hex(*got))),
          kEtcdFileErrorUrl, kHashMismatch);
    }
    out.sha256_verified = true;
  }
  absl::StatusOr<std::unique_ptr<BoltFile>> b = BoltFile::Open(path, out.content_size);
  if (!b.ok()) return b.status();
  out.bolt = std::move(*b);
  return out;
}

absl::StatusOr<EtcdStatus> StatusOf(const BoltFile& f) {
  if (absl::Status s = f.Check(); !s.ok()) return s;
  EtcdStatus st;
  st.total_size = int64_t(f.Size());
  uint32_t crc = 0;
  absl::Status s = WalkBuckets(
      f, nullptr, [&](std::string_view name) { crc = util::Crc32cExtend(crc, name); },
      [&](std::string_view bucket, std::string_view k, std::string_view v, bool is_bucket) {
        crc = ExtendEntry(crc, k, v, is_bucket);
        mvcc::Revision rev;
        bool tomb;
        if (bucket == "key" && mvcc::ParseRevisionKey(k, &rev, &tomb)) st.revision = rev.main;
        st.total_key++;
      });
  if (!s.ok()) return s;
  st.hash = crc;
  return st;
}

absl::StatusOr<uint32_t> EtcdBackendHash(const BoltFile& f, const IgnoreFn& ignores) {
  uint32_t crc = 0;
  absl::Status s = WalkBuckets(
      f, ignores, [&](std::string_view name) { crc = util::Crc32cExtend(crc, name); },
      [&](std::string_view, std::string_view k, std::string_view v, bool is_bucket) {
        crc = ExtendEntry(crc, k, v, is_bucket);
      });
  if (!s.ok()) return s;
  return crc;
}

}  // namespace revkv::interop::etcd
