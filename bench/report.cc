#include "bench/report.h"

#include <algorithm>
#include <cstdio>
#include <string>

namespace revkv::bench {

void Sample::SetTime(uint64_t ops, uint64_t elapsed_ns) {
  n = static_cast<double>(ops);
  seconds = elapsed_ns / 1e9;
  timeline.Finish(elapsed_ns);
}

Sample& NewSample(Samples* samples, const std::string& workload, const std::string& engine) {
  return (*samples)[workload][engine].emplace_back();
}

double Median(std::vector<double> v) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 == 1 ? v[m] : (v[m - 1] + v[m]) / 2;
}

Result Aggregate(const std::string& suite, const std::string& workload, const std::string& engine,
                 const std::vector<Sample>& rounds) {
  Result r;
  r.suite = suite;
  r.workload = workload;
  r.engine = engine;
  auto med = [&](auto get) {
    std::vector<double> v;
    for (const Sample& s : rounds) {
      if (get(s) >= 0) v.push_back(get(s));
    }
    return Median(v);
  };
  r.n = med([](const Sample& s) { return s.n; });
  r.seconds = med([](const Sample& s) { return s.seconds; });
  r.ops_per_s = med([](const Sample& s) { return s.ops_per_s(); });
  r.file_bytes = med([](const Sample& s) { return s.file_bytes; });
  r.peak_rss_bytes = med([](const Sample& s) { return s.peak_rss_bytes; });
  auto h = std::make_shared<Histogram>();
  for (const Sample& s : rounds) h->Merge(s.latency);
  if (h->Count() > 0) {
    r.p50_us = h->Percentile(50) / 1e3;
    r.p99_us = h->Percentile(99) / 1e3;
    r.p999_us = h->Percentile(99.9) / 1e3;
    r.latency = std::move(h);
  }
  if (!rounds.empty() && !rounds.back().timeline.counts().empty()) {
    r.timeline = std::make_shared<Timeline>(rounds.back().timeline);
  }
  return r;
}

double ByOpsPerS(const Sample& s) { return s.ops_per_s(); }
double ByP50(const Sample& s) {
  return s.latency.Count() > 0 ? s.latency.Percentile(50) / 1e3 : -1;
}
double ByFileBytes(const Sample& s) { return s.file_bytes; }

double MedianRatio(const std::vector<Sample>& a, const std::vector<Sample>& b, Metric metric) {
  std::vector<double> ratios;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    const double x = metric(a[i]), y = metric(b[i]);
    if (x >= 0 && y > 0) ratios.push_back(x / y);
  }
  return Median(ratios);
}

