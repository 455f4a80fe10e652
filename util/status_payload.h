// Errors recognised by what they are, not by what they say: a status gets a
// payload naming it under a type URL of its layer, and a test reads the code
// and that payload, never the message text (which may change or be
// translated for people).
//
// Thread-safety: pure functions.
#ifndef REVKV_UTIL_STATUS_PAYLOAD_H_
#define REVKV_UTIL_STATUS_PAYLOAD_H_

#include <string>

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

// A copy of `s` that shares nothing with it. absl::Status copies share one
// reference-counted representation, counted inside the system's Abseil,
// which ThreadSanitizer does not see: a status handed to several threads
// (one result for every waiter of a round) is copied with this, so that
// each thread frees its own.
inline absl::Status UnsharedCopy(const absl::Status& s) {
  if (s.ok()) return absl::OkStatus();
  absl::Status copy(s.code(), std::string(s.message()));
  s.ForEachPayload([&copy](absl::string_view url, const absl::Cord& payload) {
    copy.SetPayload(url, absl::Cord(std::string(payload)));
  });
  return copy;
}

}  // namespace revkv::util

#endif  // REVKV_UTIL_STATUS_PAYLOAD_H_
