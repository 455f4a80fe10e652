#include "interop/etcd/bolt_freelist.h"

#include "absl/strings/str_format.h"
#include "interop/etcd/bolt_error.h"

namespace revkv::interop::etcd {

absl::StatusOr<std::vector<uint64_t>> DecodeFreelist(const Page& page, uint64_t high_water) {
  if (page.flags() != kFreelistPageFlag) {
    return BoltError(kBoltBadFreelist, page.id(),
                     absl::StrFormat("the meta's freelist page has flags 0x%x", page.flags()));
  }
  const std::string_view b = page.bytes();
  uint64_t count = page.count();
  size_t first = kPageHeaderSize;
  if (count == 0xFFFF) {  // the real count leads the list
    count = Load64(b.data() + kPageHeaderSize);
    first += 8;
  }
  // Divide rather than multiply: a damaged count must not wrap.
  if (count > (b.size() - first) / 8) {
    return BoltError(kBoltBadFreelist, page.id(),
                     absl::StrFormat("%d ids do not fit the %d-byte span", count, b.size()));
  }
  std::vector<uint64_t> ids;
  ids.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t id = Load64(b.data() + first + i * 8);
    if (id < 2 || id >= high_water || (!ids.empty() && id <= ids.back())) {
      return BoltError(kBoltBadFreelist, page.id(),
                       absl::StrFormat("entry %d is page %d: not an ascending data page below %d",
                                       i, id, high_water));
    }
    ids.push_back(id);
  }
  return ids;
}

std::string EncodeFreelist(uint64_t id, uint32_t page_size, const std::vector<uint64_t>& ids) {
  const bool big = ids.size() >= 0xFFFF;
  const size_t bytes = kPageHeaderSize + (big ? 8 : 0) + ids.size() * 8;
  const size_t pages = (bytes + page_size - 1) / page_size;
  std::string out(pages * page_size, '\0');
  char* p = out.data();
  std::memcpy(p, &id, 8);
  const uint16_t flags = kFreelistPageFlag;
  const uint16_t count = big ? 0xFFFF : uint16_t(ids.size());
  const uint32_t overflow = uint32_t(pages - 1);
  std::memcpy(p + 8, &flags, 2);
  std::memcpy(p + 10, &count, 2);
  std::memcpy(p + 12, &overflow, 4);
  char* q = p + kPageHeaderSize;
  if (big) {
    const uint64_t n = ids.size();
    std::memcpy(q, &n, 8);
    q += 8;
  }
  for (uint64_t v : ids) {
    std::memcpy(q, &v, 8);
    q += 8;
  }
  return out;
}

}  // namespace revkv::interop::etcd
