// The mvcc store's errors, with etcd's messages.
//
// Each error carries a payload under kErrorPayloadUrl naming it, and the
// Is* helpers recognise an error by its code and that payload, never by its
// message text.
//
// Thread-safety: pure functions.
#ifndef REVKV_MVCC_ERRORS_H_
#define REVKV_MVCC_ERRORS_H_

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/string_view.h"

namespace revkv::mvcc {

inline constexpr char kCompactedMessage[] = "mvcc: required revision has been compacted";
inline constexpr char kFutureRevMessage[] = "mvcc: required revision is a future revision";
inline constexpr char kClosedMessage[] = "mvcc: closed";
inline constexpr char kEmptyKeyMessage[] = "etcdserver: key is not provided";
inline constexpr char kRevisionExhaustedMessage[] =
    "mvcc: the revision would pass the largest revision (9223372036854775807); no more writes";

// The payload type URL that names an mvcc error.
inline constexpr char kErrorPayloadUrl[] = "revkv.mvcc.error";

namespace errors_internal {
inline absl::Status Make(absl::Status s, const char* name) {
  s.SetPayload(kErrorPayloadUrl, absl::Cord(absl::string_view(name)));
  return s;
}
inline bool Is(const absl::Status& s, absl::StatusCode code, const char* name) {
  if (s.code() != code) return false;
  auto p = s.GetPayload(kErrorPayloadUrl);
  return p.has_value() && *p == absl::string_view(name);
}
}  // namespace errors_internal

inline absl::Status ErrCompacted() {
  return errors_internal::Make(absl::OutOfRangeError(kCompactedMessage), "compacted");
}
inline absl::Status ErrFutureRev() {
  return errors_internal::Make(absl::OutOfRangeError(kFutureRevMessage), "future");
}
inline absl::Status ErrClosed() {
  return errors_internal::Make(absl::UnavailableError(kClosedMessage), "closed");
}
// A write that would take a revision past INT64_MAX.
inline absl::Status ErrRevisionExhausted() {
  return errors_internal::Make(absl::ResourceExhaustedError(kRevisionExhaustedMessage),
                               "revision-exhausted");
}

inline bool IsCompacted(const absl::Status& s) {
  return errors_internal::Is(s, absl::StatusCode::kOutOfRange, "compacted");
}
inline bool IsFutureRev(const absl::Status& s) {
  return errors_internal::Is(s, absl::StatusCode::kOutOfRange, "future");
}
inline bool IsClosed(const absl::Status& s) {
  return errors_internal::Is(s, absl::StatusCode::kUnavailable, "closed");
}
inline bool IsRevisionExhausted(const absl::Status& s) {
  return errors_internal::Is(s, absl::StatusCode::kResourceExhausted, "revision-exhausted");
}

}  // namespace revkv::mvcc

#endif  // REVKV_MVCC_ERRORS_H_