std::vector<Row> MakeRows(const std::string& suite, const Samples& samples,
                          const std::vector<RowSpec>& specs) {
  std::vector<Row> rows;
  for (const RowSpec& spec : specs) {
    auto it = samples.find(spec.workload);
    if (it == samples.end()) continue;
    static const std::vector<Sample> kNone;
    auto revkv = it->second.find("revkv");
    const std::vector<Sample>& mine = revkv != it->second.end() ? revkv->second : kNone;
    Row row;
    row.workload = spec.workload;
    row.note = spec.note;
    row.revkv = Aggregate(suite, spec.workload, "revkv", mine);
    for (const auto& [engine, rounds] : it->second) {
      if (engine == "revkv") continue;
      row.peer = Aggregate(suite, spec.workload, engine, rounds);
      row.ratio = MedianRatio(mine, rounds, spec.metric);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string FormatCount(double v) {
  if (v < 0) return "-";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.0f", v);
  std::string digits = buf, out;
  int n = 0;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (n > 0 && n % 3 == 0) out.push_back(',');
    out.push_back(*it);
    ++n;
  }
  return std::string(out.rbegin(), out.rend());
}

std::string FormatRate(double v) {
  if (v < 0 || v >= 100) return FormatCount(v);
  char buf[32];
  std::snprintf(buf, sizeof(buf), v < 10 ? "%.2f" : "%.1f", v);
  return buf;
}

std::string FormatBytes(double v) {
  if (v < 0) return "-";
  char buf[64];
  if (v >= 1024.0 * 1024 * 1024) {
    std::snprintf(buf, sizeof(buf), "%.2f GiB", v / (1024.0 * 1024 * 1024));
  } else if (v >= 1024.0 * 1024) {
    std::snprintf(buf, sizeof(buf), "%.1f MiB", v / (1024.0 * 1024));
  } else if (v >= 1024.0) {
    std::snprintf(buf, sizeof(buf), "%.1f KiB", v / 1024.0);
  } else {
    std::snprintf(buf, sizeof(buf), "%.0f B", v);
  }
  return buf;
}

std::string FormatMicros(double us) {
  if (us < 0) return "-";
  char buf[64];
  if (us < 10) {
    std::snprintf(buf, sizeof(buf), "%.2f", us);
  } else if (us < 100) {
    std::snprintf(buf, sizeof(buf), "%.1f", us);
  } else {
    return FormatCount(us);
  }
  return buf;
}

namespace {

std::string Num(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), fmt, v);
  return buf;
}

std::string Latency(const Result& r) {
  if (r.p50_us < 0) return "-";
  return FormatMicros(r.p50_us) + "/" + FormatMicros(r.p99_us) + "/" + FormatMicros(r.p999_us);
}

std::string Pair(const std::string& a, const std::optional<std::string>& b) {
  if (!b.has_value() || (a == "-" && *b == "-")) return a;
  return a + " | " + *b;
}

// Display width: µ and other UTF-8 sequences count once.
size_t Width(const std::string& s) {
  size_t w = 0;
  for (unsigned char ch : s) w += (ch & 0xC0) != 0x80;
  return w;
}

// The results of rows, then of extra_rows.
std::vector<const Result*> Results(const Report& r) {
  std::vector<const Result*> out;
  for (const std::vector<Row>* rows : {&r.rows, &r.extra_rows}) {
    for (const Row& row : *rows) {
      out.push_back(&row.revkv);
      if (row.peer.has_value()) out.push_back(&*row.peer);
    }
  }
  return out;
}

// The table's head; the peer's columns only when some row has a peer.
std::vector<std::string> TableHead(bool any_peer, const std::string& peer) {
  if (!any_peer) return {"workload", "revkv ops/s", "p50/p99/p99.9 µs", "file", "peak RSS"};
  return {"workload", "revkv ops/s", peer + " ops/s", "revkv/" + peer, "p50/p99/p99.9 µs revkv",
          peer, "file revkv | " + peer, "peak RSS revkv | " + peer};
}

std::vector<std::string> TableLine(const Row& row, bool any_peer) {
  const Result& a = row.revkv;
  const Result* b = row.peer.has_value() ? &*row.peer : nullptr;
  std::vector<std::string> l = {row.workload, FormatRate(a.ops_per_s)};
  if (any_peer) {
    l.push_back(b != nullptr ? FormatRate(b->ops_per_s) : "-");
    l.push_back(row.ratio >= 0 ? Num("%.2fx", row.ratio) : "-");
  }
  l.push_back(Latency(a));
  if (any_peer) l.push_back(b != nullptr ? Latency(*b) : "-");
  auto opt = [&](std::string s) {
    return b != nullptr ? std::optional<std::string>(s) : std::nullopt;
  };
  l.push_back(Pair(FormatBytes(a.file_bytes), opt(b ? FormatBytes(b->file_bytes) : "")));
  l.push_back(Pair(FormatBytes(a.peak_rss_bytes), opt(b ? FormatBytes(b->peak_rss_bytes) : "")));
  return l;
}

// The rows' notes, one line each, below the table.
std::string Notes(const std::vector<Row>& rows) {
  std::vector<std::vector<std::string>> lines;
  for (const Row& row : rows) {
    if (!row.note.empty()) lines.push_back({"  " + row.workload, row.note});
  }
  return lines.empty() ? "" : "\n" + AlignColumns(lines, {true, true});
}

}  // namespace

