// Between etcd's wire messages (etcdserverpb, mvccpb) and the plain
// requests and responses the etcdctl-compatible apply code works on
// (etcdkv/requests.h). Nested txns have no plain form: txn_apply.h walks
// them itself and converts op by op.
//
// Thread-safety: pure functions.
#ifndef REVKV_SERVER_CONVERT_H_
#define REVKV_SERVER_CONVERT_H_

#include "etcdkv/requests.h"
#include "mvcc/key_value.h"
#include "server/proto/kv.pb.h"
#include "server/proto/rpc.pb.h"

namespace revkv::server {

// The wire request's sort order and target must be valid (validate.h).
etcdkv::RangeRequest FromProto(const etcdserverpb::RangeRequest& r);
etcdkv::PutRequest FromProto(const etcdserverpb::PutRequest& r);
etcdkv::DeleteRequest FromProto(const etcdserverpb::DeleteRangeRequest& r);

void ToProto(const mvcc::KeyValue& kv, mvccpb::KeyValue* out);
// Responses with header.revision only (the service adds the member's ids).
void ToProto(etcdkv::RangeResponse&& r, etcdserverpb::RangeResponse* out);
void ToProto(etcdkv::PutResponse&& r, etcdserverpb::PutResponse* out);
void ToProto(etcdkv::DeleteResponse&& r, etcdserverpb::DeleteRangeResponse* out);

}  // namespace revkv::server

#endif  // REVKV_SERVER_CONVERT_H_
