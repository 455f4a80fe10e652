#include "mvcc/key_value.h"

namespace revkv::mvcc {
namespace {

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(char(v | 0x80));
    v >>= 7;
  }
  out->push_back(char(v));
}

void PutIntField(int field, int64_t v, std::string* out) {
  if (v == 0) return;
  out->push_back(char(field << 3));  // wire type 0: varint
  PutVarint(uint64_t(v), out);       // negative int64 takes 10 bytes, as in Go
}

void PutBytesField(int field, std::string_view v, std::string* out) {
  if (v.empty()) return;
  out->push_back(char(field << 3 | 2));  // wire type 2: length-delimited
  PutVarint(v.size(), out);
  out->append(v);
}

bool GetVarint(std::string_view* in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64 && !in->empty(); shift += 7) {
    uint8_t b = uint8_t(in->front());
    in->remove_prefix(1);
    *v |= uint64_t(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

}  // namespace

void EncodeKeyValue(const KeyValue& kv, std::string* out) {
  EncodeKeyValue(KeyValueView{kv.key, kv.create_revision, kv.mod_revision, kv.version, kv.value,
                              kv.lease},
                 out);
}

void EncodeKeyValue(const KeyValueView& kv, std::string* out) {
  PutBytesField(1, kv.key, out);
  PutIntField(2, kv.create_revision, out);
  PutIntField(3, kv.mod_revision, out);
  PutIntField(4, kv.version, out);
  PutBytesField(5, kv.value, out);
  PutIntField(6, kv.lease, out);
}

std::string EncodeKeyValue(const KeyValue& kv) {
  std::string out;
  out.reserve(kv.key.size() + kv.value.size() + 40);
  EncodeKeyValue(kv, &out);
  return out;
}

absl::Status DecodeKeyValueHeader(std::string_view data, std::string_view* key,
                                  int64_t* create_revision, int64_t* version) {
  *key = std::string_view();
  *create_revision = *version = 0;
  auto bad = [] { return absl::DataLossError("mvcc: malformed KeyValue record"); };
  while (!data.empty()) {
    uint64_t tag;
    if (!GetVarint(&data, &tag)) return bad();
    int field = int(tag >> 3), wire = int(tag & 7);
    if (wire == 0) {
      uint64_t v;
      if (!GetVarint(&data, &v)) return bad();
      if (field == 2) *create_revision = int64_t(v);
      if (field == 4) *version = int64_t(v);
    } else if (wire == 2) {
      uint64_t n;
      if (!GetVarint(&data, &n) || n > data.size()) return bad();
      if (field == 1) *key = data.substr(0, n);
      data.remove_prefix(n);
    } else if (wire == 1 && data.size() >= 8) {
      data.remove_prefix(8);
    } else if (wire == 5 && data.size() >= 4) {
      data.remove_prefix(4);
    } else {
      return bad();
    }
  }
  return absl::OkStatus();
}

absl::Status DecodeKeyValue(std::string_view data, KeyValue* kv) {
  *kv = KeyValue();
  auto bad = [] { return absl::DataLossError("mvcc: malformed KeyValue record"); };
  while (!data.empty()) {
    uint64_t tag;
    if (!GetVarint(&data, &tag)) return bad();
    int field = int(tag >> 3), wire = int(tag & 7);
    if (wire == 0) {
      uint64_t v;
      if (!GetVarint(&data, &v)) return bad();
      switch (field) {
        case 2: kv->create_revision = int64_t(v); break;
        case 3: kv->mod_revision = int64_t(v); break;
        case 4: kv->version = int64_t(v); break;
        case 6: kv->lease = int64_t(v); break;
        default: break;
      }
    } else if (wire == 2) {
      uint64_t n;
      if (!GetVarint(&data, &n) || n > data.size()) return bad();
      std::string_view v = data.substr(0, n);
      data.remove_prefix(n);
      if (field == 1) kv->key.assign(v);
      if (field == 5) kv->value.assign(v);
    } else if (wire == 1) {
      if (data.size() < 8) return bad();
      data.remove_prefix(8);
    } else if (wire == 5) {
      if (data.size() < 4) return bad();
      data.remove_prefix(4);
    } else {
      return bad();
    }
  }
  return absl::OkStatus();
}

}  // namespace revkv::mvcc
