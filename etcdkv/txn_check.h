// etcd's server-side checks of a transaction request (CheckTxnRequest), in
// etcd's order: an empty key anywhere (`etcdserver: key is not provided`),
// then a key put twice, or put inside a del range, in either branch
// (`etcdserver: duplicate key given in txn request`), using etcd's interval
// semantics (a del range whose end is "\0" -- --from-key, or "" --prefix --
// conflicts with no put). A branch of n ops costs O(n log n).
//
// Thread-safety: pure functions.
#ifndef REVKV_ETCDKV_TXN_CHECK_H_
#define REVKV_ETCDKV_TXN_CHECK_H_

#include <vector>

#include "absl/status/status.h"
#include "etcdkv/requests.h"

namespace revkv::etcdkv {

// The checks of the whole request (see above).
absl::Status CheckTxnRequest(const TxnRequest& txn);
// The duplicate-key check of one branch.
absl::Status CheckDuplicates(const std::vector<RequestOp>& ops);

}  // namespace revkv::etcdkv

#endif  // REVKV_ETCDKV_TXN_CHECK_H_
