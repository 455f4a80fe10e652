// Test helper: `revkv serve` as a child process on a kernel-picked loopback
// port (--listen-client-urls http://127.0.0.1:0), with a temporary data
// directory; etcdctl invocations against it; a stop by signal.
//
// Thread-safety: not thread-safe.
#ifndef REVKV_TESTS_SERVER_SERVE_PROCESS_H_
#define REVKV_TESTS_SERVER_SERVE_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "tests/cmd/process.h"

namespace revkv::testing {

class ServeProcess {
 public:
  // Starts `revkv serve --data-dir DIR --listen-client-urls
  // http://127.0.0.1:0 extra...` (DIR: `data_dir`, or a fresh one) and
  // waits (bounded) for its "ready to serve" log line.
  bool Start(std::string* error, const std::vector<std::string>& extra = {},
             const std::string& data_dir = "");
  // Sends `sig` and waits (bounded) for the exit; returns the exit code, or
  // -1 if it did not exit in time (it is then killed).
  int Stop(int sig);
  // Sends `sig` without waiting (SIGSTOP/SIGCONT: a stalled member); false
  // if none runs.
  bool Signal(int sig);
  // Waits up to `timeout` for the server to exit by itself; its exit code
  // (128 + signal if killed by one), or -1 if it still runs (or none was
  // started).
  int WaitExit(std::chrono::milliseconds timeout);
  // Kills the server if it still runs.
  ~ServeProcess();

  ProcessResult Etcdctl(const std::vector<std::string>& args, const std::string& stdin_data = "");
  // host:port as logged.
  const std::string& address() const { return address_; }
  const std::string& data_dir() const { return data_dir_; }
  // Everything the server logged so far.
  std::string Log() const;

 private:
  pid_t pid_ = -1;
  std::string address_;
  std::string data_dir_;
  std::string log_path_;
};

}  // namespace revkv::testing

#endif  // REVKV_TESTS_SERVER_SERVE_PROCESS_H_
