#include "server/member.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"

namespace revkv::server {
namespace {

uint64_t RandomId() {
  std::random_device rd;
  uint64_t v = 0;
  while (v == 0) v = (uint64_t(rd()) << 32) ^ uint64_t(rd());
  return v;
}

absl::Status Errno(const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

}  // namespace

absl::StatusOr<MemberIds> LoadOrCreateIds(std::string_view dir) {
  const std::string path = std::string(dir) + "/member/revkv_ids";
  MemberIds ids;
  {
    std::ifstream in(path);
    if (in && (in >> ids.member_id >> ids.cluster_id) && ids.member_id != 0 &&
        ids.cluster_id != 0) {
      return ids;
    }
  }
  ids.member_id = RandomId();
  ids.cluster_id = RandomId();
  // Written to a temporary file, synced, then renamed: a crash leaves the
  // old state or the whole new one.
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("open " + tmp);
  const std::string text = absl::StrCat(ids.member_id, " ", ids.cluster_id, "\n");
  const bool ok = ::write(fd, text.data(), text.size()) == ssize_t(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return Errno("write " + tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return Errno("rename " + tmp);
  const int dfd = ::open((std::string(dir) + "/member").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return ids;
}

}  // namespace revkv::server
