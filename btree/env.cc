// POSIX implementation of Env.
#include "btree/env.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <climits>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <vector>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace revkv::btree {

namespace {
constexpr char kLockedPayloadUrl[] = "revkv.btree.locked";
}  // namespace

absl::Status ErrLocked(std::string_view path) {
  absl::Status s = absl::FailedPreconditionError(absl::StrFormat(
      "btree: %s is locked by another handle (another process or an open DB in this one)",
      path));
  s.SetPayload(kLockedPayloadUrl, absl::Cord(absl::string_view("locked")));
  return s;
}

bool IsLocked(const absl::Status& s) {
  return absl::IsFailedPrecondition(s) && s.GetPayload(kLockedPayloadUrl).has_value();
}

namespace {

absl::Status PosixError(std::string_view what, const std::string& path, int err) {
  std::string msg = absl::StrFormat("%s %s: %s", what, path, std::strerror(err));
  if (err == ENOENT) return absl::NotFoundError(msg);
  if (err == EACCES || err == EPERM) return absl::PermissionDeniedError(msg);
  return absl::InternalError(msg);
}

class PosixMapping : public Mapping {
 public:
  PosixMapping(const char* data, size_t size) : data_(data), size_(size) {}
  ~PosixMapping() override { munmap(const_cast<char*>(data_), size_); }
  const char* data() const override { return data_; }
  size_t size() const override { return size_; }

 private:
  const char* data_;
  size_t size_;
};

class PosixFile : public File {
 public:
  PosixFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixFile() override { close(fd_); }

  absl::Status ReadAt(uint64_t offset, size_t n, char* buf) override {
    while (n > 0) {
      ssize_t r = pread(fd_, buf, n, off_t(offset));
      if (r < 0) {
        if (errno == EINTR) continue;
        return PosixError("read", path_, errno);
      }
      if (r == 0) {
        return absl::OutOfRangeError(
            absl::StrFormat("read %s: unexpected end of file at %d", path_, offset));
      }
      buf += r;
      n -= size_t(r);
      offset += uint64_t(r);
    }
    return absl::OkStatus();
  }

  absl::Status WriteAt(uint64_t offset, std::string_view data) override {
    const char* p = data.data();
    size_t n = data.size();
    while (n > 0) {
      ssize_t r = pwrite(fd_, p, n, off_t(offset));
      if (r < 0) {
        if (errno == EINTR) continue;
        return PosixError("write", path_, errno);
      }
      p += r;
      n -= size_t(r);
      offset += uint64_t(r);
    }
    return absl::OkStatus();
  }

  absl::Status WriteAtV(uint64_t offset,
                        const std::vector<std::string_view>& pieces) override {
    std::vector<iovec> iov;
    iov.reserve(pieces.size());
    for (std::string_view p : pieces) {
      if (!p.empty()) iov.push_back({const_cast<char*>(p.data()), p.size()});
    }
    size_t i = 0;
    while (i < iov.size()) {
      int n = int(std::min<size_t>(iov.size() - i, IOV_MAX));
      ssize_t r = pwritev(fd_, &iov[i], n, off_t(offset));
      if (r < 0) {
        if (errno == EINTR) continue;
        return PosixError("write", path_, errno);
      }
      offset += uint64_t(r);
      // Skip what was written; a short write resumes mid-piece.
      size_t left = size_t(r);
      while (i < iov.size() && left >= iov[i].iov_len) {
        left -= iov[i].iov_len;
        ++i;
      }
      if (left > 0) {
        iov[i].iov_base = static_cast<char*>(iov[i].iov_base) + left;
        iov[i].iov_len -= left;
      }
    }
    return absl::OkStatus();
  }

  absl::Status Sync() override {
    if (fdatasync(fd_) != 0) return PosixError("fdatasync", path_, errno);
    return absl::OkStatus();
  }

  absl::Status Truncate(uint64_t size) override {
    if (ftruncate(fd_, off_t(size)) != 0) return PosixError("truncate", path_, errno);
    return absl::OkStatus();
  }

  absl::StatusOr<uint64_t> Size() override {
    struct stat st;
    if (fstat(fd_, &st) != 0) return PosixError("stat", path_, errno);
    return uint64_t(st.st_size);
  }

  absl::StatusOr<std::shared_ptr<const Mapping>> Map(size_t length) override {
    void* p = mmap(nullptr, length, PROT_READ, MAP_SHARED, fd_, 0);
    if (p == MAP_FAILED) return PosixError("mmap", path_, errno);
    // Random access dominates B+tree reads; readahead would waste I/O.
    madvise(p, length, MADV_RANDOM);
    return std::shared_ptr<const Mapping>(
        std::make_shared<PosixMapping>(static_cast<const char*>(p), length));
  }

  absl::Status Lock(bool exclusive) override {
    if (flock(fd_, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK) {
        return ErrLocked(path_);
      }
      return PosixError("flock", path_, errno);
    }
    return absl::OkStatus();
  }

 private:
  std::string path_;
  int fd_;
};

class PosixEnv : public Env {
 public:
  absl::StatusOr<std::unique_ptr<File>> OpenFile(
      const std::string& path, const OpenFileOptions& options) override {
    int flags = options.read_only ? O_RDONLY : O_RDWR;
    if (options.create && !options.read_only) flags |= O_CREAT;
    int fd = open(path.c_str(), flags | O_CLOEXEC, 0644);
    if (fd < 0) return PosixError("open", path, errno);
    return std::unique_ptr<File>(std::make_unique<PosixFile>(path, fd));
  }

  absl::Status RenameFile(const std::string& from, const std::string& to) override {
    if (rename(from.c_str(), to.c_str()) != 0) return PosixError("rename", from, errno);
    return absl::OkStatus();
  }

  absl::Status LinkFile(const std::string& from, const std::string& to) override {
    if (link(from.c_str(), to.c_str()) != 0) {
      if (errno == EEXIST) {
        return absl::AlreadyExistsError(absl::StrCat("btree: ", to, " already exists"));
      }
      return PosixError("link", from, errno);
    }
    return absl::OkStatus();
  }

  absl::Status RemoveFile(const std::string& path) override {
    if (unlink(path.c_str()) != 0) return PosixError("remove", path, errno);
    return absl::OkStatus();
  }

  bool FileExists(const std::string& path) override {
    return access(path.c_str(), F_OK) == 0;
  }

  absl::Status SyncDir(const std::string& dir) override {
    int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return PosixError("open", dir, errno);
    int r = fsync(fd);
    int err = errno;
    close(fd);
    if (r != 0) return PosixError("fsync", dir, err);
    return absl::OkStatus();
  }
};

}  // namespace

Env* Env::Default() {
  static Env* env = new PosixEnv();
  return env;
}

}  // namespace revkv::btree
