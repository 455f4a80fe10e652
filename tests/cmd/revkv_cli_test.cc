// The revkv binary as a user runs it: output and exit codes.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

#include "gtest/gtest.h"
#include "version.h"

namespace {

struct Result {
  int exit_code;
  std::string out;
};

// Runs the revkv binary from the test's runfiles with `args`, capturing stdout.
Result RunRevkv(const std::string& args) {
  std::string cmd = "cmd/revkv/revkv " + args + " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  Result r{-1, ""};
  if (p == nullptr) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// etcdctl 3.4.23's `etcdctl version` prints "etcdctl version: 3.4.23\nAPI
// version: 3.4\n"; revkv keeps those two lines (the etcdctl it follows) and
// adds its own release.
TEST(RevkvCli, VersionPrintsEtcdctlApiAndRevkvVersions) {
  const std::string want = std::string("etcdctl version: ") + revkv::kEtcdctlVersion +
                           "\nAPI version: " + revkv::kApiVersion +
                           "\nrevkv version: " + revkv::kVersion + "\n";
  for (const char* args : {"version", "--version", "-w json version"}) {
    Result r = RunRevkv(args);
    EXPECT_EQ(r.exit_code, 0) << args;
    EXPECT_EQ(r.out, want) << args;
  }
}

TEST(RevkvCli, UnknownCommandFails) {
  Result r = RunRevkv("frobnicate");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(r.out.empty());
}

}  // namespace
