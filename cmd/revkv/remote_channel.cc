#include "cmd/revkv/remote_channel.h"

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cmd/revkv/exit_status.h"
#include "grpc/support/log.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_certificate_verifier.h"
#include "grpcpp/security/tls_credentials_options.h"

namespace revkv::cli {
namespace {

constexpr char kGrpcCodeUrl[] = "revkv.dev/grpc-code";

// etcd 3.4's rpctypes messages: clientv3 turns these into its own errors,
// printed as the bare message; any other error prints as gRPC's
// "rpc error: code = C desc = M".
bool KnownEtcdError(const std::string& msg) {
  static const auto* known = new absl::flat_hash_set<std::string>{
    "etcdserver: Peer URLs already exists",
    "etcdserver: authentication failed, invalid user ID or password",
    "etcdserver: authentication is not enabled",
    "etcdserver: bad leader transferee",
    "etcdserver: can only promote a learner member which is in sync with leader",
    "etcdserver: can only promote a learner member",
    "etcdserver: corrupt cluster",
    "etcdserver: duplicate key given in txn request",
    "etcdserver: given member URLs are invalid",
    "etcdserver: invalid auth management",
    "etcdserver: invalid auth token",
    "etcdserver: key is not provided",
    "etcdserver: key not found",
    "etcdserver: leader changed",
    "etcdserver: lease already exists",
    "etcdserver: lease is provided",
    "etcdserver: member ID already exist",
    "etcdserver: member not found",
    "etcdserver: mvcc: database space exceeded",
    "etcdserver: mvcc: required revision has been compacted",
    "etcdserver: mvcc: required revision is a future revision",
    "etcdserver: no leader",
    "etcdserver: not capable",
    "etcdserver: not leader",
    "etcdserver: permission denied",
    "etcdserver: permission is not granted to the role",
    "etcdserver: re-configuration failed due to not enough started members",
    "etcdserver: request is too large",
    "etcdserver: request timed out",
    "etcdserver: request timed out, possibly due to connection lost",
    "etcdserver: request timed out, possibly due to previous leader failure",
    "etcdserver: request timed out, waiting for the applied index took too long",
    "etcdserver: requested lease not found",
    "etcdserver: revision of auth store is old",
    "etcdserver: role is not granted to the user",
    "etcdserver: role name already exists",
    "etcdserver: role name is empty",
    "etcdserver: role name not found",
    "etcdserver: root user does not exist",
    "etcdserver: root user does not have root role",
    "etcdserver: rpc not supported for learner",
    "etcdserver: server stopped",
    "etcdserver: too large lease TTL",
    "etcdserver: too many learner members in cluster",
    "etcdserver: too many operations in txn request",
    "etcdserver: too many requests",
    "etcdserver: unhealthy cluster",
    "etcdserver: user name already exists",
    "etcdserver: user name is empty",
    "etcdserver: user name not found",
    "etcdserver: value is provided",
    "etcdserver: watch canceled",
  };
  return known->contains(msg);
}

// Go's codes.Code.String().
const char* GoCodeName(grpc::StatusCode c) {
  static const char* const kNames[] = {
      "OK",         "Canceled",      "Unknown",          "InvalidArgument",   "DeadlineExceeded",
      "NotFound",   "AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
      "Aborted",    "OutOfRange",    "Unimplemented",    "Internal",          "Unavailable",
      "DataLoss",   "Unauthenticated"};
  const int i = int(c);
  return i >= 0 && i < int(std::size(kNames)) ? kNames[i] : "Unknown";
}

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

// The numeric addresses of host:port, as gRPC's ipv6: scheme writes them
// ("[::ffff:127.0.0.1]:2379" for IPv4, so that one list holds both
// families); none if the name does not resolve.
std::vector<std::string> Resolve(const std::string& hostport) {
  const size_t colon = hostport.rfind(':');
  if (colon == std::string::npos) return {};
  std::string host = hostport.substr(0, colon);
  const std::string port = hostport.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0) return {};
  std::vector<std::string> out;
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    char ip[NI_MAXHOST];
    if (getnameinfo(a->ai_addr, a->ai_addrlen, ip, sizeof ip, nullptr, 0, NI_NUMERICHOST) != 0) {
      continue;
    }
    const std::string v6 = a->ai_family == AF_INET ? std::string("::ffff:") + ip : ip;
    std::string addr = "[" + v6 + "]:" + port;
    if (std::find(out.begin(), out.end(), addr) == out.end()) out.push_back(addr);
  }
  freeaddrinfo(res);
  return out;
}

