// Applying requests to the mvcc store with etcd v3.4's server semantics
// (etcdserver/apply.go): ranges with sort and limit, put with prev_kv and
// ignore_value, delete with prev_kvs, and whole transactions -- checked
// first (CheckTxnRequest, then the executed branch's put and range checks)
// so that a failing txn applies nothing.
//
// Errors carry etcdctl's exit code 1 and etcd's messages
// ("etcdserver: mvcc: required revision has been compacted", ...).
//
// Thread-safety: as the Store (one TxnWrite at a time; Write() waits).
#ifndef REVKV_CMD_REVKV_APPLY_H_
#define REVKV_CMD_REVKV_APPLY_H_

#include "absl/status/statusor.h"
#include "cmd/revkv/requests.h"
#include "mvcc/store.h"

namespace revkv::cli {

// A store error as etcdctl prints it (exit code 1).
absl::Status ServerError(const absl::Status& s);

absl::StatusOr<RangeResponse> ApplyRange(mvcc::TxnRead* txn, const RangeRequest& r);
absl::StatusOr<PutResponse> ApplyPut(mvcc::TxnWrite* txn, const PutRequest& r);
absl::StatusOr<DeleteResponse> ApplyDelete(mvcc::TxnWrite* txn, const DeleteRequest& r);

// One-request transactions, as the server runs Range / Put / DeleteRange.
absl::StatusOr<RangeResponse> Range(mvcc::Store* store, const RangeRequest& r);
absl::StatusOr<PutResponse> Put(mvcc::Store* store, const PutRequest& r);
absl::StatusOr<DeleteResponse> Delete(mvcc::Store* store, const DeleteRequest& r);
absl::StatusOr<TxnResponse> Txn(mvcc::Store* store, const TxnRequest& r);

// Whether compare `c` holds at the transaction's view.
absl::StatusOr<bool> EvalCompare(mvcc::TxnRead* txn, const Compare& c);

}  // namespace revkv::cli

#endif  // REVKV_CMD_REVKV_APPLY_H_
