// KeyValue: etcd's mvccpb.KeyValue record, and its protobuf wire encoding.
//
// The encoder writes exactly the bytes Go's proto3 marshalling of
// mvccpb.KeyValue writes (fields in number order, zero fields omitted), so
// files and HashKV values match etcd's. It is hand-written for speed; the
// tests check it against protoc-generated code.
//
// Thread-safety: plain values and pure functions.
#ifndef REVKV_MVCC_KEY_VALUE_H_
#define REVKV_MVCC_KEY_VALUE_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace revkv::mvcc {

// One record. Str is std::string for a record that owns its bytes
// (KeyValue, what reads return) or std::string_view for one that views the
// caller's (KeyValueView, what a write encodes without copying first).
template <typename Str>
struct BasicKeyValue {
  Str key;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
  Str value;
  int64_t lease = 0;

  bool operator==(const BasicKeyValue&) const = default;
};
using KeyValue = BasicKeyValue<std::string>;
using KeyValueView = BasicKeyValue<std::string_view>;

// Appends the protobuf encoding of kv to *out.
void EncodeKeyValue(const KeyValueView& kv, std::string* out);
void EncodeKeyValue(const KeyValue& kv, std::string* out);
std::string EncodeKeyValue(const KeyValue& kv);
// Decodes a protobuf-encoded KeyValue; unknown fields are skipped.
absl::Status DecodeKeyValue(std::string_view data, KeyValue* kv);
// Decodes only what restoring the index needs, without copying: the key (a
// view into data), create_revision and version.
absl::Status DecodeKeyValueHeader(std::string_view data, std::string_view* key,
                                  int64_t* create_revision, int64_t* version);

}  // namespace revkv::mvcc

#endif  // REVKV_MVCC_KEY_VALUE_H_
