#include "mvcc/key_value.h"

#include <cstring>

#include "util/varint.h"

namespace revkv::mvcc {
namespace {

// The encoder sizes the output once and writes bytes through a pointer:
// appending byte by byte cost a capacity check per byte on the hot put path.
size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

char* WriteVarint(uint64_t v, char* p) {
  while (v >= 0x80) {
    *p++ = char(v | 0x80);
    v >>= 7;
  }
  *p++ = char(v);
  return p;
}

size_t IntFieldSize(int64_t v) { return v == 0 ? 0 : 1 + VarintSize(uint64_t(v)); }

char* WriteIntField(int field, int64_t v, char* p) {
  if (v == 0) return p;
  *p++ = char(field << 3);              // wire type 0: varint
  return WriteVarint(uint64_t(v), p);  // negative int64 takes 10 bytes, as in Go
}

size_t BytesFieldSize(std::string_view v) {
  return v.empty() ? 0 : 1 + VarintSize(v.size()) + v.size();
}

char* WriteBytesField(int field, std::string_view v, char* p) {
  if (v.empty()) return p;
  *p++ = char(field << 3 | 2);  // wire type 2: length-delimited
  p = WriteVarint(v.size(), p);
  std::memcpy(p, v.data(), v.size());
  return p + v.size();
}

}  // namespace

void EncodeKeyValue(const KeyValue& kv, std::string* out) {
  EncodeKeyValue(KeyValueView{kv.key, kv.create_revision, kv.mod_revision, kv.version, kv.value,
                              kv.lease},
                 out);
}

void EncodeKeyValue(const KeyValueView& kv, std::string* out) {
  const size_t size = BytesFieldSize(kv.key) + IntFieldSize(kv.create_revision) +
                      IntFieldSize(kv.mod_revision) + IntFieldSize(kv.version) +
                      BytesFieldSize(kv.value) + IntFieldSize(kv.lease);
  const size_t start = out->size();
  out->resize(start + size);
  char* p = out->data() + start;
  p = WriteBytesField(1, kv.key, p);
  p = WriteIntField(2, kv.create_revision, p);
  p = WriteIntField(3, kv.mod_revision, p);
  p = WriteIntField(4, kv.version, p);
  p = WriteBytesField(5, kv.value, p);
  WriteIntField(6, kv.lease, p);
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
    if (!util::GetVarint(&data, &tag)) return bad();
    int field = int(tag >> 3), wire = int(tag & 7);
    if (wire == 0) {
      uint64_t v;
      if (!util::GetVarint(&data, &v)) return bad();
      if (field == 2) *create_revision = int64_t(v);
      if (field == 4) *version = int64_t(v);
    } else if (wire == 2) {
      uint64_t n;
      if (!util::GetVarint(&data, &n) || n > data.size()) return bad();
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
    if (!util::GetVarint(&data, &tag)) return bad();
    int field = int(tag >> 3), wire = int(tag & 7);
    if (wire == 0) {
      uint64_t v;
      if (!util::GetVarint(&data, &v)) return bad();
      switch (field) {
        case 2: kv->create_revision = int64_t(v); break;
        case 3: kv->mod_revision = int64_t(v); break;
        case 4: kv->version = int64_t(v); break;
        case 6: kv->lease = int64_t(v); break;
        default: break;
      }
    } else if (wire == 2) {
      uint64_t n;
      if (!util::GetVarint(&data, &n) || n > data.size()) return bad();
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
