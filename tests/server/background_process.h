// Test helper: a program running in the background (etcdctl watch), its
// stdin a pipe the test writes to and keeps open, its stdout and stderr in
// files the test polls. Killed (SIGKILL, its own pid only) when destroyed.
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
  // What it printed so far.
  std::string Out() const;
  std::string Err() const;
  // Polls Out() until `done` holds or `timeout` passes; true if it held.
  bool WaitForOut(const std::function<bool(const std::string&)>& done,
                  std::chrono::milliseconds timeout) const;
  // Kills it and reaps it.
  void Kill();

 private:
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  std::string out_path_, err_path_;
};

}  // namespace revkv::testing

#endif  // REVKV_TESTS_SERVER_BACKGROUND_PROCESS_H_
