#include "etcdkv/apply.h"

#include <memory>
#include <vector>

#include "etcdkv/execution.h"
#include "etcdkv/txn_check.h"
#include "mvcc/errors.h"
#include "server/errors.h"

namespace revkv::etcdkv {
namespace {

template <typename T>
int Cmp(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

}  // namespace

absl::Status EtcdError(const absl::Status& s) {
  if (s.ok()) return s;
  if (s.GetPayload(kEtcdMessageUrl).has_value()) return s;
  const bool etcdserver = mvcc::IsCompacted(s) || mvcc::IsFutureRev(s);
  // The store's code and payloads stay, so that callers can still tell the
  // error by them (mvcc::IsCompacted, ...).
  absl::Status out(s.code(), std::string(etcdserver ? "etcdserver: " : "") + std::string(s.message()));
  s.ForEachPayload([&](absl::string_view url, const absl::Cord& p) {
    out.SetPayload(url, absl::Cord(std::string(p)));  // a Cord's copy needs cordz, not linked
  });
  out.SetPayload(kEtcdMessageUrl, absl::Cord("1"));
  return out;
}

absl::StatusOr<RangeResponse> Range(mvcc::Store* store, const RangeRequest& r) {
  if (r.key.empty()) return EtcdError(server::ErrEmptyKey());
  absl::StatusOr<std::unique_ptr<mvcc::TxnRead>> txn = store->Read();
  if (!txn.ok()) return EtcdError(txn.status());
  mvcc::TxnRead* t = txn->get();
  return ApplyRange(
      [t](std::string_view k, std::string_view e, const mvcc::RangeOptions& o) {
        return t->Range(k, e, o);
      },
      r);
}

absl::StatusOr<PutResponse> Put(mvcc::Store* store, const PutRequest& r) {
  if (r.key.empty()) return EtcdError(server::ErrEmptyKey());
  absl::StatusOr<std::unique_ptr<Execution>> e = Execution::Begin(store);
  if (!e.ok()) return e.status();
  absl::StatusOr<PutResponse> resp = (*e)->PlanPut(r);
  if (!resp.ok()) return resp.status();
  if (absl::Status s = (*e)->Commit(); !s.ok()) return s;
  return resp;
}

absl::StatusOr<DeleteResponse> Delete(mvcc::Store* store, const DeleteRequest& r) {
  if (r.key.empty()) return EtcdError(server::ErrEmptyKey());
  absl::StatusOr<std::unique_ptr<Execution>> e = Execution::Begin(store);
  if (!e.ok()) return e.status();
  absl::StatusOr<DeleteResponse> resp = (*e)->PlanDelete(r);
  if (!resp.ok()) return resp.status();
  if (absl::Status s = (*e)->Commit(); !s.ok()) return s;
  return resp;
}

absl::StatusOr<bool> EvalCompare(mvcc::TxnRead* txn, const Compare& c) {
  absl::StatusOr<mvcc::RangeResult> rr = txn->Range(c.key, "", {});
  if (!rr.ok()) return false;  // etcd: a failed range fails the compare
  mvcc::KeyValue kv;
  if (rr->kvs.empty()) {
    if (c.target == CompareTarget::kValue) return false;
  } else {
    kv = rr->kvs[0];
  }
  int result = 0;
  switch (c.target) {
    case CompareTarget::kValue: result = Cmp(kv.value, c.value); break;
    case CompareTarget::kVersion: result = Cmp(kv.version, c.number); break;
    case CompareTarget::kCreate: result = Cmp(kv.create_revision, c.number); break;
    case CompareTarget::kMod: result = Cmp(kv.mod_revision, c.number); break;
    case CompareTarget::kLease: result = Cmp(kv.lease, c.number); break;
  }
  switch (c.result) {
    case CompareResult::kEqual: return result == 0;
    case CompareResult::kNotEqual: return result != 0;
    case CompareResult::kGreater: return result > 0;
    case CompareResult::kLess: return result < 0;
    case CompareResult::kGreaterEqual: return result >= 0;
    case CompareResult::kLessEqual: return result <= 0;
  }
  return true;
}

absl::StatusOr<TxnResponse> Txn(mvcc::Store* store, const TxnRequest& r) {
  if (absl::Status s = CheckTxnRequest(r); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<Execution>> e = Execution::Begin(store);
  if (!e.ok()) return e.status();
  mvcc::TxnRead* base = (*e)->base();
  TxnResponse resp;
  resp.succeeded = true;
  for (const Compare& c : r.compares) {
    absl::StatusOr<bool> ok = EvalCompare(base, c);
    if (!ok.ok()) return EtcdError(ok.status());
    if (!*ok) {
      resp.succeeded = false;
      break;
    }
  }
  const std::vector<RequestOp>& ops = resp.succeeded ? r.success : r.failure;
  // etcd's checkRequests, which decide the error a txn failing on several
  // counts gives: puts that need a previous value, then ranges' revisions,
  // against the store before the txn.
  for (const RequestOp& op : ops) {
    const auto* p = std::get_if<PutRequest>(&op);
    if (p == nullptr || !p->ignore_value) continue;
    absl::StatusOr<mvcc::RangeResult> rr = base->Range(p->key, "", {});
    if (!rr.ok()) return EtcdError(rr.status());
    if (rr->kvs.empty()) return KeyNotFound();
  }
  for (const RequestOp& op : ops) {
    const auto* g = std::get_if<RangeRequest>(&op);
    if (g == nullptr || g->rev == 0) continue;
    if (g->rev > base->Rev()) return EtcdError(mvcc::ErrFutureRev());
    if (g->rev < base->FirstRev()) return EtcdError(mvcc::ErrCompacted());
  }
  for (const RequestOp& op : ops) {
    absl::StatusOr<ResponseOp> o = (*e)->Plan(op);
    if (!o.ok()) return o.status();
    resp.responses.push_back(std::move(*o));
  }
  resp.revision = (*e)->Rev();
  if (absl::Status s = (*e)->Commit(); !s.ok()) return s;
  return resp;
}

}  // namespace revkv::etcdkv
