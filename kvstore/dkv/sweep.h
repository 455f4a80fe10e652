// DeleteDue: the deletion step both dKV stores share. The local store's
// sweeper calls it with wall-clock milliseconds, the replicated store's log
// applier with a raft index (dkv/log_applier.h); an entry's delete time is
// in the same unit as `now`.
//
// Thread-compatible: runs inside the caller's write transaction.
#ifndef REVKV_KVSTORE_DKV_SWEEP_H_
#define REVKV_KVSTORE_DKV_SWEEP_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "kvstore/dkv/clock.h"
#include "mvcc/store.h"

namespace revkv::kvstore::dkv {

// Deletes, in `txn`, each of `store_keys` (mvcc keys, prefix included)
// whose current entry is due for deletion at `now`, in the order given. A
// key deleted meanwhile, rewritten since it was queued (a later or no
// delete time), or holding a value that is not an Entry is skipped. The
// number of keys deleted, or the first error (the caller then abandons
// `txn`).
absl::StatusOr<int64_t> DeleteDue(mvcc::TxnWrite* txn, absl::Span<const std::string> store_keys,
                                  Millis now);

}  // namespace revkv::kvstore::dkv

#endif  // REVKV_KVSTORE_DKV_SWEEP_H_
