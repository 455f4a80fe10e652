#include "cmd/revkv/remote_channel.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cmd/revkv/exit_status.h"

namespace revkv::cli {
namespace {

constexpr char kGrpcCodeUrl[] = "revkv.dev/grpc-code";

absl::StatusOr<std::string> ReadPem(const std::string& path, const char* flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return ExitError(kExitError, absl::StrCat("open ", path, " (--", flag, "): cannot read"));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// etcdctl's endpoint forms: host:port, http://host:port, https://host:port.
std::string Target(const std::string& endpoint, bool* https) {
  *https = absl::StartsWith(endpoint, "https://");
  for (const char* scheme : {"http://", "https://"}) {
    if (absl::StartsWith(endpoint, scheme)) return endpoint.substr(std::string(scheme).size());
  }
  return endpoint;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RemoteChannel>> RemoteChannel::Open(const RemoteOptions& o) {
  if (o.endpoints.empty()) return ExitError(kExitError, "no endpoints");
  bool https = false;
  // etcdctl balances over its endpoints; the first one serves here.
  const std::string target = Target(o.endpoints[0], &https);
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (https || !o.cacert.empty() || !o.cert.empty()) {
    grpc::SslCredentialsOptions ssl;
    if (!o.cacert.empty()) {
      absl::StatusOr<std::string> pem = ReadPem(o.cacert, "cacert");
      if (!pem.ok()) return pem.status();
      ssl.pem_root_certs = *pem;
    }
    if (!o.cert.empty() || !o.key.empty()) {
      absl::StatusOr<std::string> cert = ReadPem(o.cert, "cert");
      if (!cert.ok()) return cert.status();
      absl::StatusOr<std::string> key = ReadPem(o.key, "key");
      if (!key.ok()) return key.status();
      ssl.pem_cert_chain = *cert;
      ssl.pem_private_key = *key;
    }
    creds = grpc::SslCredentials(ssl);
  } else {
    creds = grpc::InsecureChannelCredentials();
  }
  std::unique_ptr<RemoteChannel> c(new RemoteChannel);
  c->channel_ = grpc::CreateChannel(target, creds);
  c->endpoint_ = o.endpoints[0];
  c->timeout_ = o.command_timeout;
  return c;
}

void RemoteChannel::Prepare(grpc::ClientContext* ctx) const {
  ctx->set_wait_for_ready(true);
  ctx->set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout_));
}

absl::Status FromGrpc(const grpc::Status& s) {
  absl::Status out = s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED
                         ? ExitError(kExitError, "context deadline exceeded")
                         : ExitError(kExitError, s.error_message());
  out.SetPayload(kGrpcCodeUrl, absl::Cord(std::to_string(int(s.error_code()))));
  return out;
}

grpc::StatusCode GrpcCodeOf(const absl::Status& s) {
  auto p = s.GetPayload(kGrpcCodeUrl);
  int code = 0;
  if (!p.has_value() || !absl::SimpleAtoi(std::string(*p), &code)) return grpc::StatusCode::UNKNOWN;
  return grpc::StatusCode(code);
}

}  // namespace revkv::cli
