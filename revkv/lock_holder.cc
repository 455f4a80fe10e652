#include "revkv/lock_holder.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace revkv {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

int FindFlockHolder(std::string_view proc_locks, unsigned major, unsigned minor,
                    unsigned long inode) {
  // "1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF"; a waiter's line reads
  // "1: -> FLOCK ..." and holds nothing.
  const std::string id = absl::StrFormat("%02x:%02x:%d", major, minor, inode);
  for (absl::string_view line : absl::StrSplit(absl::string_view(proc_locks.data(), proc_locks.size()), '\n')) {
    std::vector<absl::string_view> f = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (f.size() < 6 || f[1] != "FLOCK") continue;
    if (f[5] != id) continue;
    int pid = 0;
    if (absl::SimpleAtoi(f[4], &pid)) return pid;
  }
  return 0;
}

std::string DescribeLockHolder(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return "";
  const int pid = FindFlockHolder(ReadAll("/proc/locks"), major(st.st_dev), minor(st.st_dev),
                                  st.st_ino);
  if (pid == 0) return "";
  if (pid == getpid()) return "this process";
  std::string comm = ReadAll(absl::StrFormat("/proc/%d/comm", pid));
  absl::string_view name = absl::StripTrailingAsciiWhitespace(comm);
  if (name.empty()) return absl::StrFormat("process %d", pid);
  return absl::StrFormat("process %d (%s)", pid, std::string(name));
}

}  // namespace revkv
