// `revkv bench btree`: flag parsing, and a tiny end-to-end run on both
// engines whose report, table and JSON cover every workload.
#include "bench/btree_suite.h"

#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace revkv::bench {
namespace {

TEST(BtreeSuiteFlags, Defaults) {
  auto o = ParseBtreeSuiteFlags({});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->common.keys, 1'000'000u);
  EXPECT_EQ(o->common.key_size, 16u);
  EXPECT_EQ(o->common.value_size, 128u);
  EXPECT_EQ(o->common.batch, 10'000u);
  EXPECT_EQ(o->rounds, 3u);
  EXPECT_EQ(o->common.readers, 2u);
  EXPECT_FALSE(o->common.json);
  EXPECT_TRUE(o->common.dir.empty());
}

TEST(BtreeSuiteFlags, BothSpellingsAndQuick) {
  auto o = ParseBtreeSuiteFlags(
      {"--keys=500", "--batch", "50", "--json", "--seed=9", "--dir", "/x", "--readers=3"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->common.keys, 500u);
  EXPECT_EQ(o->common.batch, 50u);
  EXPECT_TRUE(o->common.json);
  EXPECT_EQ(o->common.seed, 9u);
  EXPECT_EQ(o->common.dir, "/x");
  EXPECT_EQ(o->common.readers, 3u);

  auto q = ParseBtreeSuiteFlags({"--quick"});
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->common.keys, 20'000u);
  EXPECT_EQ(q->rounds, 1u);
  // Explicit flags win over --quick, in either order.
  auto q2 = ParseBtreeSuiteFlags({"--keys", "777", "--quick", "--rounds=2"});
  ASSERT_TRUE(q2.ok());
  EXPECT_EQ(q2->common.keys, 777u);
  EXPECT_EQ(q2->rounds, 2u);
}

TEST(BtreeSuiteFlags, Errors) {
  EXPECT_FALSE(ParseBtreeSuiteFlags({"--frob"}).ok());
  EXPECT_FALSE(ParseBtreeSuiteFlags({"--keys"}).ok());
  EXPECT_FALSE(ParseBtreeSuiteFlags({"--keys=abc"}).ok());
  EXPECT_FALSE(ParseBtreeSuiteFlags({"--keys=-5"}).ok());
  EXPECT_FALSE(ParseBtreeSuiteFlags({"--keys=0"}).ok());
  EXPECT_FALSE(ParseBtreeSuiteFlags({"--batch=0"}).ok());
  EXPECT_FALSE(ParseBtreeSuiteFlags({"stray"}).ok());
  EXPECT_FALSE(ParseBtreeSuiteFlags({"--json=maybe"}).ok());
  auto h = ParseBtreeSuiteFlags({"--help"});
  ASSERT_TRUE(h.ok());
  EXPECT_TRUE(h->common.help);
}

size_t Count(const std::string& s, const std::string& sub) {
  size_t n = 0;
  for (size_t p = s.find(sub); p != std::string::npos; p = s.find(sub, p + 1)) ++n;
  return n;
}

TEST(BtreeSuite, TinyRunCoversEveryWorkloadOnBothEngines) {
  BtreeSuiteOptions o;
  o.common.keys = 3000;
  o.common.batch = 500;
  o.rounds = 2;
  o.gets = 3000;
  o.commits = 20;
  o.duration_s = 0.2;
  o.scan_entries = 6000;
  const char* tmp = std::getenv("TEST_TMPDIR");
  if (tmp != nullptr) o.common.dir = std::string(tmp) + "/suite";
  Progress silent = Progress::Silent();
  auto r = RunBtreeSuite(o, silent);
  ASSERT_TRUE(r.ok()) << r.status();

  const std::vector<std::string> workloads = {
      "seq-put", "file-size-seq", "rand-put", "file-size", "get-rand",
      "get-txn", "scan", "commit-latency", "concurrent-read", "concurrent-write"};
  ASSERT_EQ(r->rows.size(), workloads.size());
  for (size_t i = 0; i < workloads.size(); ++i) {
    const Row& c = r->rows[i];
    EXPECT_EQ(c.workload, workloads[i]);
    EXPECT_GT(c.ratio, 0) << c.workload;
    ASSERT_TRUE(c.peer.has_value()) << c.workload;
    EXPECT_EQ(c.revkv.engine, "revkv");
    EXPECT_EQ(c.peer->engine, "lmdb");
    for (const Result* e : {&c.revkv, &*c.peer}) {
      EXPECT_GT(e->n, 0) << c.workload << " " << e->engine;
      EXPECT_GT(e->peak_rss_bytes, 0) << c.workload << " " << e->engine;
      if (c.workload.rfind("file-size", 0) == 0) {
        EXPECT_GT(e->file_bytes, 0) << c.workload;
      } else {
        EXPECT_GT(e->ops_per_s, 0) << c.workload << " " << e->engine;
      }
    }
  }
  EXPECT_EQ(r->rows[0].revkv.n, 3000);
  EXPECT_EQ(r->rows[6].revkv.n, 6000);  // two scan passes

  const std::string json = FormatJson(*r);
  EXPECT_EQ(Count(json, "\n"), 2 * workloads.size());
  EXPECT_EQ(Count(json, "{\"suite\":\"btree\",\"workload\":"), 2 * workloads.size());
  EXPECT_EQ(Count(json, "\"engine\":\"revkv\""), workloads.size());
  EXPECT_EQ(Count(json, "\"engine\":\"lmdb\""), workloads.size());
  EXPECT_NE(json.find("\"p99_us\":"), std::string::npos);
  EXPECT_EQ(Count(json, "\"file_bytes\":"), 8u);  // {seq-put, file-size-seq, rand-put, file-size} x 2

  const std::string table = FormatTable(*r);
  for (const std::string& w : workloads) EXPECT_NE(table.find("\n" + w + " "), std::string::npos) << w;
  for (char ch : table) EXPECT_TRUE(ch == '\n' || ch >= ' ' || ch < 0) << int(ch);
}

}  // namespace
}  // namespace revkv::bench
