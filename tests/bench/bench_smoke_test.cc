// The CI smoke test of `revkv bench`: the default suite with --quick, as JSON
// lines, as CSV and as an SVG plot, parsed and checked -- every expected
// (workload, engine) present, every number positive, the SVG well-formed with
// a line per workload -- plus the command line's errors.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace {

struct Outcome {
  int exit_code = -1;
  std::string out, err;
};

std::string TmpDir() {
  const char* t = std::getenv("TEST_TMPDIR");
  return t != nullptr ? t : "/tmp";
}

std::string Slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// Runs `revkv bench <args>`, capturing stdout and stderr separately.
Outcome RunBench(const std::string& args) {
  static int n = 0;
  const std::string err_path = TmpDir() + "/stderr" + std::to_string(n++);
  const std::string cmd = "cmd/revkv/revkv bench " + args + " 2>" + err_path;
  Outcome r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf;
  size_t got;
  while ((got = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), got);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = Slurp(err_path);
  return r;
}

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// A flat JSON object of string and number values; false if it is not one.
bool ParseFlatJson(const std::string& s, std::map<std::string, std::string>* out) {
  size_t i = 0;
  auto ws = [&] {
    while (i < s.size() && s[i] == ' ') ++i;
  };
  auto str = [&](std::string* v) {
    if (i >= s.size() || s[i] != '"') return false;
    size_t e = s.find('"', i + 1);
    if (e == std::string::npos) return false;
    *v = s.substr(i + 1, e - i - 1);
    i = e + 1;
    return true;
  };
  ws();
  if (i >= s.size() || s[i++] != '{') return false;
  for (;;) {
    ws();
    std::string key, value;
    if (!str(&key)) return false;
    ws();
    if (i >= s.size() || s[i++] != ':') return false;
    ws();
    if (i < s.size() && s[i] == '"') {
      if (!str(&value)) return false;
    } else {
      size_t e = s.find_first_of(",}", i);
      if (e == std::string::npos) return false;
      value = s.substr(i, e - i);
      char* end = nullptr;
      std::strtod(value.c_str(), &end);
      if (value.empty() || *end != '\0') return false;
      value = "#" + value;  // marks a number
      i = e;
    }
    if (out->count(key) != 0) return false;
    (*out)[key] = value;
    ws();
    if (i >= s.size()) return false;
    if (s[i] == '}') return i + 1 == s.size();
    if (s[i++] != ',') return false;
  }
}

// The suite's (workload, engine) pairs.
const std::set<std::string> kExpected = {
    "put/revkv",        "put/lmdb",        "range-point/revkv", "range-point/lmdb",
    "range-1000/revkv", "range-1000/lmdb", "range-old/revkv",   "txn-put/revkv",
    "mixed-read/revkv", "mixed-read/lmdb", "mixed-write/revkv", "mixed-write/lmdb",
    "base-build/revkv", "hash-by-rev/revkv", "compact/revkv",
    // The --scale section's fresh store of 4 x --keys (JSON and CSV only).
    "put@4N/revkv", "put@4N/lmdb", "range-point@4N/revkv", "range-point@4N/lmdb",
    "range-1000@4N/revkv", "range-1000@4N/lmdb", "base-build@4N/revkv"};

const char* const kNumbers[] = {"n",      "seconds", "ops_per_s",  "p50_us",
                                "p99_us", "p999_us", "file_bytes", "peak_rss_bytes"};

// Checks that `svg` is one well-formed element tree (balanced tags, quoted
// attributes) and returns the workloads of its <g data-workload> groups that
// hold at least one polyline with points.
std::set<std::string> CheckSvg(const std::string& svg) {
  std::set<std::string> drawn;
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  std::vector<std::string> stack;
  std::string group;
  size_t i = 0;
  while ((i = svg.find('<', i)) != std::string::npos) {
    const size_t e = svg.find('>', i);
    if (e == std::string::npos) {
      ADD_FAILURE() << "unterminated tag at " << i;
      break;
    }
    std::string tag = svg.substr(i + 1, e - i - 1);
    size_t quotes = 0;
    for (char c : tag) quotes += c == '"';
    EXPECT_EQ(quotes % 2, 0u) << tag;
    if (tag[0] == '/') {
      const std::string name = tag.substr(1);
      if (stack.empty() || stack.back() != name) {
        ADD_FAILURE() << "</" << name << "> closes " << (stack.empty() ? "nothing" : stack.back());
        break;
      }
      stack.pop_back();
      if (name == "g") group.clear();
    } else {
      const std::string name = tag.substr(0, tag.find_first_of(" /"));
      if (name == "g") {
        const std::string attr = "data-workload=\"";
        const size_t a = tag.find(attr);
        if (a != std::string::npos) {
          group = tag.substr(a + attr.size(), tag.find('"', a + attr.size()) - a - attr.size());
        }
      }
      if (name == "polyline" && !group.empty() && tag.find("points=\"") != std::string::npos &&
          tag.find("points=\"\"") == std::string::npos) {
        drawn.insert(group);
      }
      if (tag.back() != '/') stack.push_back(name);
    }
    i = e + 1;
  }
  EXPECT_TRUE(stack.empty()) << "unclosed <" << (stack.empty() ? "" : stack.back()) << ">";
  return drawn;
}

