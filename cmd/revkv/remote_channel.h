// The connection of client mode (remote_kv.h, remote_lease.cc,
// remote_maintenance.cc, remote_member*.cc, remote_watch*.cc): one gRPC
// channel over all of --endpoints (calls go to those that answer; the
// per-endpoint commands of remote_endpoint.cc open one per endpoint), TLS
// when --cacert/--cert/--key or an https:// endpoint asks for it, and
// per-call contexts bounded by --command-timeout.
//
// Errors from the server become ExitError statuses (exit_status.h) with the
// server's message, as etcdctl prints it; a call that ends at the command
// timeout says "context deadline exceeded". The gRPC code is kept in the
// status's payload (GrpcCodeOf) so callers tell errors apart by code.
//
// Thread-safety: a RemoteChannel may be shared by threads (gRPC channels
// and stubs are thread-safe); Prepare only reads.
#ifndef REVKV_CMD_REVKV_REMOTE_CHANNEL_H_
#define REVKV_CMD_REVKV_REMOTE_CHANNEL_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"

namespace revkv::cli {

struct RemoteOptions {
  std::vector<std::string> endpoints;  // host:port, or http(s)://host:port
  absl::Duration command_timeout = absl::Seconds(5);
  std::string cacert, cert, key;       // PEM files; cacert enables TLS
  // --insecure-skip-tls-verify skips verifying the server's certificate
  // where etcdctl 3.4 would: with a TLS flag above or
  // --insecure-transport=false, not for an https:// endpoint alone. (An
  // endpoint without a scheme gets TLS from cacert/cert only, not from
  // --insecure-transport=false as in etcdctl.)
  bool insecure_transport = true;
  bool insecure_skip_tls_verify = false;
  // The same options for `endpoint` alone (the per-endpoint commands).
  RemoteOptions For(const std::string& endpoint) const;
};

class RemoteChannel {
 public:
  // Fails only on bad options (no endpoint, an unreadable certificate
  // file); the connection is made by the first call.
  static absl::StatusOr<std::unique_ptr<RemoteChannel>> Open(const RemoteOptions& options);

  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  // The first endpoint, as given (the one named in errors).
  const std::string& endpoint() const { return endpoint_; }
  absl::Duration timeout() const { return timeout_; }

  // Readies a context for one call: it waits for the connection (etcdctl
  // retries until its command timeout) and ends at the command timeout.
  void Prepare(grpc::ClientContext* ctx) const;
  // Readies a context for a stream that lives until the process ends
  // (lease keep-alive, watch): it waits for the connection, unbounded.
  static void PrepareStream(grpc::ClientContext* ctx) { ctx->set_wait_for_ready(true); }

 private:
  RemoteChannel() = default;
  std::shared_ptr<grpc::Channel> channel_;
  std::string endpoint_;
  absl::Duration timeout_;
};

// A stub of `Service` (an etcdserverpb service) on a new connection; the
// connection lives as long as the stub is used.
template <typename Service>
struct Stubbed {
  std::unique_ptr<RemoteChannel> conn;
  std::unique_ptr<typename Service::Stub> stub;
};
template <typename Service>
absl::StatusOr<Stubbed<Service>> Dial(const RemoteOptions& options) {
  absl::StatusOr<std::unique_ptr<RemoteChannel>> conn = RemoteChannel::Open(options);
  if (!conn.ok()) return conn.status();
  Stubbed<Service> s;
  s.conn = *std::move(conn);
  s.stub = Service::NewStub(s.conn->channel());
  return s;
}

// The error etcdctl prints for a failed call: the server's message, or
// "context deadline exceeded"; exit code 1. The gRPC code rides along.
absl::Status FromGrpc(const grpc::Status& s);
// The gRPC code of a status made by FromGrpc (UNKNOWN for any other).
grpc::StatusCode GrpcCodeOf(const absl::Status& s);

}  // namespace revkv::cli

#endif  // REVKV_CMD_REVKV_REMOTE_CHANNEL_H_
