// `revkv bench suite` and its subcommands in-process on a tiny data set, two
// rounds: every workload on the engines it exists on, medians and ratios
// filled in. Tagged "concurrency": CI runs it under TSan (mixed starts
// reader threads against a writer on both engines).
#include "bench/store_suite.h"

#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace revkv::bench {
namespace {

StoreBenchOptions Tiny(const std::string& sub, const std::string& scale = "--scale=1") {
  absl::StatusOr<StoreBenchOptions> o = ParseStoreBenchFlags(
      sub, {"--keys=1500", "--rounds=2", "--duration=0.05", "--range-keys=50", "--batch=200"});
  if (sub == "suite" || sub == "range") {
    o = ParseStoreBenchFlags(sub, {"--keys=1500", "--rounds=2", "--duration=0.05",
                                   "--range-keys=50", "--batch=200", scale});
  }
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
  EXPECT_EQ(without, (std::set<std::string>{"range-old", "txn-put", "base-build", "hash-by-rev",
                                            "compact"}));
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

TEST(StoreSuite, ScaleFlag) {
  for (const char* sub : {"suite", "range"}) {
    absl::StatusOr<StoreBenchOptions> o = ParseStoreBenchFlags(sub, {});
    ASSERT_TRUE(o.ok()) << o.status();
    EXPECT_EQ(o->scale, 4u) << sub;
    o = ParseStoreBenchFlags(sub, {"--quick", "--scale", "1"});
    ASSERT_TRUE(o.ok()) << o.status();
    EXPECT_EQ(o->scale, 1u);
    EXPECT_EQ(o->common.keys, 20'000u);
  }
  // The other subcommands have no section and no flag.
  absl::StatusOr<StoreBenchOptions> put = ParseStoreBenchFlags("put", {});
  ASSERT_TRUE(put.ok());
  EXPECT_EQ(put->scale, 1u);
  EXPECT_EQ(ParseStoreBenchFlags("mixed", {"--scale=2"}).status().message(),
            "unknown flag: --scale");

  EXPECT_EQ(ParseStoreBenchFlags("suite", {"--scale=0"}).status().message(),
            "flag --scale must be at least 1");
  // 25,000,000 x 4 is the bound itself; one key more is too many.
  EXPECT_TRUE(ParseStoreBenchFlags("suite", {"--keys=25000000"}).ok());
  EXPECT_EQ(ParseStoreBenchFlags("suite", {"--keys=25000001"}).status().message(),
            "flag --scale: --scale x --keys must be at most 100,000,000");
  EXPECT_EQ(ParseStoreBenchFlags("range", {"--keys=10", "--scale=18446744073709551615"})
                .status()
                .message(),
            "flag --scale: --scale x --keys must be at most 100,000,000");
  // The big store's keys must fit the key size too.
  absl::Status narrow =
      ParseStoreBenchFlags("suite", {"--keys=900", "--key-size=3", "--scale=2"}).status();
  EXPECT_EQ(narrow.message(),
            "flag --scale 2 (1,800 keys): flag --key-size 3 is too small for 1800 keys (needs 4)");
}

// The suite's section: a fresh store of 4 x --keys per engine, its table after
// the footer and its rows in JSON; --scale 1 adds neither.
TEST(StoreSuite, ScaleSectionMeasuresTheBigStore) {
  Progress silent = Progress::Silent();
  absl::StatusOr<Report> r = RunStoreBench(Tiny("suite", "--scale=4"), silent);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->sections.size(), 1u);
  const std::string& text = r->sections[0];
  EXPECT_EQ(text.rfind("scaling: cost per operation in µs at N = 1,500 and 4N = 6,000 keys\n", 0),
            0u)
      << text;
  for (const char* row : {"\nput (load) ", "\nrange-point ", "\nrange-50 ",
                          "\nrange-50 per key ", "\nbase-build per key "}) {
    EXPECT_NE(text.find(row), std::string::npos) << row << " in " << text;
  }
  // Every figure is there, but LMDB's on the base's line (it has none).
  const size_t base_line = text.find("\nbase-build per key ");
  EXPECT_EQ(text.substr(0, base_line).find(" - "), std::string::npos)
      << "a figure is missing:\n" << text;

  std::vector<std::string> names;
  for (const Row& row : r->extra_rows) {
    names.push_back(row.workload);
    EXPECT_EQ(row.revkv.suite, "suite");
    EXPECT_GT(row.revkv.ops_per_s, 0) << row.workload;
    if (row.workload == "base-build@4N") {
      EXPECT_FALSE(row.peer.has_value());
      continue;
    }
    ASSERT_TRUE(row.peer.has_value()) << row.workload;
    EXPECT_EQ(row.peer->engine, "lmdb");
    EXPECT_GT(row.peer->ops_per_s, 0) << row.workload;
  }
  EXPECT_EQ(names, (std::vector<std::string>{"put@4N", "range-point@4N", "range-50@4N",
                                             "base-build@4N"}));
  EXPECT_EQ(r->extra_rows[0].revkv.n, 6000);  // the whole big load, one round
  EXPECT_EQ(r->extra_rows[0].peer->n, 6000);
  // The main rows are those of the N-key store alone.
  for (const Row& row : r->rows) EXPECT_EQ(row.workload.find('@'), std::string::npos);

  const std::string json = FormatJson(*r);
  EXPECT_NE(json.find("{\"suite\":\"suite\",\"workload\":\"put@4N\",\"engine\":\"revkv\",\"n\":6000,"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"workload\":\"range-50@4N\",\"engine\":\"lmdb\""), std::string::npos);
  EXPECT_NE(FormatCsv(*r).find("\nsuite,range-point@4N,revkv,"), std::string::npos);
  EXPECT_NE(FormatTable(*r).find(text), std::string::npos);

  absl::StatusOr<Report> off = RunStoreBench(Tiny("suite", "--scale=1"), silent);
  ASSERT_TRUE(off.ok()) << off.status();
  EXPECT_TRUE(off->sections.empty());
  EXPECT_TRUE(off->extra_rows.empty());
  EXPECT_EQ(FormatJson(*off).find('@'), std::string::npos);
}

// range keeps its load's samples for the N column; revkv alone with --lmdb=false.
TEST(StoreSuite, RangeScaleSectionWithoutLmdb) {
  Progress silent = Progress::Silent();
  StoreBenchOptions o = Tiny("range", "--scale=3");
  o.lmdb = false;
  absl::StatusOr<Report> r = RunStoreBench(o, silent);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->sections.size(), 1u);
  const std::string& text = r->sections[0];
  EXPECT_NE(text.find("N = 1,500 and 3N = 4,500 keys"), std::string::npos) << text;
  EXPECT_NE(text.find("revkv µs/op N"), std::string::npos);
  EXPECT_EQ(text.find("lmdb"), std::string::npos) << text;
  EXPECT_EQ(text.find(" - "), std::string::npos) << "a figure is missing:\n" << text;
  ASSERT_EQ(r->extra_rows.size(), 4u);  // put, range-point, range-50, base-build
  EXPECT_EQ(r->extra_rows[0].workload, "put@3N");
  EXPECT_EQ(r->extra_rows[0].revkv.n, 4500);
  EXPECT_FALSE(r->extra_rows[0].peer.has_value());
  // The load is not a row of the main table.
  for (const Row& row : r->rows) EXPECT_NE(row.workload, "load");
}

}  // namespace
}  // namespace revkv::bench
