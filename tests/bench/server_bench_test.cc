// `revkv bench server` as a user runs it: `revkv serve` (and etcd, when
// installed) started, loaded and driven on loopback, a row per workload and
// engine with every call answered, bad flags and a missing server binary
// named in the error.
#include <unistd.h>

#include <algorithm>
#include <regex>
#include <string>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/cmd/process.h"

namespace {

using revkv::testing::ProcessResult;

// `revkv` with the words of `args` (no quoting needed by these tests).
ProcessResult RunRevkv(const std::string& args) {
  std::vector<std::string> argv = {revkv::testing::RevkvPath()};
  for (absl::string_view w : absl::StrSplit(args, ' ', absl::SkipEmpty())) argv.emplace_back(w);
  return revkv::testing::RunProcess(argv, "");
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
  ProcessResult r = RunRevkv(std::string(kTiny) + " --json --etcd none");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(Rows(r.out),
            (std::vector<std::string>{"put-c1/revkv", "put-c8/revkv", "range-c8-linearizable/revkv",
                                      "range-c8-serializable/revkv", "txn-c4/revkv"}))
      << r.out;
}

TEST(ServerBench, AgainstEtcdBothEnginesAnswer) {
  if (access("/usr/bin/etcd", X_OK) != 0) GTEST_SKIP() << "etcd is not installed";
  ProcessResult r = RunRevkv(std::string(kTiny) + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::vector<std::string> rows = Rows(r.out);
  EXPECT_EQ(rows.size(), 10u) << r.out;
  for (const char* row : {"put-c1/etcd", "txn-c4/etcd", "put-c8/revkv"}) {
    EXPECT_NE(std::find(rows.begin(), rows.end(), row), rows.end()) << row << "\n" << r.out;
  }
  // Every call answered: no failure is reported below the table.
  ProcessResult table = RunRevkv(std::string(kTiny));
  EXPECT_EQ(table.out.find("calls failed"), std::string::npos) << table.out;
}

TEST(ServerBench, AClusterAnswersEveryWorkloadAndTimesAFailover) {
  ProcessResult r = RunRevkv(std::string(kTiny) + " --json --etcd none --cluster 3 --failovers 1");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(Rows(r.out), (std::vector<std::string>{"put-c1/revkv", "put-c8/revkv",
                                                   "range-c8-linearizable/revkv",
                                                   "range-c8-serializable/revkv", "txn-c4/revkv",
                                                   "failover/revkv"}))
      << r.out;
  // The failover took at least the election timeout (1 s): the leader was
  // really killed and a new one elected before the write was answered.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.out, m,
                                std::regex("\"workload\":\"failover\".*?\"p50_us\":([0-9.]+)")))
      << r.out;
  EXPECT_GE(std::stod(m[1]), 1e6) << r.out;
  EXPECT_LT(std::stod(m[1]), 30e6) << r.out;
}

TEST(ServerBench, BadFlagsAndAMissingServerAreNamed) {
  EXPECT_EQ(RunRevkv("bench server --put-clients 0").err,
            "Error: flag --put-clients: \"0\" is not a client count in [1, 10000]\n");
  EXPECT_EQ(RunRevkv("bench server --conns 0").err, "Error: flag --conns must be in [1, 10000]\n");
  EXPECT_EQ(RunRevkv("bench server --cluster 2").err,
            "Error: flag --cluster must be 1 or a member count in [3, 7]\n");
  EXPECT_EQ(RunRevkv("bench server --failovers 2").err,
            "Error: flag --failovers needs --cluster 3 or more\n");
  ProcessResult missing = RunRevkv("bench server --quick --revkv /nonexistent/revkv");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.LastErrLine().find("/nonexistent/revkv"), std::string::npos) << missing.err;
}

}  // namespace
