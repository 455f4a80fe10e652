#include "server/wal_spare.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace revkv::server {

SpareSegment::SpareSegment(std::string dir, uint64_t bytes)
    : dir_(std::move(dir)), bytes_(bytes), thread_([this](std::stop_token st) { Loop(st); }) {}

SpareSegment::~SpareSegment() {
  thread_.request_stop();
  {
    util::MutexLock l(mu_);
    cv_.NotifyAll();
  }
  thread_.join();
  util::MutexLock l(mu_);
  if (ready_.fd >= 0) close(ready_.fd);
}

absl::StatusOr<SpareSegment::File> SpareSegment::Take() {
  util::MutexLock l(mu_);
  while (ready_.fd < 0 && error_.ok()) cv_.Wait(mu_);
  if (!error_.ok()) return error_;
  File f = std::exchange(ready_, File{});
  wanted_ = true;
  cv_.NotifyAll();
  return f;
}

void SpareSegment::WaitReady() {
  util::MutexLock l(mu_);
  while (ready_.fd < 0 && error_.ok()) cv_.Wait(mu_);
}

void SpareSegment::Loop(std::stop_token stop) {
  for (uint64_t n = 0;; ++n) {
    {
      util::MutexLock l(mu_);
      while (!wanted_ && !stop.stop_requested()) cv_.Wait(mu_);
      if (stop.stop_requested()) return;
      wanted_ = false;
    }
    const std::string path = absl::StrCat(dir_, "/spare-", n, ".tmp");
    absl::StatusOr<int> fd = Make(path, stop);
    util::MutexLock l(mu_);
    if (!fd.ok()) {
      error_ = fd.status();
      cv_.NotifyAll();
      return;
    }
    if (*fd < 0) return;  // stopped
    ready_ = File{*fd, path};
    cv_.NotifyAll();
  }
}

// Zero-fills the file in 1 MiB writes (checking for a stop between them)
// and fdatasyncs it; -1 if stopped first.
absl::StatusOr<int> SpareSegment::Make(const std::string& path, std::stop_token stop) const {
  auto failed = [&](const char* what, int fd) {
    const int e = errno;
    if (fd >= 0) close(fd);
    return absl::InternalError(absl::StrCat("wal: ", what, " ", path, ": ", std::strerror(e)));
  };
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return failed("create", -1);
  const std::string zeros(1 << 20, '\0');
  for (uint64_t done = 0; done < bytes_;) {
    if (stop.stop_requested()) {
      close(fd);
      return -1;
    }
    const size_t n = size_t(std::min<uint64_t>(zeros.size(), bytes_ - done));
    if (write(fd, zeros.data(), n) != ssize_t(n)) return failed("zero-fill", fd);
    done += n;
  }
  if (fdatasync(fd) != 0) return failed("fdatasync", fd);
  return fd;
}

}  // namespace revkv::server
