// The shared pieces of `revkv bench`: the flag parser, timelines, result
// aggregation and formats (table, JSON, CSV, SVG), progress output.
#include <cstdio>
#include <string>
#include <vector>

#include "bench/flags.h"
#include "bench/plot.h"
#include "bench/progress.h"
#include "bench/report.h"
#include "bench/store_suite.h"
#include "bench/timeline.h"
#include "gtest/gtest.h"

namespace revkv::bench {
namespace {

TEST(Flags, DefaultsAreTheStableInterface) {
  CommonFlags c;
  FlagSet fs;
  AddCommonFlags(&fs, &c);
  ASSERT_TRUE(fs.Parse({}).ok());
  EXPECT_EQ(c.keys, 1'000'000u);
  EXPECT_EQ(c.key_size, 16u);
  EXPECT_EQ(c.value_size, 128u);
  EXPECT_EQ(c.batch, 10'000u);
  EXPECT_EQ(c.readers, 2u);
  EXPECT_TRUE(c.dir.empty());
  EXPECT_FALSE(c.json || c.csv || c.quick || c.keys_set);
}

TEST(Flags, BothSpellings) {
  CommonFlags c;
  uint64_t extra = 0;
  double d = 0;
  FlagSet fs;
  AddCommonFlags(&fs, &c);
  fs.AddUint("--extra", &extra);
  fs.AddDouble("--duration", &d);
  ASSERT_TRUE(fs.Parse({"--keys=500", "--batch", "50", "--json", "--dir", "/x", "--plot=p.svg",
                        "--extra", "7", "--duration=0.5", "--csv=false"})
                  .ok());
  EXPECT_EQ(c.keys, 500u);
  EXPECT_TRUE(c.keys_set);
  EXPECT_EQ(c.batch, 50u);
  EXPECT_TRUE(c.json);
  EXPECT_FALSE(c.csv);
  EXPECT_EQ(c.dir, "/x");
  EXPECT_EQ(c.plot, "p.svg");
  EXPECT_EQ(extra, 7u);
  EXPECT_DOUBLE_EQ(d, 0.5);
}

TEST(Flags, ErrorsNameTheFlag) {
  auto parse = [](std::vector<std::string> args) {
    CommonFlags c;
    FlagSet fs;
    AddCommonFlags(&fs, &c);
    absl::Status s = fs.Parse(args);
    if (s.ok()) s = ValidateCommonFlags(c);
    return std::string(s.message());
  };
  EXPECT_EQ(parse({"--frob"}), "unknown flag: --frob");
  EXPECT_EQ(parse({"--keys"}), "flag needs an argument: --keys");
  EXPECT_EQ(parse({"--keys=abc"}), "invalid value \"abc\" for flag --keys");
  EXPECT_EQ(parse({"--keys", "-5"}), "invalid value \"-5\" for flag --keys");
  EXPECT_EQ(parse({"--seed=1x"}), "invalid value \"1x\" for flag --seed");
  EXPECT_EQ(parse({"--json=maybe"}), "invalid value \"maybe\" for flag --json");
  EXPECT_EQ(parse({"stray"}), "unexpected argument \"stray\"");
  EXPECT_EQ(parse({"--keys=0"}), "flag --keys must be at least 1");
  EXPECT_EQ(parse({"--batch=0"}), "flag --batch must be at least 1");
  EXPECT_EQ(parse({"--keys=1000", "--key-size=2"}),
            "flag --key-size 2 is too small for 1000 keys (needs 3)");
  EXPECT_EQ(parse({"--keys=1000", "--key-size=3"}), "");
}

TEST(StoreBenchFlags, QuickAndDefaults) {
  auto suite = ParseStoreBenchFlags("suite", {});
  ASSERT_TRUE(suite.ok()) << suite.status();
  EXPECT_EQ(suite->common.keys, 1'000'000u);
  EXPECT_EQ(suite->rounds, 3u);
  EXPECT_DOUBLE_EQ(suite->duration_s, 1.0);
  auto put = ParseStoreBenchFlags("put", {});
  ASSERT_TRUE(put.ok());
  EXPECT_EQ(put->rounds, 1u);
  auto quick = ParseStoreBenchFlags("suite", {"--quick"});
  ASSERT_TRUE(quick.ok());
  EXPECT_EQ(quick->common.keys, 20'000u);
  EXPECT_EQ(quick->rounds, 1u);
  // Explicit flags win over --quick, in either order.
  auto both = ParseStoreBenchFlags("suite", {"--keys", "777", "--quick", "--rounds=2"});
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(both->common.keys, 777u);
  EXPECT_EQ(both->rounds, 2u);
  EXPECT_EQ(both->range_keys, 777u);  // the default 1,000 shrinks to --keys
  EXPECT_FALSE(ParseStoreBenchFlags("suite", {"--rounds=0"}).ok());
  EXPECT_FALSE(ParseStoreBenchFlags("suite", {"--duration=0"}).ok());
  EXPECT_FALSE(ParseStoreBenchFlags("range", {"--keys=10", "--range-keys=11"}).ok());
  EXPECT_FALSE(ParseStoreBenchFlags("suite", {"--json", "--csv"}).ok());
}

TEST(Timeline, CountsPerIntervalAndStaysBounded) {
  Timeline t;
  t.Record(50'000'000);
  t.Record(150'000'000, 3);
  t.Finish(250'000'000);
  ASSERT_EQ(t.counts(), (std::vector<uint64_t>{1, 3, 0}));
  auto rates = t.Rates();
  ASSERT_EQ(rates.size(), 3u);
  EXPECT_DOUBLE_EQ(rates[0].second, 10.0);  // 1 op in 0.1 s
  EXPECT_DOUBLE_EQ(rates[1].second, 30.0);
  EXPECT_DOUBLE_EQ(rates[2].first, 0.25);   // the last interval ends at Finish
  // An hour of records at 1 ms: never more than kMaxIntervals counters.
  Timeline big;
  for (uint64_t ms = 0; ms < 3'600'000; ms += 1) big.Record(ms * 1'000'000);
  EXPECT_LE(big.counts().size(), Timeline::kMaxIntervals);
  EXPECT_EQ(big.total(), 3'600'000u);
  // Merging timelines of different widths keeps every op.
  Timeline m;
  m.Record(10);
  m.Merge(big);
  EXPECT_EQ(m.total(), 3'600'001u);
  EXPECT_EQ(m.interval_ns(), big.interval_ns());
}

Sample MakeSample(double n, double seconds, uint64_t latency_ns) {
  Sample s;
  s.n = n;
  s.seconds = seconds;
  s.file_bytes = 4096;
  s.peak_rss_bytes = 1 << 20;
  s.latency.RecordN(latency_ns, static_cast<uint64_t>(n));
  s.timeline.Record(50'000'000, static_cast<uint64_t>(n));
  s.timeline.Finish(static_cast<uint64_t>(seconds * 1e9));
  return s;
}

Report TwoRowReport() {
  std::vector<Sample> a = {MakeSample(100, 1, 2000), MakeSample(300, 1, 2000),
                           MakeSample(200, 1, 2000)};
  std::vector<Sample> b = {MakeSample(50, 1, 1000), MakeSample(100, 1, 1000),
                           MakeSample(100, 1, 1000)};
  Report r;
  r.suite = "put";
  Row put;
  put.workload = "put";
  put.revkv = Aggregate("put", "put", "revkv", a);
  put.peer = Aggregate("put", "put", "lmdb", b);
  put.ratio = MedianRatio(a, b);
  put.note = "one put";
  r.rows.push_back(put);
  Row old;
  old.workload = "range-old";
  old.revkv = Aggregate("put", "range-old", "revkv", {MakeSample(10, 2, 5000)});
  r.rows.push_back(old);
  return r;
}

TEST(Report, MediansAndRatios) {
  Report r = TwoRowReport();
  const Row& put = r.rows[0];
  EXPECT_DOUBLE_EQ(put.revkv.ops_per_s, 200);
  EXPECT_DOUBLE_EQ(put.peer->ops_per_s, 100);
  EXPECT_DOUBLE_EQ(put.ratio, 2.0);  // per-round ratios 2, 3, 2
  EXPECT_NEAR(put.revkv.p50_us, 2.0, 2.0 * Histogram::kMaxRelativeError);
  ASSERT_NE(put.revkv.timeline, nullptr);
  EXPECT_EQ(put.revkv.timeline->total(), 200u);  // the last round's
  EXPECT_EQ(put.revkv.latency->Count(), 600u);   // every round's
}

TEST(Report, JsonCsvAndTable) {
  Report r = TwoRowReport();
  const std::string json = FormatJson(r);
  EXPECT_EQ(json.substr(0, json.find('\n')),
            "{\"suite\":\"put\",\"workload\":\"put\",\"engine\":\"revkv\",\"n\":200,"
            "\"seconds\":1.000000,\"ops_per_s\":200.0,\"p50_us\":2.000,\"p99_us\":2.000,"
            "\"p999_us\":2.000,\"file_bytes\":4096,\"peak_rss_bytes\":1048576}");
  EXPECT_NE(json.find("\"workload\":\"range-old\",\"engine\":\"revkv\",\"n\":10,\"seconds\":2.0"),
            std::string::npos);
  const std::string csv = FormatCsv(r);
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "suite,workload,engine,n,seconds,ops_per_s,p50_us,p99_us,p999_us,file_bytes,"
            "peak_rss_bytes");
  EXPECT_NE(csv.find("\nput,put,lmdb,100,1.000000,100.0,"), std::string::npos) << csv;
  const std::string table = FormatTable(r);
  EXPECT_NE(table.find("revkv/lmdb"), std::string::npos);
  EXPECT_NE(table.find("2.00x"), std::string::npos) << table;
  EXPECT_NE(table.find("one put"), std::string::npos);
}

TEST(Plot, SvgHasAPanelPairAndLinesPerWorkload) {
  const std::string svg = RenderSvg(TwoRowReport());
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
  size_t polylines = 0;
  for (size_t p = svg.find("<polyline"); p != std::string::npos; p = svg.find("<polyline", p + 1)) {
    ++polylines;
  }
  EXPECT_EQ(polylines, 6u);  // put: 2 engines x 2 panels; range-old: 1 engine x 2
  EXPECT_NE(svg.find("<g data-workload=\"range-old\">"), std::string::npos);
}

std::string Captured(FILE* f) {
  std::rewind(f);
  std::string s;
  char buf[512];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) s.append(buf, n);
  return s;
}

TEST(Progress, PlainLinesHaveNoControlCharacters) {
  FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  Progress p(f, /*tty=*/false, /*period_ns=*/1);
  p.Begin("round 1/1 revkv put", 1000, 0);
  for (uint64_t i = 1; i <= 1000; ++i) p.Update(i);
  p.End("  done");
  const std::string out = Captured(f);
  std::fclose(f);
  EXPECT_NE(out.find("  round 1/1 revkv put: "), std::string::npos) << out;
  EXPECT_NE(out.find("ops/s, ETA"), std::string::npos) << out;
  EXPECT_EQ(out.substr(out.size() - 7), "  done\n");
  for (char c : out) EXPECT_TRUE(c == '\n' || static_cast<unsigned char>(c) >= 0x20) << int(c);
}

TEST(Progress, TerminalDrawsABarAndErasesIt) {
  FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  Progress p(f, /*tty=*/true, /*period_ns=*/1);
  p.Begin("mixed", 0, 1.0);
  for (uint64_t i = 1; i <= 1000; ++i) p.Update(i);
  p.End("  summary");
  const std::string out = Captured(f);
  std::fclose(f);
  EXPECT_EQ(out.rfind("\r  mixed [", 0), 0u) << out;
  EXPECT_NE(out.find("ETA "), std::string::npos);
  EXPECT_NE(out.find("\r\x1b[K  summary\n"), std::string::npos);
}

}  // namespace
}  // namespace revkv::bench
