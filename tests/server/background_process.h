// Test helper: a program running in the background (etcdctl watch, lock), its
// stdin a pipe the test writes to and keeps open, its stdout and stderr in
// files the test polls. Killed (SIGKILL, its own pid only) when destroyed
// unless it exited or was stopped.
//
// Thread-safety: not thread-safe.
#ifndef REVKV_TESTS_SERVER_BACKGROUND_PROCESS_H_
#define REVKV_TESTS_SERVER_BACKGROUND_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace revkv::testing {

class BackgroundProcess {
 public:
  // Starts argv[0] (a path) with `env_extra` added to the environment.
  bool Start(const std::vector<std::string>& argv, const std::vector<std::string>& env_extra = {});
  ~BackgroundProcess();

  bool WriteStdin(const std::string& data);
  // Closes its stdin: it reads end of file.
  void CloseStdin();
  // What it printed so far.
  std::string Out() const;
  std::string Err() const;
  // Polls Out() until `done` holds or `timeout` passes; true if it held.
  bool WaitForOut(const std::function<bool(const std::string&)>& done,
                  std::chrono::milliseconds timeout) const;
  // Whether it has not exited yet (reaps it if it has).
  bool Running();
  // Waits (bounded) for it to exit; its exit code, 128+N if signal N ended
  // it, or -1 if it still runs at the deadline.
  int Wait(std::chrono::milliseconds timeout);
  // Sends `sig`, then Wait(timeout); at the deadline it is killed (-1).
  int Stop(int sig, std::chrono::milliseconds timeout);
  // Kills it and reaps it.
  void Kill();

 private:
  pid_t pid_ = -1;
  int exit_code_ = -1;  // once reaped
  int stdin_fd_ = -1;
  std::string out_path_, err_path_;
};

}  // namespace revkv::testing

#endif  // REVKV_TESTS_SERVER_BACKGROUND_PROCESS_H_
