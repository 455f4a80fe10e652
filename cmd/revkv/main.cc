// The revkv command-line tool: `serve` (server/), `bench` (bench/) and the etcdctl-compatible
// commands (cli.h), `version` among them.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "bench/bench_cli.h"
#include "cmd/revkv/cli.h"
#include "cmd/revkv/serve_command.h"
#include "openssl/crypto.h"

int main(int argc, char** argv) {
#ifdef NDEBUG
  // Debian builds Abseil without NDEBUG, so absl::Mutex records the lock
  // order on every acquisition to detect deadlocks. Optimised builds drop
  // that cost; debug builds (the tests run them) keep the detection.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
#endif
  // gRPC resolves host names with getaddrinfo (as etcd's Go client does),
  // not c-ares: c-ares loses memory when a call's deadline ends a lookup
  // (LeakSanitizer found it in client mode with --cluster). Set before
  // gRPC's first use; a GRPC_DNS_RESOLVER the user set stays.
  setenv("GRPC_DNS_RESOLVER", "native", /*overwrite=*/0);
  // OpenSSL frees its locks at exit by default, while gRPC's threads may
  // still be in a TLS handshake (client mode retrying a refused one until
  // its command timeout, then returning): they crashed on the freed locks
  // (SIGSEGV/SIGABRT after "Error: context deadline exceeded"). Nothing
  // needs OpenSSL's cleanup: the process ends. First OpenSSL call.
  OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, nullptr);
  if (argc < 2) {
    std::printf("%s\n%s", revkv::cli::VersionText().c_str(), revkv::cli::RootUsage().c_str());
    return 0;
  }
  std::string_view command = argv[1];
  if (command == "serve") {
    return revkv::cli::RunServe(std::vector<std::string>(argv + 2, argv + argc));
  }
  if (command == "bench") {
    return revkv::bench::RunBench(std::vector<std::string>(argv + 2, argv + argc));
  }
  return revkv::cli::RunCli(std::vector<std::string>(argv + 1, argv + argc), std::cin,
                           std::cout, std::cerr);
}
