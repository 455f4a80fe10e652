// `revkv bench scaling` at a tiny size: a row per workload in the table,
// JSON and CSV forms (the figures are not checked: they are measurements),
// the flag errors, and the superlinear limit.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "bench/scaling.h"
#include "gtest/gtest.h"

namespace revkv::bench {
namespace {

const std::set<std::string> kWorkloads = {
    "cli-txn-put", "cli-txn-put-get", "txn-put", "txn-put-get",    "range",
    "delete-range", "compact",        "hash",    "restore",        "restore-rebuild"};

struct Outcome {
  int exit_code = -1;
  std::string out, err;
};

std::string TmpDir() {
  const char* t = std::getenv("TEST_TMPDIR");
  return t != nullptr ? t : "/tmp";
}

Outcome RunScalingCommand(const std::string& args) {
  const std::string err_path = TmpDir() + "/scaling-stderr";
  const std::string cmd = "cmd/revkv/revkv bench scaling " + args + " 2>" + err_path;
  Outcome r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf;
  size_t got;
  while ((got = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), got);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream f(err_path);
  std::stringstream s;
  s << f.rdbuf();
  r.err = s.str();
  return r;
}

std::vector<std::string> Words(const std::string& line) {
  std::vector<std::string> w;
  std::stringstream in(line);
  for (std::string x; in >> x;) w.push_back(x);
  return w;
}

const std::string kTiny = "--keys 16 --rounds 1 --dir " + TmpDir() + "/scaling";

TEST(Scaling, TableHasARowPerWorkloadWithAVerdict) {
  Outcome r = RunScalingCommand(kTiny);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("revkv bench scaling: each workload at N = 16 and 8N = 128", 0), 0u)
      << r.out;
  std::set<std::string> rows;
  bool in_table = false;
  std::stringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    const std::vector<std::string> w = Words(line);
    if (!w.empty() && w[0] == "workload") {
      EXPECT_EQ(w, (std::vector<std::string>{"workload", "us/elem", "N", "us/elem", "8N", "ratio",
                                             "limit", "verdict"}));
      in_table = true;
      continue;
    }
    if (!in_table) continue;
    if (w.empty()) break;
    ASSERT_EQ(w.size(), 6u) << line;
    EXPECT_TRUE(w[5] == "ok" || w[5] == "superlinear") << line;
    EXPECT_TRUE(rows.insert(w[0]).second) << "twice: " << w[0];
  }
  EXPECT_EQ(rows, kWorkloads);
}

TEST(Scaling, JsonHasAnObjectPerWorkload) {
  Outcome r = RunScalingCommand(kTiny + " --json --workloads range,txn-put-get");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::set<std::string> seen;
  std::stringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    const std::string head = "{\"suite\":\"scaling\",\"workload\":\"";
    ASSERT_EQ(line.rfind(head, 0), 0u) << line;
    seen.insert(line.substr(head.size(), line.find('"', head.size()) - head.size()));
    for (const char* f : {"\"n\":16,", "\"us_per_element_n\":", "\"n8\":128,",
                          "\"us_per_element_8n\":", "\"ratio\":", "\"limit\":2.625,",
                          "\"superlinear\":"}) {
      EXPECT_NE(line.find(f), std::string::npos) << f << " in " << line;
    }
    EXPECT_EQ(line.back(), '}');
  }
  EXPECT_EQ(seen, (std::set<std::string>{"range", "txn-put-get"}));
}

TEST(Scaling, CsvHasAHeaderAndARowPerWorkload) {
  Outcome r = RunScalingCommand(kTiny + " --csv --workloads hash");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::stringstream in(r.out);
  std::string header, row, extra;
  std::getline(in, header);
  std::getline(in, row);
  EXPECT_EQ(header, "suite,workload,n,us_per_element_n,n8,us_per_element_8n,ratio,limit,superlinear");
  EXPECT_EQ(row.rfind("scaling,hash,16,", 0), 0u) << row;
  EXPECT_FALSE(std::getline(in, extra)) << extra;
}

TEST(Scaling, FlagErrors) {
  for (const char* bad : {"--plot x.svg", "--workloads frob", "--keys 1", "--rounds 0"}) {
    Outcome r = RunScalingCommand(bad);
    EXPECT_EQ(r.exit_code, 1) << bad;
    EXPECT_EQ(r.err.rfind("Error: ", 0), 0u) << bad << ": " << r.err;
    EXPECT_EQ(r.out, "") << bad;
  }
}

// 1.5 x log2(8N)/log2(N): N = 1,024 -> 1.5 x 13/10.
TEST(Scaling, SuperlinearLimit) {
  EXPECT_DOUBLE_EQ(SuperlinearLimit(1024), 1.95);
  EXPECT_DOUBLE_EQ(SuperlinearLimit(16), 2.625);
}

}  // namespace
}  // namespace revkv::bench
