#include "tests/cmd/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <regex>

extern char** environ;

namespace revkv::testing {

std::string NormaliseEtcdJson(const std::string& out) {
  static const std::regex kIds("\"(cluster_id|member_id)\":[0-9]+,");
  static const std::regex kTerm(",\"raft_term\":[0-9]+");
  static const std::regex kEndpoint("\"Endpoint\":\"[^\"]*\"");
  std::string s = std::regex_replace(out, kIds, "");
  s = std::regex_replace(s, kTerm, "");
  return std::regex_replace(s, kEndpoint, "\"Endpoint\":\"\"");
}

std::string ProcessResult::LastErrLine() const {
  std::string e = err;
  while (!e.empty() && e.back() == '\n') e.pop_back();
  size_t nl = e.rfind('\n');
  return nl == std::string::npos ? e : e.substr(nl + 1);
}

ProcessResult RunProcess(const std::vector<std::string>& argv, const std::string& stdin_data,
                         const std::vector<std::string>& env_extra) {
  ProcessResult r;
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
    return r;
  }
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  env.insert(env.end(), env_extra.begin(), env_extra.end());
  std::vector<char*> cargv, cenv;
  for (const std::string& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  for (const std::string& e : env) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    execve(cargv[0], cargv.data(), cenv.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  signal(SIGPIPE, SIG_IGN);
  size_t written = 0;
  int in_fd = in[1];
  if (stdin_data.empty()) {
    close(in_fd);
    in_fd = -1;
  }
  bool out_open = true, err_open = true;
  char buf[65536];
  while (out_open || err_open) {
    struct pollfd fds[3];
    int n = 0;
    int oi = -1, ei = -1, ii = -1;
    if (out_open) { fds[n] = {out[0], POLLIN, 0}; oi = n++; }
    if (err_open) { fds[n] = {err[0], POLLIN, 0}; ei = n++; }
    if (in_fd >= 0) { fds[n] = {in_fd, POLLOUT, 0}; ii = n++; }
    if (poll(fds, nfds_t(n), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (ii >= 0 && fds[ii].revents != 0) {
      ssize_t w = write(in_fd, stdin_data.data() + written, stdin_data.size() - written);
      if (w > 0) written += size_t(w);
      if (w < 0 || written == stdin_data.size()) {
        close(in_fd);
        in_fd = -1;
      }
    }
    if (oi >= 0 && fds[oi].revents != 0) {
      ssize_t k = read(out[0], buf, sizeof buf);
      if (k > 0) r.out.append(buf, size_t(k)); else out_open = false;
    }
    if (ei >= 0 && fds[ei].revents != 0) {
      ssize_t k = read(err[0], buf, sizeof buf);
      if (k > 0) r.err.append(buf, size_t(k)); else err_open = false;
    }
  }
  if (in_fd >= 0) close(in_fd);
  close(out[0]);
  close(err[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

std::string RevkvPath() {
  char cwd[4096];
  if (getcwd(cwd, sizeof cwd) == nullptr) return "cmd/revkv/revkv";
  return std::string(cwd) + "/cmd/revkv/revkv";
}

std::string NewTempDir(const std::string& prefix) {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/" + prefix + "-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) return "";
  return tmpl;
}

}  // namespace revkv::testing
