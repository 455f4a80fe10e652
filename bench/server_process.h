// ServerProcess: an etcd v3 server (`revkv serve` or a real etcd) started as
// a child process on loopback for `revkv bench server`, with its log in a
// file, stopped (SIGTERM, then SIGKILL if it lingers) when destroyed. A
// cluster member can be killed (SIGKILL) and started again with the same
// arguments, for the failover measurement.
//
// Thread-compatible: one thread starts and stops it.
#ifndef REVKV_BENCH_SERVER_PROCESS_H_
#define REVKV_BENCH_SERVER_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace revkv::bench {

// A loopback TCP port the kernel says is free now (0 if none).
int FreeLoopbackPort();

class ServerProcess {
 public:
  // Starts `argv` (argv[0] a path) with stdout and stderr into `log_path`,
  // then waits until a Maintenance.Status call on 127.0.0.1:`client_port`
  // answers (at most `ready_timeout_s`). Unavailable, naming the log, if it
  // exits or does not answer in time.
  static absl::StatusOr<std::unique_ptr<ServerProcess>> Start(const std::vector<std::string>& argv,
                                                              const std::string& log_path,
                                                              int client_port,
                                                              double ready_timeout_s = 30);
  // Starts it without waiting: a cluster member answers only once a
  // quorum of its peers runs, so a cluster spawns every member first.
  static absl::StatusOr<std::unique_ptr<ServerProcess>> Spawn(const std::vector<std::string>& argv,
                                                              const std::string& log_path,
                                                              int client_port);
  ~ServerProcess();  // Stop()

  // Waits until a Maintenance.Status call answers (at most `timeout_s`).
  absl::Status WaitReady(double timeout_s);
  // "127.0.0.1:PORT".
  const std::string& endpoint() const { return endpoint_; }
  // SIGTERM, a bounded wait for the exit, then SIGKILL. Idempotent.
  void Stop();
  // SIGKILL, and reaps it. Idempotent.
  void Kill();
  // Starts it again with the same arguments (appending to its log), without
  // waiting. FailedPrecondition while it runs.
  absl::Status Restart();

 private:
  ServerProcess(std::vector<std::string> argv, std::string log_path, int client_port)
      : argv_(std::move(argv)),
        log_path_(std::move(log_path)),
        endpoint_("127.0.0.1:" + std::to_string(client_port)) {}
  absl::Status Exec(bool truncate_log);

  std::vector<std::string> argv_;
  std::string log_path_;
  std::string endpoint_;
  pid_t pid_ = -1;
};

}  // namespace revkv::bench

#endif  // REVKV_BENCH_SERVER_PROCESS_H_