// The gRPC target for the endpoints: one endpoint as given (gRPC's own
// resolver); several as one address list that the round_robin policy
// spreads calls over, skipping the addresses it cannot reach -- as
// clientv3's balancer does, so a dead endpoint fails no command. "" if
// none of several resolves.
std::string ChannelTarget(const std::vector<std::string>& endpoints, bool* https) {
  *https = false;
  std::vector<std::string> addrs;
  for (const std::string& ep : endpoints) {
    bool s = false;
    const std::string t = Target(ep, &s);
    *https = *https || s;
    if (endpoints.size() == 1) return t;
    for (std::string& a : Resolve(t)) {
      if (std::find(addrs.begin(), addrs.end(), a) == addrs.end()) addrs.push_back(std::move(a));
    }
  }
  if (addrs.empty()) return "";
  return "ipv6:" + absl::StrJoin(addrs, ",");
}

}  // namespace

RemoteOptions RemoteOptions::For(const std::string& endpoint) const {
  RemoteOptions o = *this;
  o.endpoints = {endpoint};
  return o;
}

absl::StatusOr<std::unique_ptr<RemoteChannel>> RemoteChannel::Open(const RemoteOptions& o) {
  if (o.endpoints.empty()) return ExitError(kExitError, "no endpoints");
  // gRPC core logs a line to stderr per failed connection attempt (a TLS
  // handshake refused: "Handshake failed ...", "sslv3 alert bad
  // certificate"). etcdctl's stderr has its client log there, which revkv
  // does not print either; what failed shows in the command's error line.
  gpr_set_log_function([](gpr_log_func_args*) {});
  bool https = false;
  std::string target = ChannelTarget(o.endpoints, &https);
  // None of several endpoints resolves: the first fails as one would.
  if (target.empty()) target = Target(o.endpoints[0], &https);
  std::shared_ptr<grpc::ChannelCredentials> creds;
  const bool tls = https || !o.cacert.empty() || !o.cert.empty();
  const bool tls_flags = !o.cacert.empty() || !o.cert.empty() || !o.key.empty();
  if (tls && o.insecure_skip_tls_verify && (tls_flags || !o.insecure_transport)) {
    // Go's InsecureSkipVerify: no chain, no host name check; a client
    // certificate is still presented.
    grpc::experimental::TlsChannelCredentialsOptions opts;
    opts.set_verify_server_certs(false);
    opts.set_check_call_host(false);
    opts.set_certificate_verifier(std::make_shared<grpc::experimental::NoOpCertificateVerifier>());
    if (!o.cert.empty() || !o.key.empty()) {
      absl::StatusOr<std::string> cert = ReadPem(o.cert, "cert");
      if (!cert.ok()) return cert.status();
      absl::StatusOr<std::string> key = ReadPem(o.key, "key");
      if (!key.ok()) return key.status();
      opts.set_certificate_provider(
          std::make_shared<grpc::experimental::StaticDataCertificateProvider>(
              std::vector<grpc::experimental::IdentityKeyCertPair>{{*key, *cert}}));
      opts.watch_identity_key_cert_pairs();
    }
    creds = grpc::experimental::TlsCredentials(opts);
  } else if (tls) {
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
  grpc::ChannelArguments args;
  if (o.endpoints.size() > 1) {
    args.SetLoadBalancingPolicyName("round_robin");
    // TLS checks the first endpoint's name, as a single endpoint's would.
    bool unused = false;
    args.SetString(GRPC_ARG_DEFAULT_AUTHORITY, Target(o.endpoints[0], &unused));
  }
  c->channel_ = grpc::CreateCustomChannel(target, creds, args);
  c->endpoint_ = o.endpoints[0];
  c->timeout_ = o.command_timeout;
  return c;
}

void RemoteChannel::Prepare(grpc::ClientContext* ctx) const {
  ctx->set_wait_for_ready(true);
  ctx->set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout_));
}

absl::Status FromGrpc(const grpc::Status& s) {
  std::string msg = s.error_message();
  if (s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    msg = "context deadline exceeded";
  } else if (!KnownEtcdError(msg)) {
    msg = absl::StrCat("rpc error: code = ", GoCodeName(s.error_code()), " desc = ", msg);
  }
  absl::Status out = ExitError(kExitError, msg);
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
