// Errors of the bbolt reader: every damage found in an etcd (bbolt 1.3)
// file is a DataLoss status carrying two payloads, so that callers and tests
// tell them apart by code and payload, never by message text:
//
//   kBoltErrorUrl  what is wrong (one of the kBolt* names below)
//   kBoltPageUrl   the page it was found on, in decimal ("-" for the file
//                  as a whole, e.g. too short to hold the meta pages)
//
// Thread-safety: pure functions.
#ifndef REVKV_INTEROP_ETCD_BOLT_ERROR_H_
#define REVKV_INTEROP_ETCD_BOLT_ERROR_H_

#include <cstdint>
#include <optional>
#include <string_view>

#include "absl/status/status.h"

namespace revkv::interop::etcd {

inline constexpr char kBoltErrorUrl[] = "revkv.interop.bolt.error";
inline constexpr char kBoltPageUrl[] = "revkv.interop.bolt.page";

// What is wrong.
inline constexpr char kBoltNotBolt[] = "not-bolt";            // no valid meta page at all
inline constexpr char kBoltBadMeta[] = "bad-meta";            // both metas invalid
inline constexpr char kBoltPageOutOfRange[] = "page-out-of-range";  // past the file or high water
inline constexpr char kBoltBadPageHeader[] = "bad-page-header";  // id, flags, count or overflow
inline constexpr char kBoltBadElement[] = "bad-element";      // an element outside its page
inline constexpr char kBoltUnsorted[] = "unsorted-keys";      // keys not strictly ascending
inline constexpr char kBoltPageReused[] = "page-reused";      // a page reached twice (cycle)
inline constexpr char kBoltTooDeep[] = "tree-too-deep";
inline constexpr char kBoltBadBucket[] = "bad-bucket";        // a bucket header or inline page
inline constexpr char kBoltBadFreelist[] = "bad-freelist";
inline constexpr char kBoltFreeInUse[] = "free-page-in-use";  // a freed page still reachable

// DataLoss named `what`, found on page `page` (nullopt: the whole file).
absl::Status BoltError(const char* what, std::optional<uint64_t> page, std::string_view message);

// Whether `s` is a BoltError named `what`.
bool IsBoltError(const absl::Status& s, const char* what);
// Whether `s` is any BoltError.
bool IsBoltDamage(const absl::Status& s);
// The page a BoltError names; nullopt when it names none (or is no BoltError).
std::optional<uint64_t> BoltErrorPage(const absl::Status& s);

}  // namespace revkv::interop::etcd

#endif  // REVKV_INTEROP_ETCD_BOLT_ERROR_H_
