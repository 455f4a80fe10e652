// Small POSIX file helpers for the snapshot tooling: Go-style error
// messages ("stat F: no such file or directory"), fsync of files and
// directories, recursive removal.
//
// Thread-safety: pure functions over the file system.
#ifndef REVKV_SNAPSHOT_FILE_UTIL_H_
#define REVKV_SNAPSHOT_FILE_UTIL_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace revkv::snapshot {

// "<op> <path>: <strerror(errno)>" as Go's os.PathError prints it, lower case.
absl::Status PathError(const std::string& op, const std::string& path, int err);
// The size of a regular file; `stat PATH: ...` errors as Go prints them.
absl::StatusOr<uint64_t> StatSize(const std::string& path);
// fsyncs the directory holding `path` (or `path` itself if it is a dir).
absl::Status SyncDir(const std::string& dir);
std::string Dirname(const std::string& path);
// Removes a file or a directory tree; missing is OK.
void RemoveAll(const std::string& path);
// True when `path` does not exist or is an empty directory.
bool MissingOrEmptyDir(const std::string& path);
// Creates `path` and its parents (mkdir -p, mode 0700 for new ones).
absl::Status MkdirAll(const std::string& path);

}  // namespace revkv::snapshot

#endif  // REVKV_SNAPSHOT_FILE_UTIL_H_
