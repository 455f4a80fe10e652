#include "bench/sysinfo.h"

#include <malloc.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

namespace revkv::bench {

bool ResetPeakRss() {
  malloc_trim(0);
  std::ofstream f("/proc/self/clear_refs");
  if (!f) return false;
  f << "5";
  f.flush();
  return static_cast<bool>(f);
}

uint64_t PeakRssBytes(bool reset_worked) {
  if (reset_worked) {
    std::ifstream f("/proc/self/status");
    std::string line;
    while (std::getline(f, line)) {
      if (line.rfind("VmHWM:", 0) == 0) {
        return std::strtoull(line.c_str() + 6, nullptr, 10) * 1024;
      }
    }
  }
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  return static_cast<uint64_t>(ru.ru_maxrss) * 1024;
}

bool OnTmpfs(const std::string& dir) {
  struct statfs st;
  if (statfs(dir.c_str(), &st) != 0) return false;
  return st.f_type == 0x01021994;  // TMPFS_MAGIC
}

uint64_t FileSize(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<uint64_t>(st.st_size);
}

absl::StatusOr<std::unique_ptr<WorkDir>> WorkDir::Create(const std::string& dir) {
  if (dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") +
                       "/revkv-bench-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) {
      return absl::InternalError("mkdtemp " + tmpl + ": " + std::strerror(errno));
    }
    return std::unique_ptr<WorkDir>(new WorkDir(tmpl, true));
  }
  std::filesystem::path p = dir;
  const char* wd = std::getenv("BUILD_WORKING_DIRECTORY");  // under `bazel run`
  if (p.is_relative() && wd != nullptr && *wd != '\0') p = std::filesystem::path(wd) / p;
  std::error_code ec;
  std::filesystem::create_directories(p, ec);
  if (ec) return absl::InternalError("creating " + p.string() + ": " + ec.message());
  return std::unique_ptr<WorkDir>(new WorkDir(p.string(), false));
}

WorkDir::~WorkDir() {
  if (temporary_) {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
}

absl::StatusOr<std::string> WorkDir::Fresh(const std::string& name) const {
  const std::string d = path_ + "/" + name;
  std::error_code ec;
  std::filesystem::remove_all(d, ec);
  std::filesystem::create_directories(d, ec);
  if (ec) return absl::InternalError("creating " + d + ": " + ec.message());
  return d;
}

void WorkDir::Remove(const std::string& name) const {
  std::error_code ec;
  std::filesystem::remove_all(path_ + "/" + name, ec);
}

}  // namespace revkv::bench
