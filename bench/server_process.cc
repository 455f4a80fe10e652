#include "bench/server_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "server/proto/rpc.grpc.pb.h"

namespace revkv::bench {
namespace {

constexpr auto kPoll = std::chrono::milliseconds(50);
constexpr auto kStopWait = std::chrono::seconds(10);

// True if the process has exited (and is reaped).
bool Exited(pid_t pid) {
  int status = 0;
  return waitpid(pid, &status, WNOHANG) == pid;
}

}  // namespace

int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  close(fd);
  return port;
}

absl::StatusOr<std::unique_ptr<ServerProcess>> ServerProcess::Start(
    const std::vector<std::string>& argv, const std::string& log_path, int client_port,
    double ready_timeout_s) {
  absl::StatusOr<std::unique_ptr<ServerProcess>> p = Spawn(argv, log_path, client_port);
  if (!p.ok()) return p.status();
  if (absl::Status s = (*p)->WaitReady(ready_timeout_s); !s.ok()) return s;
  return p;
}

absl::StatusOr<std::unique_ptr<ServerProcess>> ServerProcess::Spawn(
    const std::vector<std::string>& argv, const std::string& log_path, int client_port) {
  if (access(argv[0].c_str(), X_OK) != 0) {
    return absl::NotFoundError("bench server: no executable " + argv[0]);
  }
  std::unique_ptr<ServerProcess> p(new ServerProcess(argv, log_path, client_port));
  if (absl::Status s = p->Exec(/*truncate_log=*/true); !s.ok()) return s;
  return p;
}

absl::Status ServerProcess::Exec(bool truncate_log) {
  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError("bench server: fork failed");
  if (pid == 0) {
    const int fd =
        open(log_path_.c_str(), O_WRONLY | O_CREAT | (truncate_log ? O_TRUNC : O_APPEND), 0600);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    std::vector<char*> c;
    for (const std::string& a : argv_) c.push_back(const_cast<char*>(a.c_str()));
    c.push_back(nullptr);
    execv(c[0], c.data());
    _exit(127);
  }
  pid_ = pid;
  return absl::OkStatus();
}

absl::Status ServerProcess::WaitReady(double timeout_s) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(int64_t(timeout_s * 1000));
  // A bounded poll for readiness: the server is another process, with
  // nothing to wait on but its port.
  while (std::chrono::steady_clock::now() < deadline) {
    // A fresh connection each time: one that failed would wait out gRPC's
    // reconnect backoff (growing to seconds) before trying again.
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    auto stub = etcdserverpb::Maintenance::NewStub(
        grpc::CreateCustomChannel(endpoint_, grpc::InsecureChannelCredentials(), args));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
    etcdserverpb::StatusRequest req;
    etcdserverpb::StatusResponse resp;
    if (stub->Status(&ctx, req, &resp).ok()) return absl::OkStatus();
    if (pid_ <= 0 || Exited(pid_)) {
      pid_ = -1;
      return absl::UnavailableError("bench server: " + argv_[0] + " exited; see " + log_path_);
    }
    std::this_thread::sleep_for(kPoll);
  }
  return absl::UnavailableError("bench server: " + argv_[0] + " did not answer within " +
                                std::to_string(int(timeout_s)) + " s; see " + log_path_);
}

ServerProcess::~ServerProcess() { Stop(); }

void ServerProcess::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + kStopWait;
  while (!Exited(pid_)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      Kill();
      return;
    }
    std::this_thread::sleep_for(kPoll);
  }
  pid_ = -1;
}

void ServerProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

absl::Status ServerProcess::Restart() {
  if (pid_ > 0) return absl::FailedPreconditionError("bench server: " + endpoint_ + " still runs");
  return Exec(/*truncate_log=*/false);
}

}  // namespace revkv::bench
