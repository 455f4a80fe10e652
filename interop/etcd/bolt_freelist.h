// bbolt 1.3's freelist page: the ids of the free (and pending) pages, as
// u64s after the page header, ascending. When there are 0xFFFF or more the
// header's count is 0xFFFF and the real count is the first u64. Both of
// bbolt's freelist types (array and hashmap) write this same page; they
// differ only in memory. etcd 3.4 syncs no freelist (NoFreelistSync): its
// metas say kNoFreelist, and bbolt rebuilds the list by scanning.
//
// Thread-safety: pure functions.
#ifndef REVKV_INTEROP_ETCD_BOLT_FREELIST_H_
#define REVKV_INTEROP_ETCD_BOLT_FREELIST_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "interop/etcd/bolt_page.h"

namespace revkv::interop::etcd {

// The page ids a freelist page lists, checked: strictly ascending, each a
// data page (>= 2) below `high_water`, and the list inside the page span.
absl::StatusOr<std::vector<uint64_t>> DecodeFreelist(const Page& page, uint64_t high_water);

// The bytes of a freelist page span listing `ids` (ascending) as page `id`
// of `page_size`-byte pages, overflow pages included (for tests and the
// writer).
std::string EncodeFreelist(uint64_t id, uint32_t page_size, const std::vector<uint64_t>& ids);

}  // namespace revkv::interop::etcd

#endif  // REVKV_INTEROP_ETCD_BOLT_FREELIST_H_
