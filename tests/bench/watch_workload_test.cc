// `revkv bench watch` in-process at a tiny size: its rows (put with and
// without watchers, delivery, catch-up), the idle-memory lines and the flag
// errors. The figures are measurements and are not checked. Tagged
// "concurrency": CI runs it under TSan (writer, consumer and the watch
// thread).
#include "bench/watch_workload.h"

#include <cstdlib>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace revkv::bench {
namespace {

std::string TmpDir() {
  const char* t = std::getenv("TEST_TMPDIR");
  return t != nullptr ? t : "/tmp";
}

TEST(WatchWorkload, RowsPerWatcherCountAndLayoutThenCatchUp) {
  absl::StatusOr<WatchBenchOptions> o =
      ParseWatchFlags({"--watchers", "1,3", "--duration", "0.05", "--catchup", "300", "--dir",
                       TmpDir() + "/watch"});
  ASSERT_TRUE(o.ok()) << o.status();
  Progress silent = Progress::Silent();
  absl::StatusOr<Report> r = RunWatch(*o, silent);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->suite, "watch");
  std::vector<std::string> names;
  for (const Row& row : r->rows) names.push_back(row.workload);
  EXPECT_EQ(names, (std::vector<std::string>{"put-w1-keys", "deliver-w1-keys", "put-w1-prefix",
                                             "deliver-w1-prefix", "put-w3-keys", "deliver-w3-keys",
                                             "put-w3-prefix", "deliver-w3-prefix",
                                             "catchup-300"}));
  for (const Row& row : r->rows) {
    EXPECT_GT(row.revkv.ops_per_s, 0) << row.workload;
    if (row.workload.rfind("put-", 0) == 0) {
      ASSERT_TRUE(row.peer.has_value()) << row.workload;
      EXPECT_GT(row.peer->ops_per_s, 0) << row.workload;
      EXPECT_GT(row.ratio, 0) << row.workload;
    }
  }
  ASSERT_EQ(r->footer.size(), 2u);
  EXPECT_NE(r->footer[0].find("idle watchers on distinct keys: 3"), std::string::npos);
}

TEST(WatchWorkload, FlagErrors) {
  EXPECT_FALSE(ParseWatchFlags({"--watchers", "0"}).ok());
  EXPECT_FALSE(ParseWatchFlags({"--watchers", "x"}).ok());
  EXPECT_FALSE(ParseWatchFlags({"--duration", "0"}).ok());
  EXPECT_FALSE(ParseWatchFlags({"--catchup", "0"}).ok());
  EXPECT_TRUE(ParseWatchFlags({"--quick"}).ok());
}

}  // namespace
}  // namespace revkv::bench
