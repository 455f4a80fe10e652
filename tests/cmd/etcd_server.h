// Test helper: a real etcd 3.4 (/usr/bin/etcd) on 127.0.0.1 with a temporary
// data directory, and etcdctl invocations against it. Available() is false
// when etcd or etcdctl is not installed (tests then GTEST_SKIP).
//
// Thread-safety: not thread-safe.
#ifndef REVKV_TESTS_CMD_ETCD_SERVER_H_
#define REVKV_TESTS_CMD_ETCD_SERVER_H_

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "tests/cmd/process.h"

namespace revkv::testing {

class EtcdServer {
 public:
  static bool Available();
  // Starts etcd and waits (bounded poll) until its client port accepts.
  bool Start(std::string* error);
  // Starts etcd on `data_dir`, made by `etcdctl snapshot restore --name ref
  // --initial-cluster ref=PEER --initial-advertise-peer-urls PEER` with
  // PEER = PeerUrl(peer_port).
  bool StartOn(const std::string& data_dir, int peer_port, std::string* error);
  static std::string PeerUrl(int port) { return "http://127.0.0.1:" + std::to_string(port); }
  // Flags added to etcd's command line by the next starts (e.g.
  // --quota-backend-bytes).
  void set_extra_flags(std::vector<std::string> flags) { extra_flags_ = std::move(flags); }
  // The next starts listen on an https client URL (its TLS flags, e.g.
  // --cert-file, go in set_extra_flags), and Etcdctl (the start's
  // readiness check among its calls) adds `etcdctl_tls` (e.g. --cacert).
  void set_https(std::vector<std::string> etcdctl_tls) {
    https_ = true;
    etcdctl_tls_ = std::move(etcdctl_tls);
  }
  // Stops (if running) and starts etcd again on the same data directory
  // and peer port: a restart keeps the member and its data.
  bool Restart(std::string* error);
  // A loopback port the kernel says is free now.
  static int FreePort();
  // Stops the server gracefully (SIGTERM, then waits for it to exit), so
  // that its data directory is whole and unlocked; true if it exited
  // cleanly.
  bool Stop();
  // Kills the server it started, if still running.
  ~EtcdServer();
  // The member's data directory (--data-dir).
  std::string data_dir() const { return data_dir_; }
  ProcessResult Etcdctl(const std::vector<std::string>& args, const std::string& stdin_data = "");
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(client_port_); }

 private:
  pid_t pid_ = -1;
  int client_port_ = 0;
  int peer_port_ = 0;
  std::string dir_;
  std::string data_dir_;
  std::vector<std::string> extra_flags_;
  bool https_ = false;
  std::vector<std::string> etcdctl_tls_;
};

}  // namespace revkv::testing

#endif  // REVKV_TESTS_CMD_ETCD_SERVER_H_
