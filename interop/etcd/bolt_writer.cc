#include "interop/etcd/bolt_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_format.h"
#include "interop/etcd/bolt_freelist.h"
#include "interop/etcd/bolt_meta.h"
#include "interop/etcd/bolt_page.h"

namespace revkv::interop::etcd {
namespace {

void Put16(char* p, uint16_t v) { std::memcpy(p, &v, 2); }
void Put32(char* p, uint32_t v) { std::memcpy(p, &v, 4); }
void Put64(char* p, uint64_t v) { std::memcpy(p, &v, 8); }

absl::Status IoError(const char* op, const std::string& path, int err) {
  return absl::ErrnoToStatus(err, absl::StrFormat("%s %s", op, path));
}

}  // namespace

absl::StatusOr<std::unique_ptr<BoltWriter>> BoltWriter::Create(const std::string& path,
                                                                uint32_t page_size) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return IoError("create", path, errno);
  return std::unique_ptr<BoltWriter>(new BoltWriter(fd, path, page_size));
}

BoltWriter::BoltWriter(int fd, std::string path, uint32_t page_size)
    : fd_(fd), path_(std::move(path)), page_size_(page_size) {}

BoltWriter::~BoltWriter() {
  if (fd_ >= 0) ::close(fd_);
}

size_t BoltWriter::NodeSize(const std::vector<Item>& items) const {
  size_t n = kPageHeaderSize;
  for (const Item& it : items) n += kElementSize + it.key.size() + it.value.size();
  return n;
}

