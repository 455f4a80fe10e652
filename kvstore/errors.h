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
#include "util/status_payload.h"

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

inline absl::Status ErrKeyModified() {
  return util::WithName(absl::FailedPreconditionError(kKeyModifiedMessage), kErrorPayloadUrl,
                        "modified");
}
inline absl::Status ErrKeyNotFound() {
  return util::WithName(absl::NotFoundError(kKeyNotFoundMessage), kErrorPayloadUrl, "not-found");
}
inline absl::Status ErrPreviousNotSpecified() {
  return util::WithName(absl::InvalidArgumentError(kPreviousNotSpecifiedMessage), kErrorPayloadUrl,
                        "previous-not-specified");
}
inline absl::Status ErrKeyExists() {
  return util::WithName(absl::AlreadyExistsError(kKeyExistsMessage), kErrorPayloadUrl, "exists");
}
// libkv appends the supported backends to the message, as NewStore does.
inline absl::Status ErrBackendNotSupported() {
  return util::WithName(
      absl::UnimplementedError(std::string(kBackendNotSupportedMessage) + " revkv"),
      kErrorPayloadUrl, "backend-not-supported");
}
inline absl::Status ErrBucketOptionMissing() {
  return util::WithName(absl::InvalidArgumentError(kBucketOptionMissingMessage), kErrorPayloadUrl,
                        "bucket-option-missing");
}
inline absl::Status ErrStoreClosed() {
  return util::WithName(absl::FailedPreconditionError(kStoreClosedMessage), kErrorPayloadUrl,
                        "closed");
}

inline bool IsKeyModified(const absl::Status& s) {
  return util::IsNamed(s, absl::StatusCode::kFailedPrecondition, kErrorPayloadUrl, "modified");
}
inline bool IsKeyNotFound(const absl::Status& s) {
  return util::IsNamed(s, absl::StatusCode::kNotFound, kErrorPayloadUrl, "not-found");
}
inline bool IsPreviousNotSpecified(const absl::Status& s) {
  return util::IsNamed(s, absl::StatusCode::kInvalidArgument, kErrorPayloadUrl,
                       "previous-not-specified");
}
inline bool IsKeyExists(const absl::Status& s) {
  return util::IsNamed(s, absl::StatusCode::kAlreadyExists, kErrorPayloadUrl, "exists");
}
inline bool IsBackendNotSupported(const absl::Status& s) {
  return util::IsNamed(s, absl::StatusCode::kUnimplemented, kErrorPayloadUrl,
                       "backend-not-supported");
}
inline bool IsBucketOptionMissing(const absl::Status& s) {
  return util::IsNamed(s, absl::StatusCode::kInvalidArgument, kErrorPayloadUrl,
                       "bucket-option-missing");
}
inline bool IsStoreClosed(const absl::Status& s) {
  return util::IsNamed(s, absl::StatusCode::kFailedPrecondition, kErrorPayloadUrl, "closed");
}

}  // namespace revkv::kvstore

#endif  // REVKV_KVSTORE_ERRORS_H_
