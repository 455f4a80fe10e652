// The libkv error values (libnetwork/internal/kvstore), with libkv's
// messages, as absl::Status values, and a helper per error to tell them apart.
//
//   error                    code                 when
//   ErrKeyModified           FailedPrecondition   an atomic operation's previous
//                                                 index is not the key's index
//   ErrKeyNotFound           NotFound             the key (or, for List, any key
//                                                 under the directory) is missing
//   ErrPreviousNotSpecified  InvalidArgument      AtomicDelete without previous
//   ErrKeyExists             AlreadyExists        AtomicPut create of a present key
//   ErrBackendNotSupported   Unimplemented        New with an unknown backend name
//   ErrBucketOptionMissing   InvalidArgument      New with an empty Config.bucket
//                                                 (bbolt's ErrBoltBucketOptionMissing)
//   ErrStoreClosed           FailedPrecondition   any call after Close
//
// Other statuses (I/O errors, corruption) come from the layers below unchanged.
//
// Each carries a payload naming it; the Is* helpers recognise an error by
// its code and that payload, never by its message text.
//
// Thread-safety: pure functions.
#ifndef REVKV_KVSTORE_ERRORS_H_
#define REVKV_KVSTORE_ERRORS_H_

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/string_view.h"

namespace revkv::kvstore {

inline constexpr char kKeyModifiedMessage[] = "Unable to complete atomic operation, key modified";
inline constexpr char kKeyNotFoundMessage[] = "Key not found in store";
inline constexpr char kPreviousNotSpecifiedMessage[] =
    "Previous K/V pair should be provided for the Atomic operation";
inline constexpr char kKeyExistsMessage[] =
    "Previous K/V pair exists, cannot complete Atomic operation";
inline constexpr char kBackendNotSupportedMessage[] =
    "Backend storage not supported yet, please choose one of";
inline constexpr char kBucketOptionMissingMessage[] = "boltBucket config option missing";
inline constexpr char kStoreClosedMessage[] = "kvstore: store is closed";

// The payload type URL that names a libkv error; the Is* helpers read it.
inline constexpr char kErrorPayloadUrl[] = "revkv.kvstore.error";

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

inline absl::Status ErrKeyModified() {
  return errors_internal::Make(absl::FailedPreconditionError(kKeyModifiedMessage), "modified");
}
inline absl::Status ErrKeyNotFound() {
  return errors_internal::Make(absl::NotFoundError(kKeyNotFoundMessage), "not-found");
}
inline absl::Status ErrPreviousNotSpecified() {
  return errors_internal::Make(absl::InvalidArgumentError(kPreviousNotSpecifiedMessage),
                               "previous-not-specified");
}
inline absl::Status ErrKeyExists() {
  return errors_internal::Make(absl::AlreadyExistsError(kKeyExistsMessage), "exists");
}
// libkv appends the supported backends to the message, as NewStore does.
inline absl::Status ErrBackendNotSupported() {
  return errors_internal::Make(
      absl::UnimplementedError(std::string(kBackendNotSupportedMessage) + " revkv"),
      "backend-not-supported");
}
inline absl::Status ErrBucketOptionMissing() {
  return errors_internal::Make(absl::InvalidArgumentError(kBucketOptionMissingMessage),
                               "bucket-option-missing");
}
inline absl::Status ErrStoreClosed() {
  return errors_internal::Make(absl::FailedPreconditionError(kStoreClosedMessage), "closed");
}

inline bool IsKeyModified(const absl::Status& s) {
  return errors_internal::Is(s, absl::StatusCode::kFailedPrecondition, "modified");
}
inline bool IsKeyNotFound(const absl::Status& s) {
  return errors_internal::Is(s, absl::StatusCode::kNotFound, "not-found");
}
inline bool IsPreviousNotSpecified(const absl::Status& s) {
  return errors_internal::Is(s, absl::StatusCode::kInvalidArgument, "previous-not-specified");
}
inline bool IsKeyExists(const absl::Status& s) {
  return errors_internal::Is(s, absl::StatusCode::kAlreadyExists, "exists");
}
inline bool IsBackendNotSupported(const absl::Status& s) {
  return errors_internal::Is(s, absl::StatusCode::kUnimplemented, "backend-not-supported");
}
inline bool IsBucketOptionMissing(const absl::Status& s) {
  return errors_internal::Is(s, absl::StatusCode::kInvalidArgument, "bucket-option-missing");
}
inline bool IsStoreClosed(const absl::Status& s) {
  return errors_internal::Is(s, absl::StatusCode::kFailedPrecondition, "closed");
}

}  // namespace revkv::kvstore

#endif  // REVKV_KVSTORE_ERRORS_H_
