#include "snapshot/file_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace revkv::snapshot {

absl::Status PathError(const std::string& op, const std::string& path, int err) {
  std::string msg = std::strerror(err);
  if (!msg.empty()) msg[0] = char(std::tolower(static_cast<unsigned char>(msg[0])));
  std::string text = op + " " + path + ": " + msg;
  if (err == ENOENT) return absl::NotFoundError(text);
  return absl::UnknownError(text);
}

absl::StatusOr<uint64_t> StatSize(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return PathError("stat", path, errno);
  if (S_ISDIR(st.st_mode)) return PathError("read", path, EISDIR);
  return uint64_t(st.st_size);
}

std::string Dirname(const std::string& path) {
  std::filesystem::path p(path);
  std::string d = p.parent_path().string();
  return d.empty() ? "." : d;
}

absl::Status SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return PathError("open", dir, errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return PathError("sync", dir, err);
  return absl::OkStatus();
}

void RemoveAll(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

bool MissingOrEmptyDir(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return true;
  return std::filesystem::is_directory(path, ec) && std::filesystem::is_empty(path, ec);
}

absl::Status MkdirAll(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return PathError("mkdir", path, ec.value());
  return absl::OkStatus();
}

}  // namespace revkv::snapshot
