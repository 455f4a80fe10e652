// The revkv command-line tool: `bench` (bench/) and the etcdctl-compatible
// commands (cli.h).
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include <iostream>

#include "bench/btree_suite.h"
#include "bench/mvcc_suite.h"
#include "cmd/revkv/cli.h"
#include "version.h"

namespace {

void PrintVersion() {
  std::printf("revkv version: %s\nAPI version: %s\n", revkv::kVersion,
              revkv::kApiVersion);
}

// `revkv bench [suite] [flags]`: args are the words after "bench". With no
// suite (or only flags) the btree suite runs.
int Bench(const std::vector<std::string>& args) {
  if (args.empty() || args[0].rfind("-", 0) == 0) return revkv::bench::BtreeSuiteMain(args);
  const std::string& suite = args[0];
  if (suite == "help") {
    std::printf("%s", revkv::bench::kBenchUsage);
    return 0;
  }
  if (suite == "btree") {
    return revkv::bench::BtreeSuiteMain(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (suite == "mvcc") return revkv::bench::MvccSuiteMain(rest);
  if (suite == "backend") return revkv::bench::BackendSuiteMain(rest);
  std::fprintf(stderr, "Error: unknown bench suite \"%s\"\n", suite.c_str());
  return 1;
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
    return Bench(std::vector<std::string>(argv + 2, argv + argc));
  }
  return revkv::cli::RunCli(std::vector<std::string>(argv + 1, argv + argc), std::cin,
                           std::cout, std::cerr);
}
