// Output of a finished Report in the format the common flags ask for.
//
// Thread-compatible: call from the main thread.
#ifndef REVKV_BENCH_OUTPUT_H_
#define REVKV_BENCH_OUTPUT_H_

#include <string>

#include "bench/flags.h"
#include "bench/report.h"

namespace revkv::bench {

// Prints `report` to stdout as JSON lines (--json), CSV (--csv) or a table
// (`*table` when given, else FormatTable), and writes the SVG plot when
// --plot is given. Returns the exit code (1 after "Error: ..." on stderr
// when the plot cannot be written).
int EmitReport(const Report& report, const CommonFlags& flags, const std::string* table = nullptr);

}  // namespace revkv::bench

#endif  // REVKV_BENCH_OUTPUT_H_
