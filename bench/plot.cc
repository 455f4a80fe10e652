#include "bench/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <utility>
#include <vector>

namespace revkv::bench {
namespace {

constexpr int kPanelW = 440, kPanelH = 200, kMarginL = 70, kMarginT = 30, kGap = 40;
constexpr int kRowH = kPanelH + kMarginT + 50;
constexpr int kWidth = 2 * (kMarginL + kPanelW) + kGap + 20;

std::string Esc(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string F(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", v);
  return buf;
}

std::string Short(double v) {
  char buf[32];
  if (v >= 1e6) {
    std::snprintf(buf, sizeof(buf), "%.3gM", v / 1e6);
  } else if (v >= 1e3) {
    std::snprintf(buf, sizeof(buf), "%.3gk", v / 1e3);
  } else {
    std::snprintf(buf, sizeof(buf), "%.3g", v);
  }
  return buf;
}

const char* Color(const std::string& engine) { return engine == "revkv" ? "#1f77b4" : "#ff7f0e"; }

using Points = std::vector<std::pair<double, double>>;  // data coordinates

struct Series {
  std::string engine;
  Points points;
};

// One panel at (x0, y0): axes, tick labels, one polyline per series. The x
// axis is log10 when `log_x`.
std::string Panel(int x0, int y0, const std::string& title, const std::string& xlabel,
                  const std::string& ylabel, const std::vector<Series>& series, bool log_x,
                  double y_max_fixed) {
  double xmin = 1e300, xmax = -1e300, ymax = 0;
  for (const Series& s : series) {
    for (auto [x, y] : s.points) {
      const double lx = log_x ? std::log10(std::max(x, 1e-3)) : x;
      xmin = std::min(xmin, lx);
      xmax = std::max(xmax, lx);
      ymax = std::max(ymax, y);
    }
  }
  if (!log_x) xmin = 0;
  if (log_x) {
    xmin = std::floor(xmin);
    xmax = std::ceil(xmax);
  }
  if (!(xmax > xmin)) xmax = xmin + 1;
  if (y_max_fixed > 0) ymax = y_max_fixed;
  if (!(ymax > 0)) ymax = 1;
  auto px = [&](double x) {
    const double lx = log_x ? std::log10(std::max(x, 1e-3)) : x;
    return x0 + (lx - xmin) / (xmax - xmin) * kPanelW;
  };
  auto py = [&](double y) { return y0 + kPanelH - y / ymax * kPanelH; };
  std::string out;
  out += "<text x=\"" + F(x0) + "\" y=\"" + F(y0 - 8) + "\" class=\"t\">" + Esc(title) + "</text>\n";
  out += "<rect x=\"" + F(x0) + "\" y=\"" + F(y0) + "\" width=\"" + F(kPanelW) + "\" height=\"" +
         F(kPanelH) + "\" class=\"frame\"/>\n";
  for (int i = 0; i <= 4; ++i) {
    const double y = ymax * i / 4;
    out += "<line x1=\"" + F(x0) + "\" x2=\"" + F(x0 + kPanelW) + "\" y1=\"" + F(py(y)) +
           "\" y2=\"" + F(py(y)) + "\" class=\"grid\"/>\n";
    out += "<text x=\"" + F(x0 - 4) + "\" y=\"" + F(py(y) + 4) + "\" class=\"yl\">" + Short(y) +
           "</text>\n";
  }
  const int xticks = log_x ? static_cast<int>(xmax - xmin) : 4;
  for (int i = 0; i <= xticks; ++i) {
    const double lx = xmin + (xmax - xmin) * i / xticks;
    const double sx = x0 + (lx - xmin) / (xmax - xmin) * kPanelW;
    const std::string label = log_x ? Short(std::pow(10.0, lx)) : Short(lx);
    out += "<text x=\"" + F(sx) + "\" y=\"" + F(y0 + kPanelH + 14) + "\" class=\"xl\">" + label +
           "</text>\n";
  }
  out += "<text x=\"" + F(x0 + kPanelW / 2.0) + "\" y=\"" + F(y0 + kPanelH + 30) +
         "\" class=\"xl\">" + Esc(xlabel) + "</text>\n";
  out += "<text x=\"" + F(x0 - 52) + "\" y=\"" + F(y0 + kPanelH / 2.0) +
         "\" class=\"yl\" transform=\"rotate(-90 " + F(x0 - 52) + " " + F(y0 + kPanelH / 2.0) +
         ")\" text-anchor=\"middle\">" + Esc(ylabel) + "</text>\n";
  int legend = 0;
  for (const Series& s : series) {
    if (s.points.empty()) continue;
    std::string pts;
    for (auto [x, y] : s.points) pts += F(px(x)) + "," + F(py(y)) + " ";
    out += "<polyline class=\"line\" stroke=\"" + std::string(Color(s.engine)) +
           "\" data-engine=\"" + Esc(s.engine) + "\" points=\"" + pts + "\"/>\n";
    const double lx = x0 + kPanelW - 90, ly = y0 + 14 + 16 * legend++;
    out += "<line x1=\"" + F(lx) + "\" x2=\"" + F(lx + 20) + "\" y1=\"" + F(ly - 4) + "\" y2=\"" +
           F(ly - 4) + "\" stroke=\"" + Color(s.engine) + "\" stroke-width=\"2\"/>\n";
    out += "<text x=\"" + F(lx + 24) + "\" y=\"" + F(ly) + "\" class=\"lg\">" + Esc(s.engine) +
           "</text>\n";
  }
  return out;
}

// Throughput as a step line: flat over each interval.
Points ThroughputPoints(const Timeline& t) {
  Points p;
  double prev_end = 0;
  for (auto [end, rate] : t.Rates()) {
    p.emplace_back(prev_end, rate);
    p.emplace_back(end, rate);
    prev_end = end;
  }
  return p;
}

// (latency µs, percentile) pairs, denser toward the tail.
Points CdfPoints(const Histogram& h) {
  Points p;
  if (h.Count() == 0) return p;
  std::vector<double> ps;
  for (int i = 0; i <= 90; i += 2) ps.push_back(i);
  for (double q : {92.0, 94.0, 96.0, 97.0, 98.0, 99.0, 99.5, 99.9, 99.95, 99.99, 100.0}) ps.push_back(q);
  for (double q : ps) p.emplace_back(h.Percentile(q) / 1e3, q);
  return p;
}

}  // namespace

std::string RenderSvg(const Report& report) {
  const int height = 50 + static_cast<int>(report.rows.size()) * kRowH;
  std::string out;
  out += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" +
         std::to_string(kWidth) + "\" height=\"" + std::to_string(height) + "\" viewBox=\"0 0 " +
         std::to_string(kWidth) + " " + std::to_string(height) + "\">\n";
  out +=
      "<style>text{font-family:sans-serif;font-size:11px;fill:#222}.t{font-size:13px;"
      "font-weight:bold}.h{font-size:15px;font-weight:bold}.xl{text-anchor:middle}.yl{"
      "text-anchor:end}.frame{fill:none;stroke:#888}.grid{stroke:#ddd}.line{fill:none;"
      "stroke-width:1.5}</style>\n";
  out += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  out += "<text x=\"20\" y=\"26\" class=\"h\">revkv bench " + Esc(report.suite) +
         ": throughput over time (last round) and latency CDF (all rounds)</text>\n";
  int y = 50 + kMarginT;
  for (const Row& row : report.rows) {
    std::vector<Series> rate, cdf;
    std::vector<const Result*> results = {&row.revkv};
    if (row.peer.has_value()) results.push_back(&*row.peer);
    for (const Result* r : results) {
      if (r->timeline != nullptr) rate.push_back({r->engine, ThroughputPoints(*r->timeline)});
      if (r->latency != nullptr) cdf.push_back({r->engine, CdfPoints(*r->latency)});
    }
    out += "<g data-workload=\"" + Esc(row.workload) + "\">\n";
    out += Panel(kMarginL, y, row.workload + ": throughput", "seconds", "ops/s", rate, false, 0);
    out += Panel(2 * kMarginL + kPanelW + kGap, y, row.workload + ": latency CDF",
                 "latency (µs, log scale)", "percentile", cdf, true, 100);
    out += "</g>\n";
    y += kRowH;
  }
  out += "</svg>\n";
  return out;
}

absl::Status WriteSvg(const Report& report, const std::string& path) {
  std::filesystem::path p = path;
  const char* wd = std::getenv("BUILD_WORKING_DIRECTORY");  // under `bazel run`
  if (p.is_relative() && wd != nullptr && *wd != '\0') p = std::filesystem::path(wd) / p;
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  if (!f) return absl::InternalError("cannot write " + p.string());
  const std::string svg = RenderSvg(report);
  f.write(svg.data(), static_cast<std::streamsize>(svg.size()));
  f.close();
  if (!f) return absl::InternalError("writing " + p.string() + " failed");
  return absl::OkStatus();
}

}  // namespace revkv::bench
