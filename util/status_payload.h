// Errors recognised by what they are, not by what they say: a status gets a
// payload naming it under a type URL of its layer, and a test reads the code
// and that payload, never the message text (which may change or be
// translated for people).
//
// Thread-safety: pure functions.
#ifndef REVKV_UTIL_STATUS_PAYLOAD_H_
#define REVKV_UTIL_STATUS_PAYLOAD_H_

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/string_view.h"

namespace revkv::util {

// `s` with the payload `name` under `url`.
inline absl::Status WithName(absl::Status s, const char* url, const char* name) {
  s.SetPayload(url, absl::Cord(absl::string_view(name)));
  return s;
}

// Whether `s` has code `code` and the payload `name` under `url`.
inline bool IsNamed(const absl::Status& s, absl::StatusCode code, const char* url,
                    const char* name) {
  if (s.code() != code) return false;
  auto p = s.GetPayload(url);
  return p.has_value() && *p == absl::string_view(name);
}

}  // namespace revkv::util

#endif  // REVKV_UTIL_STATUS_PAYLOAD_H_
