// Applying requests to the mvcc store with etcd v3.4's server semantics
// (etcdserver/apply.go): ranges with sort and limit, put with prev_kv and
// ignore_value, delete with prev_kvs, and whole transactions.
//
// A write (put, delete, txn) is all or nothing: every op is first worked out
// against a TxnState (txn_state.h) -- responses, the checks etcd makes
// (CheckTxnRequest, then the executed branch's put and range checks) and
// those only a write would otherwise find (a put --ignore-value of a key an
// earlier del of the txn removed, a record over the backend's value limit:
// "etcdserver: request is too large", a revision past INT64_MAX) -- and the
// store is written only once all of them succeeded. What can still fail
// midway is I/O (a backend write or commit error), which fails the store.
//
// Errors carry etcd's messages ("etcdserver: mvcc: required revision has
// been compacted", ...) and keep the store's codes and payloads.
//
// Thread-safety: as the Store (one TxnWrite at a time; Write() waits).
#ifndef REVKV_ETCDKV_APPLY_H_
#define REVKV_ETCDKV_APPLY_H_

#include "absl/status/statusor.h"
#include "etcdkv/requests.h"
#include "mvcc/store.h"

namespace revkv::etcdkv {

// A store error with etcd's message ("etcdserver: " before the store's
// compacted and future-revision messages); its code and payloads stay, and
// a payload at kEtcdMessageUrl marks it done (a second call changes nothing).
inline constexpr char kEtcdMessageUrl[] = "revkv.dev/etcd-message";
absl::Status EtcdError(const absl::Status& s);

// One-request transactions, as the server runs Range / Put / DeleteRange.
absl::StatusOr<RangeResponse> Range(mvcc::Store* store, const RangeRequest& r);
absl::StatusOr<PutResponse> Put(mvcc::Store* store, const PutRequest& r);
absl::StatusOr<DeleteResponse> Delete(mvcc::Store* store, const DeleteRequest& r);
absl::StatusOr<TxnResponse> Txn(mvcc::Store* store, const TxnRequest& r);

// Whether compare `c` holds at the transaction's view.
absl::StatusOr<bool> EvalCompare(mvcc::TxnRead* txn, const Compare& c);

}  // namespace revkv::etcdkv

#endif  // REVKV_ETCDKV_APPLY_H_
