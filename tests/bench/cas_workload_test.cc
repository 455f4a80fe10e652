// `revkv bench cas` in-process at a tiny size: a row per client count, each
// with both engines' positive ops/s and latencies, a line per (client count,
// engine) in the JSON form, and the flag errors. The figures themselves are
// measurements and are not checked. Tagged "concurrency": CI runs it under
// TSan (the clients are threads on one store).
#include "bench/cas_workload.h"

#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace revkv::bench {
namespace {

std::string TmpDir() {
  const char* t = std::getenv("TEST_TMPDIR");
  return t != nullptr ? t : "/tmp";
}

TEST(CasWorkload, ARowPerClientCountWithBothEngines) {
  absl::StatusOr<CasOptions> o = ParseCasFlags(
      {"--clients", "1,3,8", "--keys", "64", "--duration", "0.05", "--dir", TmpDir() + "/cas"});
  ASSERT_TRUE(o.ok()) << o.status();
  Progress silent = Progress::Silent();
  absl::StatusOr<Report> r = RunCas(*o, silent);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->suite, "cas");
  ASSERT_EQ(r->rows.size(), 3u);
  const std::vector<std::string> names = {"cas-1", "cas-3", "cas-8"};
  for (size_t i = 0; i < names.size(); ++i) {
    const Row& row = r->rows[i];
    EXPECT_EQ(row.workload, names[i]);
    EXPECT_EQ(row.revkv.engine, "revkv");
    EXPECT_GT(row.revkv.n, 0) << row.workload;
    EXPECT_GT(row.revkv.ops_per_s, 0) << row.workload;
    EXPECT_GT(row.revkv.p99_us, 0) << row.workload;
    ASSERT_TRUE(row.peer.has_value()) << row.workload;
    EXPECT_EQ(row.peer->engine, "lmdb");
    EXPECT_GT(row.peer->ops_per_s, 0) << row.workload;
    EXPECT_GT(row.peer->p99_us, 0) << row.workload;
    EXPECT_GT(row.ratio, 0) << row.workload;
  }
  // The shared formats: a JSON line per (client count, engine).
  std::istringstream json(FormatJson(*r));
  int lines = 0;
  for (std::string line; std::getline(json, line);) {
    EXPECT_NE(line.find("\"suite\":\"cas\""), std::string::npos) << line;
    EXPECT_NE(line.find("\"ops_per_s\":"), std::string::npos) << line;
    ++lines;
  }
  EXPECT_EQ(lines, 6);
  const std::string table = FormatTable(*r);
  for (const std::string& n : names) EXPECT_NE(table.find(n), std::string::npos) << table;
}

TEST(CasWorkload, RevkvAlone) {
  absl::StatusOr<CasOptions> o = ParseCasFlags({"--clients=2", "--keys=8", "--duration=0.02",
                                                "--lmdb=false", "--dir=" + TmpDir() + "/cas1"});
  ASSERT_TRUE(o.ok()) << o.status();
  Progress silent = Progress::Silent();
  absl::StatusOr<Report> r = RunCas(*o, silent);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->rows.size(), 1u);
  EXPECT_GT(r->rows[0].revkv.ops_per_s, 0);
  EXPECT_FALSE(r->rows[0].peer.has_value());
}

TEST(CasWorkload, FlagErrors) {
  EXPECT_FALSE(ParseCasFlags({"--clients", "1,x"}).ok());
  EXPECT_FALSE(ParseCasFlags({"--clients", "0"}).ok());
  EXPECT_FALSE(ParseCasFlags({"--clients", "4,4"}).ok());
  EXPECT_FALSE(ParseCasFlags({"--clients", ","}).ok());
  EXPECT_FALSE(ParseCasFlags({"--clients", "64", "--keys", "10"}).ok());
  EXPECT_FALSE(ParseCasFlags({"--duration", "0"}).ok());
  absl::StatusOr<CasOptions> o = ParseCasFlags({"--quick"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->clients, (std::vector<uint64_t>{1, 8, 64}));
  EXPECT_EQ(o->common.keys, 1000u);
  EXPECT_EQ(o->duration_s, 0.25);
}

}  // namespace
}  // namespace revkv::bench
