#include "cmd/revkv/remote_watch_exec.h"

#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <cstring>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cmd/revkv/encoding.h"
#include "cmd/revkv/exit_status.h"

extern char** environ;

namespace revkv::cli {
namespace {

// Go's text of an errno: the C library's, lower-cased at the start.
std::string GoErrno(int e) {
  std::string s = std::strerror(e);
  if (!s.empty()) s[0] = char(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

bool Executable(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
}

// Go's exec.LookPath: a name with a slash as it is, else the first
// executable of that name on $PATH; the error text is Go's.
absl::StatusOr<std::string> LookPath(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    if (Executable(name)) return name;
    return absl::NotFoundError(
        absl::StrFormat("fork/exec %s: %s", name, GoErrno(ENOENT)));
  }
  const char* path = std::getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(path ? path : "", ':')) {
    const std::string full = absl::StrCat(dir.empty() ? "." : dir, "/", name);
    if (Executable(full)) return full;
  }
  return absl::NotFoundError(
      absl::StrFormat("exec: %s: executable file not found in $PATH", GoQuote(name)));
}

// Runs `argv` with `env` added and waits; Go's *exec.ExitError text if it
// fails.
absl::Status Run(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  absl::StatusOr<std::string> path = LookPath(argv[0]);
  if (!path.ok()) return path.status();
  std::vector<std::string> envs;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) envs.emplace_back(*e);
  envs.insert(envs.end(), env.begin(), env.end());
  std::vector<char*> cargv, cenv;
  for (const std::string& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  for (const std::string& e : envs) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);
  pid_t pid = 0;
  if (int e = posix_spawn(&pid, path->c_str(), nullptr, nullptr, cargv.data(), cenv.data());
      e != 0) {
    return absl::InternalError(absl::StrFormat("fork/exec %s: %s", *path, GoErrno(e)));
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return absl::InternalError(std::strerror(errno));
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
  if (WIFEXITED(status)) {
    return absl::InternalError(absl::StrFormat("exit status %d", WEXITSTATUS(status)));
  }
  return absl::InternalError(absl::StrFormat("signal: %s", strsignal(WTERMSIG(status))));
}

}  // namespace

absl::Status RunForEvents(const std::vector<std::string>& command,
                          const etcdserverpb::WatchResponse& r) {
  for (const mvccpb::Event& e : r.events()) {
    const std::vector<std::string> env = {
        absl::StrFormat("ETCD_WATCH_REVISION=%d", r.header().revision()),
        absl::StrFormat("ETCD_WATCH_EVENT_TYPE=%s",
                        GoQuote(e.type() == mvccpb::Event::DELETE ? "DELETE" : "PUT")),
        "ETCD_WATCH_KEY=" + GoQuote(e.kv().key()), "ETCD_WATCH_VALUE=" + GoQuote(e.kv().value())};
    if (absl::Status s = Run(command, env); !s.ok()) {
      // Go's %q of a []string: ["a" "b"].
      std::vector<std::string> quoted;
      for (const std::string& a : command) quoted.push_back(GoQuote(a));
      return RawError(kExitError, absl::StrFormat("command [%s] error (%s)",
                                                  absl::StrJoin(quoted, " "), s.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace revkv::cli
