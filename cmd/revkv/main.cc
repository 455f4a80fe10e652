// The revkv command-line tool: `bench` (bench/) and the etcdctl-compatible
// commands (cli.h).
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <iostream>

#include "bench/bench_cli.h"
#include "cmd/revkv/cli.h"
#include "version.h"

namespace {

void PrintVersion() {
  std::printf("revkv version: %s\nAPI version: %s\n", revkv::kVersion,
              revkv::kApiVersion);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    PrintVersion();
    std::printf("\n%s", revkv::cli::RootUsage().c_str());
    return 0;
  }
  std::string_view command = argv[1];
  if (command == "version" || command == "--version") {
    PrintVersion();
    return 0;
  }
  if (command == "bench") {
    return revkv::bench::RunBench(std::vector<std::string>(argv + 2, argv + argc));
  }
  return revkv::cli::RunCli(std::vector<std::string>(argv + 1, argv + argc), std::cin,
                           std::cout, std::cerr);
}
