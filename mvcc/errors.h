// The mvcc store's errors, with etcd's messages.
//
// Thread-safety: pure functions.
#ifndef REVKV_MVCC_ERRORS_H_
#define REVKV_MVCC_ERRORS_H_

#include "absl/status/status.h"

namespace revkv::mvcc {

inline constexpr char kCompactedMessage[] = "mvcc: required revision has been compacted";
inline constexpr char kFutureRevMessage[] = "mvcc: required revision is a future revision";
inline constexpr char kClosedMessage[] = "mvcc: closed";
inline constexpr char kEmptyKeyMessage[] = "etcdserver: key is not provided";

inline absl::Status ErrCompacted() { return absl::OutOfRangeError(kCompactedMessage); }
inline absl::Status ErrFutureRev() { return absl::OutOfRangeError(kFutureRevMessage); }
inline absl::Status ErrClosed() { return absl::UnavailableError(kClosedMessage); }

inline bool IsCompacted(const absl::Status& s) {
  return absl::IsOutOfRange(s) && s.message() == kCompactedMessage;
}
inline bool IsFutureRev(const absl::Status& s) {
  return absl::IsOutOfRange(s) && s.message() == kFutureRevMessage;
}
inline bool IsClosed(const absl::Status& s) {
  return absl::IsUnavailable(s) && s.message() == kClosedMessage;
}

}  // namespace revkv::mvcc

#endif  // REVKV_MVCC_ERRORS_H_
