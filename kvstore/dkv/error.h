// dKV's typed errors: an Error is a return code and a message (dKV's
// store.Error and RetCode), mapped to and from absl::Status.
//
//   RetCode                 from status codes
//   kSuccess                OK
//   kUnsupportedOperation   Unimplemented
//   kInvalidOperation       InvalidArgument, FailedPrecondition, OutOfRange,
//                           Unavailable (e.g. a closed store)
//   kInternalError          everything else (I/O, corruption, ...)
//
// Thread-safety: plain values and pure functions.
#ifndef REVKV_KVSTORE_DKV_ERROR_H_
#define REVKV_KVSTORE_DKV_ERROR_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace revkv::kvstore::dkv {

enum class RetCode : uint64_t {
  kSuccess = 0,               // the command succeeded
  kInternalError = 1,         // it failed on an internal error
  kUnsupportedOperation = 2,  // the database does not support it
  kInvalidOperation = 3,      // it is not valid (now)
};

struct Error {
  RetCode code = RetCode::kSuccess;
  std::string message;

  // "KVStoreError (code InvalidOperation): message", as dKV formats it.
  std::string ToString() const;
  // The status with the code's canonical status code and the message.
  absl::Status ToStatus() const;
  bool operator==(const Error&) const = default;
};

Error NewError(RetCode code, std::string message);
// The Error a status stands for (see the table above).
Error ErrorFromStatus(const absl::Status& status);

inline bool IsInternalError(const absl::Status& s) {
  return ErrorFromStatus(s).code == RetCode::kInternalError;
}
inline bool IsUnsupportedOperation(const absl::Status& s) {
  return ErrorFromStatus(s).code == RetCode::kUnsupportedOperation;
}
inline bool IsInvalidOperation(const absl::Status& s) {
  return ErrorFromStatus(s).code == RetCode::kInvalidOperation;
}

}  // namespace revkv::kvstore::dkv

#endif  // REVKV_KVSTORE_DKV_ERROR_H_