absl::Status BoltWriter::WriteSpan(uint64_t id, const std::string& bytes) {
  for (size_t done = 0; done < bytes.size();) {
    const ssize_t w = ::pwrite(fd_, bytes.data() + done, bytes.size() - done,
                               off_t(id * page_size_ + done));
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return IoError("write", path_, errno);
    done += size_t(w);
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> BoltWriter::WriteNode(const std::vector<Item>& items, uint16_t flags) {
  const size_t size = NodeSize(items);
  const uint64_t pages = (size + page_size_ - 1) / page_size_;
  if (pages - 1 > UINT32_MAX || items.size() > 0xFFFF) {
    return absl::InvalidArgumentError("bbolt page too large");
  }
  std::string b(pages * page_size_, '\0');
  const uint64_t id = next_;
  Put64(b.data(), id);
  Put16(b.data() + 8, flags);
  Put16(b.data() + 10, uint16_t(items.size()));
  Put32(b.data() + 12, uint32_t(pages - 1));
  size_t data = kPageHeaderSize + items.size() * kElementSize;
  for (size_t i = 0; i < items.size(); ++i) {
    char* e = b.data() + kPageHeaderSize + i * kElementSize;
    const uint32_t pos = uint32_t(data - (kPageHeaderSize + i * kElementSize));
    if (flags == kLeafPageFlag) {
      Put32(e, items[i].flags);
      Put32(e + 4, pos);
      Put32(e + 8, uint32_t(items[i].key.size()));
      Put32(e + 12, uint32_t(items[i].value.size()));
    } else {
      Put32(e, pos);
      Put32(e + 4, uint32_t(items[i].key.size()));
      Put64(e + 8, items[i].child);
    }
    std::memcpy(b.data() + data, items[i].key.data(), items[i].key.size());
    data += items[i].key.size();
    if (flags == kLeafPageFlag) {
      std::memcpy(b.data() + data, items[i].value.data(), items[i].value.size());
      data += items[i].value.size();
    }
  }
  if (absl::Status s = WriteSpan(id, b); !s.ok()) return s;
  next_ += pages;
  return id;
}

absl::Status BoltWriter::BeginBucket(std::string_view name) {
  if (in_bucket_ || name.empty()) return absl::FailedPreconditionError("BeginBucket out of order");
  for (const Item& b : root_) {
    if (b.key == name) return absl::AlreadyExistsError("bucket written twice");
  }
  in_bucket_ = true;
  bucket_name_ = std::string(name);
  have_last_ = false;
  leaf_.clear();
  leaves_.clear();
  leaf_bytes_ = kPageHeaderSize;
  return absl::OkStatus();
}

absl::Status BoltWriter::FlushLeaf() {
  if (leaf_.empty()) return absl::OkStatus();
  absl::StatusOr<uint64_t> id = WriteNode(leaf_, kLeafPageFlag);
  if (!id.ok()) return id.status();
  leaves_.push_back(Item{leaf_.front().key, "", 0, *id});
  leaf_.clear();
  leaf_bytes_ = kPageHeaderSize;
  return absl::OkStatus();
}

absl::Status BoltWriter::Add(std::string_view key, std::string_view value) {
  if (!in_bucket_) return absl::FailedPreconditionError("Add outside a bucket");
  if (key.empty() || (have_last_ && !(last_key_ < key))) {
    return absl::InvalidArgumentError("keys must be non-empty and ascend");
  }
  last_key_.assign(key.data(), key.size());
  have_last_ = true;
  const size_t add = kElementSize + key.size() + value.size();
  // A page holds what fits; a lone large entry takes overflow pages.
  if (!leaf_.empty() && leaf_bytes_ + add > page_size_) {
    if (absl::Status s = FlushLeaf(); !s.ok()) return s;
  }
  leaf_.push_back(Item{std::string(key), std::string(value), 0, 0});
  leaf_bytes_ += add;
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> BoltWriter::FinishTree(std::vector<Item> level) {
  while (level.size() > 1) {
    std::vector<Item> parents, page;
    size_t bytes = kPageHeaderSize;
    for (Item& it : level) {
      const size_t add = kElementSize + it.key.size();
      if (!page.empty() && bytes + add > page_size_) {
        absl::StatusOr<uint64_t> id = WriteNode(page, kBranchPageFlag);
        if (!id.ok()) return id.status();
        parents.push_back(Item{page.front().key, "", 0, *id});
        page.clear();
        bytes = kPageHeaderSize;
      }
      bytes += add;
      page.push_back(std::move(it));
    }
    absl::StatusOr<uint64_t> id = WriteNode(page, kBranchPageFlag);
    if (!id.ok()) return id.status();
    parents.push_back(Item{page.front().key, "", 0, *id});
    level = std::move(parents);
  }
  return level.front().child;
}

absl::Status BoltWriter::EndBucket() {
  if (!in_bucket_) return absl::FailedPreconditionError("EndBucket outside a bucket");
  if (leaves_.empty() && leaf_.empty()) {
    // An empty bucket still has a root: an empty leaf.
    absl::StatusOr<uint64_t> id = WriteNode({}, kLeafPageFlag);
    if (!id.ok()) return id.status();
    leaves_.push_back(Item{"", "", 0, *id});
  }
  if (absl::Status s = FlushLeaf(); !s.ok()) return s;
  absl::StatusOr<uint64_t> root = FinishTree(std::move(leaves_));
  if (!root.ok()) return root.status();
  std::string header(kBucketHeaderSize, '\0');
  Put64(header.data(), *root);
  root_.push_back(Item{bucket_name_, header, kBucketLeafFlag, 0});
  in_bucket_ = false;
  return absl::OkStatus();
}

absl::Status BoltWriter::Finish(uint64_t txid) {
  if (in_bucket_) return absl::FailedPreconditionError("Finish inside a bucket");
  std::sort(root_.begin(), root_.end(), [](const Item& a, const Item& b) { return a.key < b.key; });
  std::vector<Item> leaves;
  std::vector<Item> page;
  size_t bytes = kPageHeaderSize;
  for (Item& b : root_) {
    const size_t add = kElementSize + b.key.size() + b.value.size();
    if (!page.empty() && bytes + add > page_size_) {
      absl::StatusOr<uint64_t> id = WriteNode(page, kLeafPageFlag);
      if (!id.ok()) return id.status();
      leaves.push_back(Item{page.front().key, "", 0, *id});
      page.clear();
      bytes = kPageHeaderSize;
    }
    bytes += add;
    page.push_back(std::move(b));
  }
  absl::StatusOr<uint64_t> id = WriteNode(page, kLeafPageFlag);
  if (!id.ok()) return id.status();
  leaves.push_back(Item{page.empty() ? "" : page.front().key, "", 0, *id});
  absl::StatusOr<uint64_t> root = FinishTree(std::move(leaves));
  if (!root.ok()) return root.status();
  // An empty freelist page: bbolt then needs no scan to open the file.
  const uint64_t freelist = next_;
  if (absl::Status s = WriteSpan(freelist, EncodeFreelist(freelist, page_size_, {})); !s.ok()) {
    return s;
  }
  ++next_;
  Meta m;
  m.magic = kBoltMagic;
  m.version = kBoltVersion;
  m.page_size = page_size_;
  m.root = *root;
  m.freelist = freelist;
  m.pgid = next_;
  m.txid = txid;
  for (uint64_t slot = 0; slot < 2; ++slot) {
    if (absl::Status s = WriteSpan(slot, EncodeMetaPage(m, slot)); !s.ok()) return s;
  }
  if (::fsync(fd_) != 0) return IoError("sync", path_, errno);
  const int rc = ::close(fd_);
  fd_ = -1;
  if (rc != 0) return IoError("close", path_, errno);
  return absl::OkStatus();
}

}  // namespace revkv::interop::etcd
