#include "lease/lease_record.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "lease/errors.h"
#include "util/varint.h"

namespace revkv::lease {
namespace {

// etcd's MaxLeaseTTL; a record past it was never granted.
constexpr int64_t kMaxRecordTTL = 9'000'000'000;

void PutField(int field, int64_t v, std::string* out) {
  if (v == 0) return;  // proto3: a zero field is absent
  util::PutVarint(uint64_t(field) << 3, out);
  util::PutVarint(uint64_t(v), out);
}

absl::Status Bad(std::string_view key, std::string_view why) {
  return ErrBadLeaseRecord(absl::StrCat("lease: the \"", kLeaseBucket, "\" bucket's record at key ",
                                        absl::BytesToHexString(absl::string_view(key.data(), key.size())),
                                        " is damaged: ", absl::string_view(why.data(), why.size())));
}

}  // namespace

std::string EncodeLeaseKey(int64_t id) {
  std::string k(8, '\0');
  for (int i = 0; i < 8; ++i) k[size_t(i)] = char(uint64_t(id) >> (56 - 8 * i));
  return k;
}

std::string EncodeLeaseRecord(const LeaseRecord& r) {
  std::string out;
  PutField(1, r.id, &out);
  PutField(2, r.ttl, &out);
  PutField(3, r.remaining_ttl, &out);
  return out;
}

absl::Status DecodeLeaseRecord(std::string_view key, std::string_view value, LeaseRecord* out) {
  if (key.size() != 8) return Bad(key, absl::StrCat("the key is ", key.size(), " bytes, not 8"));
  uint64_t key_id = 0;
  for (char c : key) key_id = (key_id << 8) | uint8_t(c);
  LeaseRecord r;
  std::string_view in = value;
  while (!in.empty()) {
    uint64_t tag = 0, v = 0;
    if (!util::GetVarint(&in, &tag)) return Bad(key, "a field tag is truncated");
    const uint64_t field = tag >> 3;
    const int wire = int(tag & 7);
    if (field == 0) return Bad(key, "field number 0");
    if (field <= 3) {
      if (wire != 0) return Bad(key, absl::StrCat("field ", field, " is not a varint"));
      if (!util::GetVarint(&in, &v)) return Bad(key, absl::StrCat("field ", field, " is truncated"));
      (field == 1 ? r.id : field == 2 ? r.ttl : r.remaining_ttl) = int64_t(v);
      continue;
    }
    // An unknown field (a later etcd's) is skipped, as protobuf does.
    switch (wire) {
      case 0:
        if (!util::GetVarint(&in, &v)) return Bad(key, "an unknown field is truncated");
        break;
      case 1:
      case 5: {
        const size_t n = wire == 1 ? 8 : 4;
        if (in.size() < n) return Bad(key, "an unknown field is truncated");
        in.remove_prefix(n);
        break;
      }
      case 2:
        if (!util::GetVarint(&in, &v) || v > in.size()) {
          return Bad(key, "an unknown field is truncated");
        }
        in.remove_prefix(size_t(v));
        break;
      default:
        return Bad(key, absl::StrCat("wire type ", wire));
    }
  }
  if (r.id != int64_t(key_id)) {
    return Bad(key, absl::StrCat("its ID ", r.id, " is not its key's ", int64_t(key_id)));
  }
  if (r.id == 0) return Bad(key, "lease ID 0");
  if (r.ttl <= 0 || r.ttl > kMaxRecordTTL) return Bad(key, absl::StrCat("TTL ", r.ttl));
  if (r.remaining_ttl < 0 || r.remaining_ttl > r.ttl) {
    return Bad(key, absl::StrCat("remaining TTL ", r.remaining_ttl, " of TTL ", r.ttl));
  }
  *out = r;
  return absl::OkStatus();
}

}  // namespace revkv::lease