TEST(BenchSmoke, QuickSuiteJsonAndPlot) {
  const std::string svg_path = TmpDir() + "/quick.svg";
  Outcome r = RunBench("--quick --json --dir " + TmpDir() + "/json --plot " + svg_path);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::set<std::string> seen;
  for (const std::string& line : Lines(r.out)) {
    std::map<std::string, std::string> obj;
    ASSERT_TRUE(ParseFlatJson(line, &obj)) << line;
    EXPECT_EQ(obj["suite"], "suite") << line;
    const std::string id = obj["workload"] + "/" + obj["engine"];
    EXPECT_TRUE(seen.insert(id).second) << "twice: " << id;
    for (const char* f : kNumbers) {
      ASSERT_EQ(obj.count(f), 1u) << f << " missing in " << line;
      ASSERT_EQ(obj[f][0], '#') << f << " is not a number in " << line;
      EXPECT_GT(std::strtod(obj[f].c_str() + 1, nullptr), 0) << f << " in " << line;
    }
  }
  EXPECT_EQ(seen, kExpected);

  // The plot: well-formed, and a line for every workload.
  const std::string svg = Slurp(svg_path);
  std::set<std::string> drawn = CheckSvg(svg);
  for (const std::string& id : kExpected) {
    if (id.find('@') != std::string::npos) continue;  // the plot has the main rows only
    EXPECT_EQ(drawn.count(id.substr(0, id.find('/'))), 1u) << id << " not drawn";
  }
  // Progress went to stderr as plain lines (stderr is not a terminal here).
  EXPECT_NE(r.err.find("round 1/1 revkv put:"), std::string::npos) << r.err;
  for (char c : r.err) {
    EXPECT_TRUE(c == '\n' || static_cast<unsigned char>(c) >= 0x20) << "control char " << int(c);
  }
}

TEST(BenchSmoke, QuickSuiteCsv) {
  Outcome r = RunBench("suite --quick --csv --dir=" + TmpDir() + "/csv");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0],
            "suite,workload,engine,n,seconds,ops_per_s,p50_us,p99_us,p999_us,file_bytes,"
            "peak_rss_bytes");
  std::set<std::string> seen;
  for (size_t i = 1; i < lines.size(); ++i) {
    std::vector<std::string> cells;
    std::stringstream in(lines[i]);
    for (std::string c; std::getline(in, c, ',');) cells.push_back(c);
    ASSERT_EQ(cells.size(), 11u) << lines[i];
    EXPECT_EQ(cells[0], "suite");
    seen.insert(cells[1] + "/" + cells[2]);
    for (size_t j = 3; j < cells.size(); ++j) {
      char* end = nullptr;
      const double v = std::strtod(cells[j].c_str(), &end);
      EXPECT_TRUE(!cells[j].empty() && *end == '\0' && v > 0) << "cell " << j << " of " << lines[i];
    }
  }
  EXPECT_EQ(seen, kExpected);
}

TEST(BenchSmoke, FlagErrorsNameTheFlag) {
  Outcome r = RunBench("--keys=abc");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "Error: invalid value \"abc\" for flag --keys\n");
  r = RunBench("put --frob 3");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "Error: unknown flag: --frob\n");
  r = RunBench("range --value-size");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "Error: flag needs an argument: --value-size\n");
  r = RunBench("mixed --readers 0");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "Error: flag --readers must be in [1, 256]\n");
  r = RunBench("--scale 0");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "Error: flag --scale must be at least 1\n");
  r = RunBench("range --keys 50000000 --scale 3");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "Error: flag --scale: --scale x --keys must be at most 100,000,000\n");
  r = RunBench("put --scale 2");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "Error: unknown flag: --scale\n");
  r = RunBench("--json --csv");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--json and --csv"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
}

}  // namespace
