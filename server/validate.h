// etcd 3.4's request checks made before a request is proposed
// (api/v3rpc/key.go: checkRangeRequest, checkPutRequest,
// checkDeleteRequest, checkTxnRequest with checkIntervals): empty keys,
// sort options, ignore_value/ignore_lease with a value/lease, more than
// max_txn_ops compares or ops in a txn branch, and a key put twice -- or
// put inside a deleted range -- along one branch path of a txn, nested txns
// included. The errors are server/errors.h's.
//
// Thread-safety: pure functions.
#ifndef REVKV_SERVER_VALIDATE_H_
#define REVKV_SERVER_VALIDATE_H_

#include <cstdint>

#include "absl/status/status.h"
#include "server/proto/rpc.pb.h"

namespace revkv::server {

absl::Status CheckRange(const etcdserverpb::RangeRequest& r);
absl::Status CheckPut(const etcdserverpb::PutRequest& r);
absl::Status CheckDelete(const etcdserverpb::DeleteRangeRequest& r);
absl::Status CheckTxn(const etcdserverpb::TxnRequest& r, int64_t max_txn_ops);

}  // namespace revkv::server

#endif  // REVKV_SERVER_VALIDATE_H_
