// ServerProcess: an etcd v3 server (`revkv serve` or a real etcd) started as
// a child process on loopback for `revkv bench server`, with its log in a
// file, stopped (SIGTERM, then SIGKILL if it lingers) when destroyed.
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
  ~ServerProcess();  // Stop()

  // "127.0.0.1:PORT".
  const std::string& endpoint() const { return endpoint_; }
  // SIGTERM, a bounded wait for the exit, then SIGKILL. Idempotent.
  void Stop();

 private:
  ServerProcess(pid_t pid, std::string endpoint) : pid_(pid), endpoint_(std::move(endpoint)) {}
  pid_t pid_;
  std::string endpoint_;
};

// `revkv serve` (the binary `revkv`) on `client_port` with data in `dir`.
std::vector<std::string> RevkvServeArgv(const std::string& revkv, const std::string& dir,
                                        int client_port);
// A single-member etcd (the binary `etcd`) on `client_port` and
// `peer_port` with data in `dir`.
std::vector<std::string> EtcdArgv(const std::string& etcd, const std::string& dir, int client_port,
                                  int peer_port);

}  // namespace revkv::bench

#endif  // REVKV_BENCH_SERVER_PROCESS_H_
