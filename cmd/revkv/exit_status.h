// etcdctl's exit codes, carried on an absl::Status as a payload so that
// errors flow as statuses and main() prints `Error: <message>` and exits with
// the right code.
//
// Thread-safety: pure functions.
#ifndef REVKV_CMD_REVKV_EXIT_STATUS_H_
#define REVKV_CMD_REVKV_EXIT_STATUS_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/string_view.h"

namespace revkv::cli {

inline constexpr int kExitSuccess = 0;
inline constexpr int kExitError = 1;         // server / general
inline constexpr int kExitInvalidInput = 3;
inline constexpr int kExitBadFeature = 4;
inline constexpr int kExitBadArgs = 128;

inline constexpr char kExitCodeUrl[] = "revkv.dev/exit-code";

// An error with etcdctl exit code `code` and message `msg` (printed verbatim).
inline absl::Status ExitError(int code, absl::string_view msg) {
  absl::Status s = absl::UnknownError(msg);
  s.SetPayload(kExitCodeUrl, absl::Cord(std::to_string(code)));
  return s;
}

// The exit code of `s`: its payload, else 1 (0 for OK).
inline int ExitCodeOf(const absl::Status& s) {
  if (s.ok()) return 0;
  auto p = s.GetPayload(kExitCodeUrl);
  if (!p.has_value()) return kExitError;
  return std::stoi(std::string(*p));
}

// A flag-parsing error: cobra prints the usage too.
inline constexpr char kUsageUrl[] = "revkv.dev/show-usage";
inline absl::Status UsageError(absl::string_view msg) {
  absl::Status s = ExitError(kExitError, msg);
  s.SetPayload(kUsageUrl, absl::Cord("1"));
  return s;
}
inline bool WantsUsage(const absl::Status& s) { return s.GetPayload(kUsageUrl).has_value(); }

// An error whose message is printed as it is, without "Error: " (a Go panic,
// a fatal log line, etcdctl's "unsupported API version").
inline constexpr char kRawMessageUrl[] = "revkv.dev/raw-message";
inline absl::Status RawError(int code, absl::string_view msg) {
  absl::Status s = ExitError(code, msg);
  s.SetPayload(kRawMessageUrl, absl::Cord("1"));
  return s;
}
inline bool IsRawMessage(const absl::Status& s) {
  return s.GetPayload(kRawMessageUrl).has_value();
}

}  // namespace revkv::cli

#endif  // REVKV_CMD_REVKV_EXIT_STATUS_H_
