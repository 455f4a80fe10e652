// The mvcc store's errors, with etcd's messages.
//
// Each error carries a payload under kErrorPayloadUrl naming it, and the
// Is* helpers recognise an error by its code and that payload, never by its
// message text.
//
// Thread-safety: pure functions.
#ifndef REVKV_MVCC_ERRORS_H_
#define REVKV_MVCC_ERRORS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "util/status_payload.h"

namespace revkv::mvcc {

inline constexpr char kCompactedMessage[] = "mvcc: required revision has been compacted";
inline constexpr char kFutureRevMessage[] = "mvcc: required revision is a future revision";
inline constexpr char kClosedMessage[] = "mvcc: closed";
inline constexpr char kEmptyKeyMessage[] = "etcdserver: key is not provided";
inline constexpr char kRevisionExhaustedMessage[] =
    "mvcc: the revision would pass the largest revision (9223372036854775807); no more writes";

// The payload type URL that names an mvcc error.
inline constexpr char kErrorPayloadUrl[] = "revkv.mvcc.error";

inline absl::Status ErrCompacted() {
  return util::WithName(absl::OutOfRangeError(kCompactedMessage), kErrorPayloadUrl, "compacted");
}
inline absl::Status ErrFutureRev() {
  return util::WithName(absl::OutOfRangeError(kFutureRevMessage), kErrorPayloadUrl, "future");
}
inline absl::Status ErrClosed() {
  return util::WithName(absl::UnavailableError(kClosedMessage), kErrorPayloadUrl, "closed");
}
// A write that would take a revision past INT64_MAX.
inline absl::Status ErrRevisionExhausted() {
  return util::WithName(absl::ResourceExhaustedError(kRevisionExhaustedMessage), kErrorPayloadUrl,
                        "revision-exhausted");
}

// A read that a Store::Reload passed (the store's data was replaced by a
// Raft snapshot while it ran): its answer is not to be trusted; read again.
inline absl::Status ErrRestored() {
  return util::WithName(
      absl::UnavailableError("mvcc: the store was restored from a snapshot during the read"),
      kErrorPayloadUrl, "restored");
}

// An index checkpoint that failed verification (mvcc/checkpoint.h); `why`
// says how. Open rebuilds the index from the key bucket instead and reports
// this among Store::open_warnings().
inline absl::Status ErrCheckpointRejected(const std::string& why) {
  return util::WithName(
      absl::DataLossError(absl::StrCat("mvcc: index checkpoint rejected: ", why)),
      kErrorPayloadUrl, "checkpoint-rejected");
}

inline bool IsCompacted(const absl::Status& s) {
  return util::IsNamed(s, absl::StatusCode::kOutOfRange, kErrorPayloadUrl, "compacted");
}
inline bool IsFutureRev(const absl::Status& s) {
  return util::IsNamed(s, absl::StatusCode::kOutOfRange, kErrorPayloadUrl, "future");
}
inline bool IsClosed(const absl::Status& s) {
  return util::IsNamed(s, absl::StatusCode::kUnavailable, kErrorPayloadUrl, "closed");
}
inline bool IsRestored(const absl::Status& s) {
  return util::IsNamed(s, absl::StatusCode::kUnavailable, kErrorPayloadUrl, "restored");
}
inline bool IsCheckpointRejected(const absl::Status& s) {
  return util::IsNamed(s, absl::StatusCode::kDataLoss, kErrorPayloadUrl, "checkpoint-rejected");
}
inline bool IsRevisionExhausted(const absl::Status& s) {
  return util::IsNamed(s, absl::StatusCode::kResourceExhausted, kErrorPayloadUrl,
                       "revision-exhausted");
}

}  // namespace revkv::mvcc

#endif  // REVKV_MVCC_ERRORS_H_
