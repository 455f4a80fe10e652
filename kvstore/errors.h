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
// Thread-safety: pure functions.
#ifndef REVKV_KVSTORE_ERRORS_H_
#define REVKV_KVSTORE_ERRORS_H_

#include "absl/status/status.h"
#include "absl/strings/match.h"

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

inline absl::Status ErrKeyModified() { return absl::FailedPreconditionError(kKeyModifiedMessage); }
inline absl::Status ErrKeyNotFound() { return absl::NotFoundError(kKeyNotFoundMessage); }
inline absl::Status ErrPreviousNotSpecified() {
  return absl::InvalidArgumentError(kPreviousNotSpecifiedMessage);
}
inline absl::Status ErrKeyExists() { return absl::AlreadyExistsError(kKeyExistsMessage); }
// libkv appends the supported backends to the message, as NewStore does.
inline absl::Status ErrBackendNotSupported() {
  return absl::UnimplementedError(std::string(kBackendNotSupportedMessage) + " revkv");
}
inline absl::Status ErrBucketOptionMissing() {
  return absl::InvalidArgumentError(kBucketOptionMissingMessage);
}
inline absl::Status ErrStoreClosed() { return absl::FailedPreconditionError(kStoreClosedMessage); }

inline bool IsKeyModified(const absl::Status& s) {
  return absl::IsFailedPrecondition(s) && s.message() == kKeyModifiedMessage;
}
inline bool IsKeyNotFound(const absl::Status& s) {
  return absl::IsNotFound(s) && s.message() == kKeyNotFoundMessage;
}
inline bool IsPreviousNotSpecified(const absl::Status& s) {
  return absl::IsInvalidArgument(s) && s.message() == kPreviousNotSpecifiedMessage;
}
inline bool IsKeyExists(const absl::Status& s) {
  return absl::IsAlreadyExists(s) && s.message() == kKeyExistsMessage;
}
inline bool IsBackendNotSupported(const absl::Status& s) {
  return absl::IsUnimplemented(s) && absl::StartsWith(s.message(), kBackendNotSupportedMessage);
}
inline bool IsBucketOptionMissing(const absl::Status& s) {
  return absl::IsInvalidArgument(s) && s.message() == kBucketOptionMissingMessage;
}
inline bool IsStoreClosed(const absl::Status& s) {
  return absl::IsFailedPrecondition(s) && s.message() == kStoreClosedMessage;
}

}  // namespace revkv::kvstore

#endif  // REVKV_KVSTORE_ERRORS_H_
