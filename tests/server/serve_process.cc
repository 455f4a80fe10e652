#include "tests/server/serve_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

namespace revkv::testing {
namespace {

constexpr auto kStartDeadline = std::chrono::seconds(30);
constexpr auto kStopDeadline = std::chrono::seconds(30);
constexpr auto kPollInterval = std::chrono::milliseconds(20);

}  // namespace

std::string ServeProcess::Log() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool ServeProcess::Start(std::string* error, const std::vector<std::string>& extra,
                         const std::string& data_dir) {
  const std::string tmp = NewTempDir("serve");
  data_dir_ = data_dir.empty() ? tmp + "/data" : data_dir;
  log_path_ = tmp + "/serve.log";
  std::vector<std::string> argv = {RevkvPath(), "serve", "--data-dir", data_dir_,
                                   "--listen-client-urls", "http://127.0.0.1:0"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  pid_ = fork();
  if (pid_ == 0) {
    int fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 1);
    dup2(fd, 2);
    std::vector<char*> c;
    for (std::string& a : argv) c.push_back(a.data());
    c.push_back(nullptr);
    execv(c[0], c.data());
    _exit(127);
  }
  static const std::regex kReady("\"msg\":\"ready to serve client requests\",\"address\":\"([^\"]+)\"");
  const auto deadline = std::chrono::steady_clock::now() + kStartDeadline;
  while (std::chrono::steady_clock::now() < deadline) {
    std::smatch m;
    const std::string log = Log();
    if (std::regex_search(log, m, kReady)) {
      address_ = m[1];
      return true;
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      *error = "revkv serve exited before it was ready: " + log;
      return false;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  *error = "revkv serve was not ready in time: " + Log();
  return false;
}

int ServeProcess::Stop(int sig) {
  if (pid_ <= 0) return -1;
  kill(pid_, sig);
  const auto deadline = std::chrono::steady_clock::now() + kStopDeadline;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
  return -1;
}

bool ServeProcess::Signal(int sig) { return pid_ > 0 && kill(pid_, sig) == 0; }

int ServeProcess::WaitExit(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (std::chrono::steady_clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(kPollInterval);
  }
}

ServeProcess::~ServeProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

ProcessResult ServeProcess::Etcdctl(const std::vector<std::string>& args,
                                    const std::string& stdin_data) {
  std::vector<std::string> argv = {"/usr/bin/etcdctl", "--endpoints=" + address_};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, stdin_data, {"ETCDCTL_API=3"});
}

}  // namespace revkv::testing
