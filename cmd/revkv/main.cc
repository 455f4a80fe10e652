// The revkv command-line tool. Until the engine exists it prints its version
// and usage; later steps add the etcdctl-compatible commands and `bench`.
#include <cstdio>
#include <cstring>
#include <string_view>

#include "version.h"

namespace {

constexpr char kUsage[] =
    "NAME:\n"
    "\trevkv - an embedded, etcd-style MVCC storage engine\n"
    "\n"
    "USAGE:\n"
    "\trevkv [--data-dir DIR] [-w simple|json] <command> [args] [flags]\n"
    "\n"
    "COMMANDS:\n"
    "\tversion\tPrints the version of revkv\n"
    "\thelp\tPrints this help\n";

void PrintVersion() {
  std::printf("revkv version: %s\nAPI version: %s\n", revkv::kVersion,
              revkv::kApiVersion);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    PrintVersion();
    std::printf("\n%s", kUsage);
    return 0;
  }
  std::string_view command = argv[1];
  if (command == "version" || command == "--version") {
    PrintVersion();
    return 0;
  }
  if (command == "help" || command == "--help" || command == "-h") {
    std::printf("%s", kUsage);
    return 0;
  }
  std::fprintf(stderr, "Error: unknown command \"%s\" for \"revkv\"\n",
               argv[1]);
  return 1;
}
