// The backend's own errors, recognised by code and payload (see
// util/status_payload.h), never by message text.
//
// Thread-safety: pure functions.
#ifndef REVKV_BACKEND_ERRORS_H_
#define REVKV_BACKEND_ERRORS_H_

#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "util/status_payload.h"

namespace revkv::backend {

inline constexpr char kErrorPayloadUrl[] = "revkv.backend.error";

// A write to a backend opened read-only (BackendConfig::read_only).
inline absl::Status ErrReadOnly(std::string_view path) {
  return util::WithName(
      absl::FailedPreconditionError(absl::StrFormat("backend: %s is open read-only", path)),
      kErrorPayloadUrl, "read-only");
}

inline bool IsReadOnly(const absl::Status& s) {
  return util::IsNamed(s, absl::StatusCode::kFailedPrecondition, kErrorPayloadUrl, "read-only");
}

}  // namespace revkv::backend

#endif  // REVKV_BACKEND_ERRORS_H_
