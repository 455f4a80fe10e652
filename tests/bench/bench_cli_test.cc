// `revkv bench` as a user runs it: suite dispatch, errors, JSON output.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "gtest/gtest.h"

namespace {

struct Result {
  int exit_code;
  std::string out;  // stdout, or stderr when asked
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

size_t Lines(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

constexpr char kTiny[] =
    "--keys 2000 --batch 500 --rounds 1 --gets 2000 --commits 5 --duration 0.1 "
    "--scan-entries 2000";

TEST(BenchCli, UnknownSuiteFails) {
  Result r = RunRevkv("bench frob", /*capture_stderr=*/true);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "Error: unknown bench subcommand \"frob\"\n");
}

TEST(BenchCli, HelpPrintsUsage) {
  Result r = RunRevkv("bench --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("revkv bench [subcommand] [flags]"), std::string::npos);
  for (const char* sub :
       {"suite", "put", "range", "txn-put", "mixed", "btree", "mvcc", "backend", "scaling"}) {
    EXPECT_NE(r.out.find(std::string("\t") + sub + "\t"), std::string::npos) << sub;
  }
  EXPECT_EQ(RunRevkv("bench help").out, r.out);
  EXPECT_EQ(RunRevkv("bench put --help").out, r.out);
  Result b = RunRevkv("bench btree --help");
  EXPECT_EQ(b.exit_code, 0);
  EXPECT_NE(b.out.find("--scan-entries"), std::string::npos);
}

TEST(BenchCli, BadFlagFails) {
  Result r = RunRevkv("bench btree --keys=abc", /*capture_stderr=*/true);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out.rfind("Error: ", 0), 0u) << r.out;
}

TEST(BenchCli, BtreeJsonHasOneLinePerWorkloadAndEngine) {
  Result r = RunRevkv(std::string("bench btree --json ") + kTiny);
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(Lines(r.out), 20u) << r.out;
  EXPECT_EQ(r.out.rfind("{\"suite\":\"btree\",\"workload\":\"seq-put\",\"engine\":\"revkv\"", 0), 0u);
}

// The btree suite shares the output flags: CSV and the plot.
TEST(BenchCli, BtreeCsvAndPlot) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string svg = std::string(tmp != nullptr ? tmp : "/tmp") + "/btree.svg";
  Result r = RunRevkv(std::string("bench btree --csv --plot=") + svg + " " + kTiny);
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(Lines(r.out), 21u) << r.out;  // header + 10 workloads x 2 engines
  EXPECT_EQ(r.out.rfind("suite,workload,engine,n,", 0), 0u);
  EXPECT_NE(r.out.find("\nbtree,get-rand,lmdb,2000,"), std::string::npos) << r.out;
  FILE* f = std::fopen(svg.c_str(), "r");
  ASSERT_NE(f, nullptr);
  std::string text(1 << 20, '\0');
  text.resize(std::fread(text.data(), 1, text.size(), f));
  std::fclose(f);
  EXPECT_EQ(text.rfind("<svg", 0), 0u);
  EXPECT_NE(text.find("<g data-workload=\"concurrent-read\">"), std::string::npos);
  EXPECT_NE(text.find("<polyline"), std::string::npos);
}

TEST(BenchCli, BareBenchRunsTheSuiteTable) {
  Result r = RunRevkv("bench --keys 2000 --duration 0.05");
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("revkv bench suite: 2,000 keys", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("\nworkload "), std::string::npos);
  EXPECT_NE(r.out.find("\nmixed-read "), std::string::npos);
  EXPECT_NE(r.out.find("\ncompact "), std::string::npos);
}

// The layer suites share the flag parser and the output formats.
TEST(BenchCli, LayerSuitesShareFlagsAndFormats) {
  Result mvcc = RunRevkv("bench mvcc --keys=2000 --csv");
  ASSERT_EQ(mvcc.exit_code, 0);
  EXPECT_EQ(mvcc.out.rfind("suite,workload,engine,", 0), 0u) << mvcc.out;
  EXPECT_NE(mvcc.out.find("\nmvcc,range-point,revkv,"), std::string::npos) << mvcc.out;
  EXPECT_NE(mvcc.out.find("\nmvcc,restore,revkv,1,"), std::string::npos) << mvcc.out;
  Result bad = RunRevkv("bench backend --keys abc", /*capture_stderr=*/true);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(bad.out, "Error: invalid value \"abc\" for flag --keys\n");
  EXPECT_EQ(RunRevkv("bench mvcc --rounds 2", true).out, "Error: unknown flag: --rounds\n");
}

// Each subcommand reports its own workloads, on LMDB too where they exist.
TEST(BenchCli, SubcommandsReportTheirWorkloads) {
  const std::string tiny = " --json --keys 1000 --duration 0.05 --range-keys 100";
  Result put = RunRevkv("bench put" + tiny);
  ASSERT_EQ(put.exit_code, 0);
  EXPECT_EQ(Lines(put.out), 2u) << put.out;
  EXPECT_NE(put.out.find("\"suite\":\"put\",\"workload\":\"put\",\"engine\":\"lmdb\""),
            std::string::npos);
  Result range = RunRevkv("bench range --scale 1" + tiny);
  ASSERT_EQ(range.exit_code, 0);
  // range-point, range-100 on both; range-old, base-build (the base's round after the load)
  EXPECT_EQ(Lines(range.out), 6u) << range.out;
  EXPECT_NE(range.out.find("\"workload\":\"range-100\",\"engine\":\"lmdb\""), std::string::npos);
  Result txn = RunRevkv("bench txn-put --txn-ops 3" + tiny);
  ASSERT_EQ(txn.exit_code, 0);
  EXPECT_EQ(Lines(txn.out), 2u) << txn.out;  // txn-put, base-build
  Result mixed = RunRevkv("bench mixed --readers=3 --lmdb=false" + tiny);
  ASSERT_EQ(mixed.exit_code, 0);
  EXPECT_EQ(Lines(mixed.out), 3u) << mixed.out;  // mixed-read, mixed-write, base-build; revkv only
  EXPECT_EQ(mixed.out.find("lmdb"), std::string::npos);
}

// The --scale section: after the main table, the cost per op at N and 4N
// (--quick: 20,000 and 80,000 keys); --scale 1 leaves it out.
TEST(BenchCli, QuickSuitePrintsTheScalingTable) {
  Result r = RunRevkv("bench --quick");
  ASSERT_EQ(r.exit_code, 0);
  const size_t main_table = r.out.find("\nworkload ");
  const size_t section =
      r.out.find("\nscaling: cost per operation in µs at N = 20,000 and 4N = 80,000 keys\n");
  ASSERT_NE(main_table, std::string::npos) << r.out;
  ASSERT_NE(section, std::string::npos) << r.out;
  EXPECT_LT(main_table, section);
  const std::string tail = r.out.substr(section);
  EXPECT_NE(tail.find("\nworkload  "), std::string::npos) << tail;
  EXPECT_NE(tail.find("revkv µs/op N"), std::string::npos) << tail;
  EXPECT_NE(tail.find("lmdb µs/op N"), std::string::npos) << tail;
  for (const char* row : {"\nput (load) ", "\nrange-point ", "\nrange-1000 ",
                          "\nrange-1000 per key "}) {
    const size_t at = tail.find(row);
    ASSERT_NE(at, std::string::npos) << row << " in " << tail;
    const std::string line = tail.substr(at + 1, tail.find('\n', at + 1) - at - 1);
    EXPECT_EQ(line.find(" - "), std::string::npos) << "a figure is missing: " << line;
  }

  Result off = RunRevkv("bench --quick --scale 1");
  ASSERT_EQ(off.exit_code, 0);
  EXPECT_NE(off.out.find("\nworkload "), std::string::npos);
  EXPECT_EQ(off.out.find("scaling:"), std::string::npos) << off.out;
  EXPECT_EQ(off.out.find("4N"), std::string::npos) << off.out;
}

TEST(BenchCli, ProgressHasNoControlCharacters) {
  Result r = RunRevkv(std::string("bench btree ") + kTiny, /*capture_stderr=*/true);
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_GT(Lines(r.out), 10u);
  for (char c : r.out) EXPECT_TRUE(c == '\n' || static_cast<unsigned char>(c) >= 0x20) << int(c);
}

}  // namespace
