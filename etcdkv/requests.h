// The etcd v3 KV requests and responses (etcdserverpb's RangeRequest,
// PutRequest, DeleteRangeRequest, TxnRequest and their responses), as plain
// values: what the command line builds and prints and the server converts
// from and to protobuf.
//
// Thread-safety: plain values.
#ifndef REVKV_ETCDKV_REQUESTS_H_
#define REVKV_ETCDKV_REQUESTS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "mvcc/key_value.h"

namespace revkv::etcdkv {

enum class SortTarget { kKey, kVersion, kCreate, kMod, kValue };
enum class SortOrder { kNone, kAscend, kDescend };

// end: "" a single key; "\0" every key >= key; else [key, end).
struct RangeRequest {
  std::string key;
  std::string end;
  int64_t limit = 0;
  int64_t rev = 0;
  bool keys_only = false;
  bool count_only = false;
  SortTarget sort_target = SortTarget::kKey;
  SortOrder sort_order = SortOrder::kNone;
  // etcd's filters on the matches (0: none); gRPC clients only.
  int64_t min_mod_revision = 0;
  int64_t max_mod_revision = 0;
  int64_t min_create_revision = 0;
  int64_t max_create_revision = 0;
};

struct PutRequest {
  std::string key;
  std::string value;
  bool prev_kv = false;
  bool ignore_value = false;
  // The lease to attach the key to (0: none); ignore_lease keeps the one
  // the key has (etcd's PutRequest.lease and ignore_lease).
  int64_t lease = 0;
  bool ignore_lease = false;
};

struct DeleteRequest {
  std::string key;
  std::string end;
  bool prev_kv = false;
};

using RequestOp = std::variant<RangeRequest, PutRequest, DeleteRequest>;

enum class CompareTarget { kVersion, kCreate, kMod, kValue, kLease };
enum class CompareResult { kEqual, kNotEqual, kGreater, kLess, kGreaterEqual, kLessEqual };

struct Compare {
  CompareTarget target = CompareTarget::kValue;
  CompareResult result = CompareResult::kEqual;
  std::string key;
  std::string value;   // kValue
  int64_t number = 0;  // the others
};

struct TxnRequest {
  std::vector<Compare> compares;
  std::vector<RequestOp> success;
  std::vector<RequestOp> failure;
};

struct RangeResponse {
  int64_t revision = 0;
  std::vector<mvcc::KeyValue> kvs;
  bool more = false;
  int64_t count = 0;
};

struct PutResponse {
  int64_t revision = 0;
  std::optional<mvcc::KeyValue> prev_kv;
};

struct DeleteResponse {
  int64_t revision = 0;
  int64_t deleted = 0;
  std::vector<mvcc::KeyValue> prev_kvs;
};

using ResponseOp = std::variant<RangeResponse, PutResponse, DeleteResponse>;

struct TxnResponse {
  int64_t revision = 0;
  bool succeeded = false;
  std::vector<ResponseOp> responses;
};

}  // namespace revkv::etcdkv

#endif  // REVKV_ETCDKV_REQUESTS_H_
