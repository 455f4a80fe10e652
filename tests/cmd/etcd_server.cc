#include "tests/cmd/etcd_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace revkv::testing {

int EtcdServer::FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    close(fd);
    return 0;
  }
  int port = ntohs(a.sin_port);
  close(fd);
  return port;
}

namespace {

bool Accepts(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(uint16_t(port));
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

}  // namespace

bool EtcdServer::Available() {
  return access("/usr/bin/etcd", X_OK) == 0 && access("/usr/bin/etcdctl", X_OK) == 0;
}

bool EtcdServer::Start(std::string* error) {
  dir_ = NewTempDir("etcd");
  return StartOn(dir_ + "/data", FreePort(), error);
}

bool EtcdServer::StartOn(const std::string& data_dir, int peer_port, std::string* error) {
  if (dir_.empty()) dir_ = NewTempDir("etcd");
  data_dir_ = data_dir;
  client_port_ = FreePort();
  peer_port_ = peer_port;
  const std::string client =
      (https_ ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(client_port_);
  const std::string peer = PeerUrl(peer_port_);
  std::vector<std::string> argv = {"/usr/bin/etcd",
                                   "--name", "ref",
                                   "--data-dir", data_dir_,
                                   "--listen-client-urls", client,
                                   "--advertise-client-urls", client,
                                   "--listen-peer-urls", peer,
                                   "--initial-advertise-peer-urls", peer,
                                   "--initial-cluster", "ref=" + peer};
  argv.insert(argv.end(), extra_flags_.begin(), extra_flags_.end());
  pid_ = fork();
  if (pid_ == 0) {
    int null = open((dir_ + "/etcd.log").c_str(), O_WRONLY | O_CREAT, 0600);
    dup2(null, 1);
    dup2(null, 2);
    std::vector<char*> c;
    for (std::string& a : argv) c.push_back(a.data());
    c.push_back(nullptr);
    execv(c[0], c.data());
    _exit(127);
  }
  // Bounded poll for the client port (startup, not synchronisation).
  for (int i = 0; i < 300; ++i) {
    if (Accepts(client_port_)) {
      ProcessResult r = Etcdctl({"endpoint", "health"});
      if (r.exit_code == 0) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  *error = "etcd did not start; see " + dir_ + "/etcd.log";
  return false;
}

bool EtcdServer::Restart(std::string* error) {
  if (pid_ > 0 && !Stop()) {
    *error = "etcd did not stop cleanly";
    return false;
  }
  return StartOn(data_dir_, peer_port_, error);
}

bool EtcdServer::Stop() {
  if (pid_ <= 0) return false;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  // etcd re-raises the signal after its shutdown handlers have run.
  return (WIFEXITED(status) && WEXITSTATUS(status) == 0) ||
         (WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
}

EtcdServer::~EtcdServer() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

ProcessResult EtcdServer::Etcdctl(const std::vector<std::string>& args,
                                  const std::string& stdin_data) {
  const std::string url = (https_ ? "https://" : "") + endpoint();
  std::vector<std::string> argv = {"/usr/bin/etcdctl", "--endpoints=" + url};
  argv.insert(argv.end(), etcdctl_tls_.begin(), etcdctl_tls_.end());
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, stdin_data, {"ETCDCTL_API=3"});
}

}  // namespace revkv::testing
