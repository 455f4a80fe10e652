#include "tests/server/background_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "tests/cmd/process.h"

extern char** environ;

namespace revkv::testing {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

bool BackgroundProcess::Start(const std::vector<std::string>& argv,
                              const std::vector<std::string>& env_extra) {
  const std::string dir = NewTempDir("bg");
  out_path_ = dir + "/out";
  err_path_ = dir + "/err";
  int in[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return false;
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  for (const std::string& e : env_extra) env.push_back(e);
  std::vector<char*> args, envp;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ < 0) return false;
  if (pid_ == 0) {
    int out = ::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(in[0], 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::execve(args[0], args.data(), envp.data());
    ::_exit(127);
  }
  ::close(in[0]);
  stdin_fd_ = in[1];
  return true;
}

BackgroundProcess::~BackgroundProcess() { Kill(); }

bool BackgroundProcess::WriteStdin(const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(stdin_fd_, data.data() + done, data.size() - done);
    if (n <= 0) return false;
    done += size_t(n);
  }
  return true;
}

void BackgroundProcess::CloseStdin() {
  if (stdin_fd_ >= 0) ::close(stdin_fd_);
  stdin_fd_ = -1;
}

std::string BackgroundProcess::Out() const { return ReadAll(out_path_); }
std::string BackgroundProcess::Err() const { return ReadAll(err_path_); }

bool BackgroundProcess::WaitForOut(const std::function<bool(const std::string&)>& done,
                                   std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // Polling a file the child writes: there is nothing to wait on.
  for (;;) {
    if (done(Out())) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

bool BackgroundProcess::Running() {
  if (pid_ <= 0) return false;
  int st;
  if (::waitpid(pid_, &st, WNOHANG) != pid_) return true;
  exit_code_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  pid_ = -1;
  return false;
}

int BackgroundProcess::Wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // No way to wait for a child with a deadline but polling.
  while (Running()) {
    if (std::chrono::steady_clock::now() > deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return exit_code_;
}

int BackgroundProcess::Stop(int sig, std::chrono::milliseconds timeout) {
  if (Running()) ::kill(pid_, sig);
  const int code = Wait(timeout);
  if (code == -1) Kill();
  return code;
}

void BackgroundProcess::Kill() {
  if (stdin_fd_ >= 0) {
    ::close(stdin_fd_);
    stdin_fd_ = -1;
  }
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int st;
    ::waitpid(pid_, &st, 0);
    pid_ = -1;
  }
}

}  // namespace revkv::testing
