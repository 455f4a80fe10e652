#include "bench/output.h"

#include <cstdio>

#include "bench/plot.h"

namespace revkv::bench {

int EmitReport(const Report& report, const CommonFlags& flags, const std::string* table) {
  const std::string text = flags.json        ? FormatJson(report)
                           : flags.csv       ? FormatCsv(report)
                           : table != nullptr ? *table
                                             : FormatTable(report);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
  if (!flags.plot.empty()) {
    if (absl::Status s = WriteSvg(report, flags.plot); !s.ok()) {
      std::fprintf(stderr, "Error: %s\n", std::string(s.message()).c_str());
      return 1;
    }
    std::fprintf(stderr, "plot written to %s\n", flags.plot.c_str());
  }
  return 0;
}

}  // namespace revkv::bench
