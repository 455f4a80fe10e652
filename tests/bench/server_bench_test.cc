// `revkv bench server` as a user runs it: `revkv serve` (and etcd, when
// installed) started, loaded and driven on loopback, a row per workload and
// engine with every call answered, bad flags and a missing server binary
// named in the error.
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <regex>
#include <string>

#include "gtest/gtest.h"

namespace {

struct Result {
  int exit_code;
  std::string out;
};

Result RunRevkv(const std::string& args, bool capture_stderr = false) {
  std::string cmd = "cmd/revkv/revkv " + args;
  cmd += capture_stderr ? " 2>&1 >/dev/null" : " 2>/dev/null";
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

constexpr char kTiny[] =
    "bench server --keys 300 --duration 0.1 --put-clients 1,8 --range-clients 8 "
    "--txn-clients 4 --conns 2";

// The (workload, engine) pairs of the JSON lines, each checked to have
// answered calls.
std::vector<std::string> Rows(const std::string& out) {
  static const std::regex kLine(
      "\"workload\":\"([a-z0-9-]+)\",\"engine\":\"([a-z]+)\",\"n\":([0-9.]+)");
  std::vector<std::string> rows;
  for (auto it = std::sregex_iterator(out.begin(), out.end(), kLine); it != std::sregex_iterator();
       ++it) {
    EXPECT_GT(std::stod((*it)[3]), 0) << (*it)[0];
    rows.push_back(std::string((*it)[1]) + "/" + std::string((*it)[2]));
  }
  return rows;
}

TEST(ServerBench, RevkvAloneAnswersEveryWorkload) {
  Result r = RunRevkv(std::string(kTiny) + " --json --etcd none");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(Rows(r.out),
            (std::vector<std::string>{"put-c1/revkv", "put-c8/revkv", "range-c8-linearizable/revkv",
                                      "range-c8-serializable/revkv", "txn-c4/revkv"}))
      << r.out;
}

TEST(ServerBench, AgainstEtcdBothEnginesAnswer) {
  if (access("/usr/bin/etcd", X_OK) != 0) GTEST_SKIP() << "etcd is not installed";
  Result r = RunRevkv(std::string(kTiny) + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::vector<std::string> rows = Rows(r.out);
  EXPECT_EQ(rows.size(), 10u) << r.out;
  for (const char* row : {"put-c1/etcd", "txn-c4/etcd", "put-c8/revkv"}) {
    EXPECT_NE(std::find(rows.begin(), rows.end(), row), rows.end()) << row << "\n" << r.out;
  }
  // Every call answered: no failure is reported below the table.
  Result table = RunRevkv(std::string(kTiny));
  EXPECT_EQ(table.out.find("calls failed"), std::string::npos) << table.out;
}

TEST(ServerBench, BadFlagsAndAMissingServerAreNamed) {
  EXPECT_EQ(RunRevkv("bench server --put-clients 0", true).out,
            "Error: flag --put-clients: \"0\" is not a client count in [1, 10000]\n");
  EXPECT_EQ(RunRevkv("bench server --conns 0", true).out,
            "Error: flag --conns must be in [1, 10000]\n");
  Result missing = RunRevkv("bench server --quick --revkv /nonexistent/revkv", true);
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.out.find("/nonexistent/revkv"), std::string::npos) << missing.out;
}

}  // namespace
