// The benchmark's view of its process and disk: peak resident memory per
// workload, the data directory, file sizes.
//
// Thread-safety: the functions are thread-safe; a WorkDir is thread-compatible.
#ifndef REVKV_BENCH_SYSINFO_H_
#define REVKV_BENCH_SYSINFO_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace revkv::bench {

// The run is one process, so getrusage's ru_maxrss only grows. Where Linux
// allows it, ResetPeakRss resets the high-water mark (/proc/self/clear_refs)
// after handing freed heap back to the kernel (malloc_trim), and PeakRssBytes
// reads it back (VmHWM): the peak since the reset. Returns false when the
// reset is not possible; PeakRssBytes(false) is then ru_maxrss.
bool ResetPeakRss();
uint64_t PeakRssBytes(bool reset_worked);

// True when `dir` is on tmpfs, where fsync costs nothing.
bool OnTmpfs(const std::string& dir);

// Size of the file at `path` (following symlinks); 0 if it is missing.
uint64_t FileSize(const std::string& path);

// The data directory of a run: `--dir` (created if missing; relative paths
// are taken from where `bazel run` was started) or, when empty, a new
// temporary directory under $TMPDIR that the destructor removes. Suites put
// per-engine subdirectories in it and remove those themselves.
class WorkDir {
 public:
  static absl::StatusOr<std::unique_ptr<WorkDir>> Create(const std::string& dir);
  ~WorkDir();
  const std::string& path() const { return path_; }
  // A fresh (emptied) subdirectory `name`.
  absl::StatusOr<std::string> Fresh(const std::string& name) const;
  // Removes subdirectory `name`, ignoring errors.
  void Remove(const std::string& name) const;

 private:
  WorkDir(std::string path, bool temporary) : path_(std::move(path)), temporary_(temporary) {}
  std::string path_;
  bool temporary_;
};

}  // namespace revkv::bench

#endif  // REVKV_BENCH_SYSINFO_H_
