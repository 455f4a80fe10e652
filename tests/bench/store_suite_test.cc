// `revkv bench suite` and its subcommands in-process on a tiny data set, two
// rounds: every workload on the engines it exists on, medians and ratios
// filled in. Tagged "concurrency": CI runs it under TSan (mixed starts
// reader threads against a writer on both engines).
#include "bench/store_suite.h"

#include <cstdlib>
#include <set>
#include <string>

#include "gtest/gtest.h"

namespace revkv::bench {
namespace {

StoreBenchOptions Tiny(const std::string& sub) {
  absl::StatusOr<StoreBenchOptions> o = ParseStoreBenchFlags(
      sub, {"--keys=1500", "--rounds=2", "--duration=0.05", "--range-keys=50", "--batch=200"});
  EXPECT_TRUE(o.ok()) << o.status();
  const char* tmp = std::getenv("TEST_TMPDIR");
  if (tmp != nullptr) o->common.dir = std::string(tmp) + "/" + sub;
  return *o;
}

TEST(StoreSuite, EveryWorkloadOnEveryEngineItExistsOn) {
  Progress silent = Progress::Silent();
  absl::StatusOr<Report> r = RunStoreBench(Tiny("suite"), silent);
  ASSERT_TRUE(r.ok()) << r.status();
  std::set<std::string> with_peer, without;
  for (const Row& row : r->rows) {
    EXPECT_EQ(row.revkv.engine, "revkv");
    EXPECT_GT(row.revkv.n, 0) << row.workload;
    EXPECT_GT(row.revkv.ops_per_s, 0) << row.workload;
    EXPECT_GT(row.revkv.p50_us, 0) << row.workload;
    EXPECT_GE(row.revkv.p999_us, row.revkv.p50_us) << row.workload;
    EXPECT_GT(row.revkv.file_bytes, 0) << row.workload;
    ASSERT_NE(row.revkv.timeline, nullptr) << row.workload;
    EXPECT_GT(row.revkv.timeline->total(), 0u) << row.workload;
    if (row.peer.has_value()) {
      with_peer.insert(row.workload);
      EXPECT_EQ(row.peer->engine, "lmdb");
      EXPECT_GT(row.peer->ops_per_s, 0) << row.workload;
      EXPECT_GT(row.ratio, 0) << row.workload;
    } else {
      without.insert(row.workload);
      EXPECT_LT(row.ratio, 0) << row.workload;
    }
  }
  EXPECT_EQ(with_peer, (std::set<std::string>{"put", "range-point", "range-50", "mixed-read",
                                              "mixed-write"}));
  EXPECT_EQ(without, (std::set<std::string>{"range-old", "txn-put", "hash-by-rev", "compact"}));
  // The load is split over the rounds: 750 keys each, both medians 750.
  EXPECT_EQ(r->rows[0].workload, "put");
  EXPECT_EQ(r->rows[0].revkv.n, 750);
  EXPECT_EQ(r->rows[0].peer->n, 750);
}

TEST(StoreSuite, SubcommandsRunTheirWorkloadsOnFreshFiles) {
  Progress silent = Progress::Silent();
  for (const char* sub : {"put", "range", "txn-put", "mixed"}) {
    absl::StatusOr<Report> r = RunStoreBench(Tiny(sub), silent);
    ASSERT_TRUE(r.ok()) << sub << ": " << r.status();
    ASSERT_FALSE(r->rows.empty()) << sub;
    for (const Row& row : r->rows) {
      EXPECT_EQ(row.revkv.suite, sub);
      EXPECT_GT(row.revkv.ops_per_s, 0) << sub << " " << row.workload;
    }
    if (std::string(sub) == "put") {
      ASSERT_EQ(r->rows.size(), 1u);
      EXPECT_EQ(r->rows[0].revkv.n, 1500);  // the whole load, every round
      EXPECT_EQ(r->rows[0].peer->n, 1500);
    }
  }
}

}  // namespace
}  // namespace revkv::bench
