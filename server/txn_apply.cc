#include "server/txn_apply.h"

#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "etcdkv/apply.h"
#include "etcdkv/execution.h"
#include "mvcc/errors.h"
#include "server/convert.h"
#include "server/errors.h"

namespace revkv::server {
namespace {

using Ops = google::protobuf::RepeatedPtrField<etcdserverpb::RequestOp>;

template <typename T>
int Cmp(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

bool CompareKV(const etcdserverpb::Compare& c, const mvcc::KeyValue& kv) {
  int result = 0;
  // A oneof holding another field than the target's compares against zero
  // (etcd reads the target's field through a type assertion).
  switch (c.target()) {
    case etcdserverpb::Compare::VALUE: result = Cmp(kv.value, c.value()); break;
    case etcdserverpb::Compare::CREATE: result = Cmp(kv.create_revision, c.create_revision()); break;
    case etcdserverpb::Compare::MOD: result = Cmp(kv.mod_revision, c.mod_revision()); break;
    case etcdserverpb::Compare::VERSION: result = Cmp(kv.version, c.version()); break;
    case etcdserverpb::Compare::LEASE: result = Cmp(kv.lease, c.lease()); break;
    default: break;
  }
  switch (c.result()) {
    case etcdserverpb::Compare::EQUAL: return result == 0;
    case etcdserverpb::Compare::NOT_EQUAL: return result != 0;
    case etcdserverpb::Compare::GREATER: return result > 0;
    case etcdserverpb::Compare::LESS: return result < 0;
    default: return true;
  }
}

// etcd's compareToPath: the branch taken by this txn and, depth first, by
// each nested txn on the taken branch.
void ComputePath(mvcc::TxnRead* base, const etcdserverpb::TxnRequest& r, std::vector<bool>* path) {
  bool ok = true;
  for (const etcdserverpb::Compare& c : r.compare()) {
    if (!EvalCompare(base, c)) {
      ok = false;
      break;
    }
  }
  path->push_back(ok);
  for (const etcdserverpb::RequestOp& op : ok ? r.success() : r.failure()) {
    if (op.has_request_txn()) ComputePath(base, op.request_txn(), path);
  }
}

// etcd's checkRequests with checkPut: a put needing an existing key, then
// its lease (the store's lessor, asked inside the write transaction).
absl::Status CheckPut(etcdkv::Execution& e, const etcdserverpb::PutRequest& p) {
  if (p.ignore_value() || p.ignore_lease()) {
    absl::StatusOr<mvcc::RangeResult> rr = e.base()->Range(p.key(), "", {});
    if (!rr.ok()) return rr.status();
    if (rr->kvs.empty()) return ErrKeyNotFound();
  }
  return e.CheckLease(p.lease());
}

// etcd's checkRequests with checkRange (a range's revision must be readable).
absl::Status CheckRange(mvcc::TxnRead* base, const etcdserverpb::RangeRequest& g) {
  if (g.revision() <= 0) return absl::OkStatus();
  if (g.revision() > base->Rev()) return mvcc::ErrFutureRev();
  if (g.revision() < base->FirstRev()) return mvcc::ErrCompacted();
  return absl::OkStatus();
}

enum class Check { kPut, kRange };

absl::Status CheckRequests(etcdkv::Execution& e, const etcdserverpb::TxnRequest& r,
                           const std::vector<bool>& path, size_t* at, Check check) {
  const bool ok = path[(*at)++];
  for (const etcdserverpb::RequestOp& op : ok ? r.success() : r.failure()) {
    absl::Status s;
    if (op.has_request_txn()) {
      s = CheckRequests(e, op.request_txn(), path, at, check);
    } else if (check == Check::kPut && op.has_request_put()) {
      s = CheckPut(e, op.request_put());
    } else if (check == Check::kRange && op.has_request_range()) {
      s = CheckRange(e.base(), op.request_range());
    }
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status PlanPut(etcdkv::Execution& e, const etcdserverpb::PutRequest& p,
                     std::deque<etcdkv::RequestOp>& kept, etcdserverpb::PutResponse* out) {
  // The plan views the request's strings until Commit. It takes the key's
  // lease for ignore_lease as the txn sees it now.
  absl::StatusOr<etcdkv::PutResponse> resp =
      e.PlanPut(std::get<etcdkv::PutRequest>(kept.emplace_back(FromProto(p))));
  if (!resp.ok()) return resp.status();
  ToProto(std::move(*resp), out);
  return absl::OkStatus();
}

absl::Status PlanOps(etcdkv::Execution& e, const etcdserverpb::TxnRequest& r,
                     const std::vector<bool>& path, size_t* at,
                     std::deque<etcdkv::RequestOp>& kept, etcdserverpb::TxnResponse* out) {
  const bool ok = path[(*at)++];
  out->set_succeeded(ok);
  for (const etcdserverpb::RequestOp& op : ok ? r.success() : r.failure()) {
    etcdserverpb::ResponseOp* resp = out->add_responses();
    if (op.has_request_range()) {
      absl::StatusOr<etcdkv::RangeResponse> g = e.PlanRange(FromProto(op.request_range()));
      if (!g.ok()) return g.status();
      ToProto(std::move(*g), resp->mutable_response_range());
    } else if (op.has_request_put()) {
      if (absl::Status s = PlanPut(e, op.request_put(), kept, resp->mutable_response_put());
          !s.ok()) {
        return s;
      }
    } else if (op.has_request_delete_range()) {
      absl::StatusOr<etcdkv::DeleteResponse> d = e.PlanDelete(
          std::get<etcdkv::DeleteRequest>(kept.emplace_back(FromProto(op.request_delete_range()))));
      if (!d.ok()) return d.status();
      ToProto(std::move(*d), resp->mutable_response_delete_range());
    } else if (op.has_request_txn()) {
      etcdserverpb::TxnResponse* t = resp->mutable_response_txn();
      t->mutable_header();  // etcd sends a nested txn's header empty
      if (absl::Status s = PlanOps(e, op.request_txn(), path, at, kept, t); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace

bool EvalCompare(mvcc::TxnRead* txn, const etcdserverpb::Compare& c) {
  absl::StatusOr<mvcc::RangeResult> rr = txn->Range(c.key(), c.range_end(), {});
  if (!rr.ok()) return false;  // etcd: a failed range fails the compare
  if (rr->kvs.empty()) {
    // A value compare on no key fails; the others compare against zero.
    if (c.target() == etcdserverpb::Compare::VALUE) return false;
    return CompareKV(c, mvcc::KeyValue{});
  }
  for (const mvcc::KeyValue& kv : rr->kvs) {
    if (!CompareKV(c, kv)) return false;
  }
  return true;
}

absl::StatusOr<etcdserverpb::TxnResponse> ApplyTxn(mvcc::Store* store,
                                                   const etcdserverpb::TxnRequest& r) {
  absl::StatusOr<std::unique_ptr<etcdkv::Execution>> e = etcdkv::Execution::Begin(store);
  if (!e.ok()) return e.status();
  mvcc::TxnRead* base = (*e)->base();
  std::vector<bool> path;
  ComputePath(base, r, &path);
  for (Check check : {Check::kPut, Check::kRange}) {
    size_t at = 0;
    if (absl::Status s = CheckRequests(**e, r, path, &at, check); !s.ok()) return s;
  }
  etcdserverpb::TxnResponse resp;
  std::deque<etcdkv::RequestOp> kept;
  size_t at = 0;
  if (absl::Status s = PlanOps(**e, r, path, &at, kept, &resp); !s.ok()) return s;
  resp.mutable_header()->set_revision((*e)->Rev());
  if (absl::Status s = (*e)->Commit(); !s.ok()) return s;
  return resp;
}

absl::StatusOr<etcdserverpb::PutResponse> ApplyPut(mvcc::Store* store,
                                                   const etcdserverpb::PutRequest& r) {
  absl::StatusOr<std::unique_ptr<etcdkv::Execution>> e = etcdkv::Execution::Begin(store);
  if (!e.ok()) return e.status();
  // etcd's applier Put asks for the lease before the key (checkPut's order
  // is the other way round).
  if (absl::Status s = (*e)->CheckLease(r.lease()); !s.ok()) return s;
  if (absl::Status s = CheckPut(**e, r); !s.ok()) return s;
  std::deque<etcdkv::RequestOp> kept;
  etcdserverpb::PutResponse resp;
  if (absl::Status s = PlanPut(**e, r, kept, &resp); !s.ok()) return s;
  if (absl::Status s = (*e)->Commit(); !s.ok()) return s;
  return resp;
}

absl::StatusOr<etcdserverpb::DeleteRangeResponse> ApplyDelete(
    mvcc::Store* store, const etcdserverpb::DeleteRangeRequest& r) {
  absl::StatusOr<std::unique_ptr<etcdkv::Execution>> e = etcdkv::Execution::Begin(store);
  if (!e.ok()) return e.status();
  const etcdkv::DeleteRequest req = FromProto(r);
  absl::StatusOr<etcdkv::DeleteResponse> d = (*e)->PlanDelete(req);
  if (!d.ok()) return d.status();
  if (absl::Status s = (*e)->Commit(); !s.ok()) return s;
  etcdserverpb::DeleteRangeResponse resp;
  ToProto(std::move(*d), &resp);
  return resp;
}

}  // namespace revkv::server
