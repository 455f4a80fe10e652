// etcd 3.4's write apply (etcdserver/apply.go: Put, DeleteRange, Txn with
// compareToPath, checkRequests and applyTxn), each over one planned write
// transaction (etcdkv/execution.h). In a txn every compare -- nested
// txns' too -- is evaluated against the store as the txn starts, which
// fixes the branch path; then the path's puts that need an existing key
// and its ranges' revisions are checked; then the ops are planned in order
// (each sees the earlier ones) and written at once.
//
// Thread-safety: as the Store's write transaction (one at a time).
#ifndef REVKV_SERVER_TXN_APPLY_H_
#define REVKV_SERVER_TXN_APPLY_H_

#include "absl/status/statusor.h"
#include "mvcc/store.h"
#include "server/proto/rpc.pb.h"

namespace revkv::server {

// The whole txn, validated by CheckTxn before; the response's headers hold
// revisions only (the top one the revision after the txn, nested txns'
// none, as etcd).
absl::StatusOr<etcdserverpb::TxnResponse> ApplyTxn(mvcc::Store* store,
                                                   const etcdserverpb::TxnRequest& r);

// A single put or delete as one write transaction (etcd's applier Put and
// DeleteRange), validated by CheckPut / CheckDelete before.
absl::StatusOr<etcdserverpb::PutResponse> ApplyPut(mvcc::Store* store,
                                                   const etcdserverpb::PutRequest& r);
absl::StatusOr<etcdserverpb::DeleteRangeResponse> ApplyDelete(
    mvcc::Store* store, const etcdserverpb::DeleteRangeRequest& r);

// Whether compare `c` holds for every key of its range (etcd's
// applyCompare) as `txn` reads.
bool EvalCompare(mvcc::TxnRead* txn, const etcdserverpb::Compare& c);

}  // namespace revkv::server

#endif  // REVKV_SERVER_TXN_APPLY_H_
