#include "kvstore/dkv/error.h"

#include "absl/strings/str_cat.h"

namespace revkv::kvstore::dkv {

Error NewError(RetCode code, std::string message) { return Error{code, std::move(message)}; }

std::string Error::ToString() const {
  const char* name = "Unknown";
  switch (code) {
    case RetCode::kSuccess: name = "Success"; break;
    case RetCode::kInternalError: name = "RetCInternalError"; break;
    case RetCode::kUnsupportedOperation: name = "UnsupportedOperation"; break;
    case RetCode::kInvalidOperation: name = "InvalidOperation"; break;
  }
  return absl::StrCat("KVStoreError (code ", name, "): ", message);
}

absl::Status Error::ToStatus() const {
  switch (code) {
    case RetCode::kSuccess: return absl::OkStatus();
    case RetCode::kUnsupportedOperation: return absl::UnimplementedError(message);
    case RetCode::kInvalidOperation: return absl::FailedPreconditionError(message);
    case RetCode::kInternalError: break;
  }
  return absl::InternalError(message);
}

Error ErrorFromStatus(const absl::Status& status) {
  RetCode code;
  switch (status.code()) {
    case absl::StatusCode::kOk: code = RetCode::kSuccess; break;
    case absl::StatusCode::kUnimplemented: code = RetCode::kUnsupportedOperation; break;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kUnavailable: code = RetCode::kInvalidOperation; break;
    default: code = RetCode::kInternalError; break;
  }
  return Error{code, std::string(status.message())};
}

}  // namespace revkv::kvstore::dkv
