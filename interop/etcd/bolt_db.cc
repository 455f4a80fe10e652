#include "interop/etcd/bolt_db.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_format.h"
#include "interop/etcd/bolt_error.h"
#include "interop/etcd/bolt_freelist.h"

namespace revkv::interop::etcd {
namespace {

absl::Status ReadError(const std::string& path, int err) {
  return absl::ErrnoToStatus(err, absl::StrFormat("read %s", path));
}

}  // namespace

absl::StatusOr<std::unique_ptr<BoltFile>> BoltFile::Open(const std::string& path,
                                                         std::optional<uint64_t> size) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrFormat("open %s", path));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return ReadError(path, err);
  }
  uint64_t n = uint64_t(st.st_size);
  if (size.has_value()) {
    if (*size > n) {
      ::close(fd);
      return BoltError(kBoltPageOutOfRange, std::nullopt,
                       absl::StrFormat("%s holds %d bytes, %d expected", path, n, *size));
    }
    n = *size;
  }
  std::string bytes(n, '\0');
  uint64_t off = 0;
  while (off < n) {
    const ssize_t r = ::pread(fd, bytes.data() + off, n - off, off_t(off));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      const int err = r < 0 ? errno : EIO;  // shrank while read
      ::close(fd);
      return ReadError(path, err);
    }
    off += uint64_t(r);
  }
  ::close(fd);
  return FromBytes(std::move(bytes));
}

absl::StatusOr<std::unique_ptr<BoltFile>> BoltFile::FromBytes(std::string bytes) {
  auto f = std::unique_ptr<BoltFile>(new BoltFile());
  f->bytes_ = std::move(bytes);
  if (absl::Status s = f->Init(); !s.ok()) return s;
  return f;
}

absl::Status BoltFile::Init() {
  absl::StatusOr<Meta> m = ChooseMeta(bytes_, &meta_slot_, &note_);
  if (!m.ok()) return m.status();
  meta_ = *m;
  return absl::OkStatus();
}

absl::StatusOr<Page> BoltFile::PageAt(uint64_t id) const {
  return Page::At(bytes_, meta_.page_size, meta_.pgid, id);
}

absl::StatusOr<BucketRef> BoltFile::DecodeBucket(std::string_view value, uint64_t page,
                                                 uint64_t high_water) {
  if (value.size() < kBucketHeaderSize) {
    return BoltError(kBoltBadBucket, page,
                     absl::StrFormat("bucket value of %d bytes, shorter than its header",
                                     value.size()));
  }
  BucketRef ref;
  ref.root = Load64(value.data());
  if (ref.root == 0) {
    absl::StatusOr<Page> p = Page::Inline(value.substr(kBucketHeaderSize), page);
    if (!p.ok()) return p.status();
    ref.inline_page = *p;
    return ref;
  }
  if (ref.root < 2 || ref.root >= high_water) {
    return BoltError(kBoltBadBucket, page, absl::StrFormat("bucket root page %d", ref.root));
  }
  return ref;
}

absl::StatusOr<std::optional<BucketRef>> BoltFile::Bucket(const BucketRef& parent,
                                                          std::string_view name) const {
  BucketCursor c = Cursor(parent);
  for (c.First(); c.Valid(); c.Next()) {
    if (c.key() < name) continue;
    if (c.key() > name) break;
    if (!c.is_bucket()) {
      return BoltError(kBoltBadBucket, c.page(),
                       absl::StrFormat("entry %s is not a bucket", std::string(name)));
    }
    absl::StatusOr<BucketRef> b = DecodeBucket(c.value(), c.page(), meta_.pgid);
    if (!b.ok()) return b.status();
    return std::optional<BucketRef>(*b);
  }
  if (!c.status().ok()) return c.status();
  return std::optional<BucketRef>();
}

absl::Status BoltFile::ForEach(
    const BucketRef& bucket,
    const std::function<absl::Status(std::string_view, std::string_view, bool)>& fn) const {
  BucketCursor c = Cursor(bucket);
  for (c.First(); c.Valid(); c.Next()) {
    if (absl::Status s = fn(c.key(), c.value(), c.is_bucket()); !s.ok()) return s;
  }
  return c.status();
}

absl::StatusOr<std::optional<std::vector<uint64_t>>> BoltFile::FreePages() const {
  if (meta_.freelist == kNoFreelist) return std::optional<std::vector<uint64_t>>();
  absl::StatusOr<Page> p = PageAt(meta_.freelist);
  if (!p.ok()) return p.status();
  absl::StatusOr<std::vector<uint64_t>> ids = DecodeFreelist(*p, meta_.pgid);
  if (!ids.ok()) return ids.status();
  return std::optional<std::vector<uint64_t>>(std::move(*ids));
}

absl::Status BoltFile::MarkSpan(uint64_t id, std::vector<bool>* used) const {
  absl::StatusOr<Page> p = PageAt(id);
  if (!p.ok()) return p.status();
  for (uint64_t i = id; i <= id + p->overflow(); ++i) {
    if ((*used)[i]) return BoltError(kBoltPageReused, i, "page used twice");
    (*used)[i] = true;
  }
  return absl::OkStatus();
}

absl::Status BoltFile::MarkBucket(const BucketRef& bucket, std::vector<bool>* used,
                                  int depth) const {
  if (depth > int(BucketCursor::kMaxDepth)) {
    return BoltError(kBoltTooDeep, bucket.root, "buckets nested too deep");
  }
  BucketCursor c = Cursor(bucket);
  std::vector<uint64_t> pages;  // every page of the tree, as the cursor enters it
  c.RecordPages(&pages);
  for (c.First(); c.Valid(); c.Next()) {
    if (c.is_bucket()) {
      absl::StatusOr<BucketRef> child = DecodeBucket(c.value(), c.page(), meta_.pgid);
      if (!child.ok()) return child.status();
      if (absl::Status s = MarkBucket(*child, used, depth + 1); !s.ok()) return s;
    }
  }
  if (!c.status().ok()) return c.status();
  for (uint64_t id : pages) {
    if (absl::Status s = MarkSpan(id, used); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status BoltFile::Check() const {
  std::vector<bool> used(meta_.pgid, false);
  used[0] = used[1] = true;
  if (absl::Status s = MarkBucket(Root(), &used, 0); !s.ok()) return s;
  absl::StatusOr<std::optional<std::vector<uint64_t>>> free = FreePages();
  if (!free.ok()) return free.status();
  if (!free->has_value()) return absl::OkStatus();  // unsynced: the rest is free
  if (absl::Status s = MarkSpan(meta_.freelist, &used); !s.ok()) return s;
  for (uint64_t id : **free) {
    if (used[id]) return BoltError(kBoltFreeInUse, id, "page is free and in use");
    used[id] = true;
  }
  for (uint64_t id = 2; id < meta_.pgid; ++id) {
    if (!used[id]) return BoltError(kBoltFreeInUse, id, "page is neither reachable nor free");
  }
  return absl::OkStatus();
}

}  // namespace revkv::interop::etcd
