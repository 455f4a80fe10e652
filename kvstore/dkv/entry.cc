#include "kvstore/dkv/entry.h"

#include "absl/status/status.h"

namespace revkv::kvstore::dkv {
namespace {

void PutInt64(int64_t v, std::string* out) {
  for (int i = 7; i >= 0; --i) out->push_back(char(uint64_t(v) >> (8 * i)));
}

int64_t GetInt64(std::string_view p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return int64_t(v);
}

}  // namespace

std::string EncodeEntry(const Entry& e) {
  std::string out;
  out.reserve(kEntryHeaderSize + e.value.size());
  out.push_back(kEntryVersion);
  PutInt64(e.expire_at.count(), &out);
  PutInt64(e.delete_at.count(), &out);
  out += e.value;
  return out;
}

absl::StatusOr<Entry> DecodeEntry(std::string_view data) {
  if (data.size() < kEntryHeaderSize || data[0] != kEntryVersion) {
    return absl::DataLossError("dkv: value has no valid entry header");
  }
  Entry e;
  e.expire_at = Millis(GetInt64(data.substr(1)));
  e.delete_at = Millis(GetInt64(data.substr(9)));
  e.value.assign(data.substr(kEntryHeaderSize));
  return e;
}

}  // namespace revkv::kvstore::dkv