std::string AlignColumns(const std::vector<std::vector<std::string>>& lines,
                         const std::vector<bool>& left) {
  std::vector<size_t> widths;
  for (const auto& l : lines) {
    widths.resize(std::max(widths.size(), l.size()), 0);
    for (size_t i = 0; i < l.size(); ++i) widths[i] = std::max(widths[i], Width(l[i]));
  }
  std::string out;
  for (const auto& l : lines) {
    std::string row;
    for (size_t i = 0; i < l.size(); ++i) {
      const std::string pad(widths[i] - Width(l[i]), ' ');
      if (i > 0) row += "  ";
      if (i >= left.size() || !left[i]) {
        row += pad + l[i];
      } else {
        row += l[i];
        if (i + 1 != l.size()) row += pad;  // no trailing blanks
      }
    }
    out += row + "\n";
  }
  return out;
}

std::string FormatTable(const Report& r) {
  std::string out;
  for (const std::string& h : r.header) out += h + "\n";
  if (!r.header.empty()) out += "\n";
  bool any_peer = false;
  for (const Row& row : r.rows) any_peer |= row.peer.has_value();
  std::vector<std::vector<std::string>> lines = {TableHead(any_peer, r.peer_name)};
  for (const Row& row : r.rows) lines.push_back(TableLine(row, any_peer));
  out += AlignColumns(lines, {true});
  out += Notes(r.rows);
  if (!r.footer.empty()) out += "\n";
  for (const std::string& f : r.footer) out += f + "\n";
  for (const std::string& section : r.sections) out += "\n" + section;
  return out;
}

std::string FormatJson(const Report& r) {
  std::string out;
  for (const Result* b : Results(r)) {
    std::string line = "{\"suite\":\"" + b->suite + "\",\"workload\":\"" + b->workload +
                       "\",\"engine\":\"" + b->engine + "\"";
    if (b->n >= 0) line += ",\"n\":" + Num("%.0f", b->n);
    if (b->seconds >= 0) line += ",\"seconds\":" + Num("%.6f", b->seconds);
    if (b->ops_per_s >= 0) line += ",\"ops_per_s\":" + Num("%.1f", b->ops_per_s);
    if (b->p50_us >= 0) line += ",\"p50_us\":" + Num("%.3f", b->p50_us);
    if (b->p99_us >= 0) line += ",\"p99_us\":" + Num("%.3f", b->p99_us);
    if (b->p999_us >= 0) line += ",\"p999_us\":" + Num("%.3f", b->p999_us);
    if (b->file_bytes >= 0) line += ",\"file_bytes\":" + Num("%.0f", b->file_bytes);
    if (b->peak_rss_bytes >= 0) line += ",\"peak_rss_bytes\":" + Num("%.0f", b->peak_rss_bytes);
    out += line + "}\n";
  }
  return out;
}

std::string FormatCsv(const Report& r) {
  std::string out =
      "suite,workload,engine,n,seconds,ops_per_s,p50_us,p99_us,p999_us,file_bytes,"
      "peak_rss_bytes\n";
  auto cell = [](const char* fmt, double v) { return v >= 0 ? Num(fmt, v) : std::string(); };
  for (const Result* b : Results(r)) {
    out += b->suite + "," + b->workload + "," + b->engine + "," + cell("%.0f", b->n) + "," +
           cell("%.6f", b->seconds) + "," + cell("%.1f", b->ops_per_s) + "," +
           cell("%.3f", b->p50_us) + "," + cell("%.3f", b->p99_us) + "," +
           cell("%.3f", b->p999_us) + "," + cell("%.0f", b->file_bytes) + "," +
           cell("%.0f", b->peak_rss_bytes) + "\n";
  }
  return out;
}

}  // namespace revkv::bench
