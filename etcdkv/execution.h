// Execution: one write transaction of apply.h, worked out whole against a
// TxnState (txn_state.h) before any of it is written. Plan* answer each op
// -- making every check a write could fail (see apply.h) -- and note the
// writes it implies; Commit writes them and ends the transaction. An error
// from Plan* leaves the store untouched: the Execution is dropped and the
// write transaction ends with nothing written.
//
// Thread-safety: one thread; holds the store's write transaction (Write()
// waits) from Begin until Commit or destruction.
#ifndef REVKV_ETCDKV_EXECUTION_H_
#define REVKV_ETCDKV_EXECUTION_H_

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "etcdkv/requests.h"
#include "etcdkv/txn_state.h"
#include "mvcc/store.h"

namespace revkv::etcdkv {

// etcd's "etcdserver: key not found" (a put --ignore-value of a missing key).
absl::Status KeyNotFound();

using RangeReader = absl::FunctionRef<absl::StatusOr<mvcc::RangeResult>(
    std::string_view key, std::string_view end, const mvcc::RangeOptions& opts)>;
// A range request with etcd's sort, limit and keys-only, reading through
// `read` (a TxnRead's or a TxnState's Range).
absl::StatusOr<RangeResponse> ApplyRange(RangeReader read, const RangeRequest& r);

class Execution {
 public:
  static absl::StatusOr<std::unique_ptr<Execution>> Begin(mvcc::Store* store);

  // The store as the transaction starts (for compares and etcd's checks).
  mvcc::TxnRead* base() { return base_.get(); }
  // The revision as seen after the ops planned so far.
  int64_t Rev() const { return state_->Rev(); }

  // A read inside the transaction: sees the ops planned so far.
  absl::StatusOr<mvcc::RangeResult> Range(std::string_view key, std::string_view end,
                                          const mvcc::RangeOptions& opts);

  absl::StatusOr<RangeResponse> PlanRange(const RangeRequest& r);
  // `r` must outlive the Execution (the planned write views its strings).
  // A lease the store's lessor does not know fails it here, before any
  // write (lease::IsLeaseNotFound); ignore_lease keeps the key's lease as
  // the transaction sees it.
  absl::StatusOr<PutResponse> PlanPut(const PutRequest& r);
  absl::StatusOr<DeleteResponse> PlanDelete(const DeleteRequest& r);
  absl::StatusOr<ResponseOp> Plan(const RequestOp& op);
  // OK if a put may name `lease` (0 always may); else the store lessor's
  // error (lease::IsLeaseNotFound).
  absl::Status CheckLease(int64_t lease);

  // Writes what the ops planned, then ends the transaction. Only I/O can
  // fail a write here (mvcc then fails the store); the writes before it
  // stay, as mvcc has no rollback.
  absl::Status Commit();

 private:
  // A put (deleted < 0) or a delete of `deleted` keys; views into the
  // requests and kept_.
  struct Write {
    std::string_view key, end, value;
    int64_t deleted;
    int64_t lease = 0;
  };

  Execution() = default;

  // Declared in this order so that the views go before the write
  // transaction ends.
  std::unique_ptr<mvcc::TxnWrite> txn_;
  std::unique_ptr<mvcc::TxnRead> base_;
  std::optional<TxnState> state_;
  std::vector<Write> writes_;
  std::deque<std::string> kept_;  // values of --ignore-value puts
};

}  // namespace revkv::etcdkv

#endif  // REVKV_ETCDKV_EXECUTION_H_
