#include "cmd/revkv/apply.h"

#include <algorithm>

#include "cmd/revkv/exit_status.h"
#include "cmd/revkv/txn_request.h"
#include "mvcc/errors.h"

namespace revkv::cli {
namespace {

const absl::Status& KeyNotFound() {
  static const absl::Status* s = new absl::Status(ExitError(kExitError, "etcdserver: key not found"));
  return *s;
}

bool Less(SortTarget t, const mvcc::KeyValue& a, const mvcc::KeyValue& b) {
  switch (t) {
    case SortTarget::kKey: return a.key < b.key;
    case SortTarget::kVersion: return a.version < b.version;
    case SortTarget::kCreate: return a.create_revision < b.create_revision;
    case SortTarget::kMod: return a.mod_revision < b.mod_revision;
    case SortTarget::kValue: return a.value < b.value;
  }
  return false;
}

template <typename T>
int Cmp(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

}  // namespace

absl::Status ServerError(const absl::Status& s) {
  if (s.ok()) return s;
  if (s.GetPayload(kExitCodeUrl).has_value()) return s;
  if (mvcc::IsCompacted(s) || mvcc::IsFutureRev(s)) {
    return ExitError(kExitError, std::string("etcdserver: ") + std::string(s.message()));
  }
  return ExitError(kExitError, s.message());
}

absl::StatusOr<RangeResponse> ApplyRange(mvcc::TxnRead* txn, const RangeRequest& r) {
  if (r.key.empty()) return ExitError(kExitError, mvcc::kEmptyKeyMessage);
  SortOrder order = r.sort_order;
  if (r.sort_target != SortTarget::kKey && order == SortOrder::kNone) order = SortOrder::kAscend;
  mvcc::RangeOptions opts;
  opts.rev = r.rev;
  opts.count_only = r.count_only;
  // As etcd 3.4: only an explicit --order fetches everything before sorting.
  // A --sort-by without --order sorts just the first limit+1 keys (in key
  // order), then cuts at the limit -- observed on etcd 3.4.23.
  opts.limit = r.sort_order != SortOrder::kNone ? 0 : (r.limit > 0 ? r.limit + 1 : 0);
  absl::StatusOr<mvcc::RangeResult> rr = txn->Range(r.key, r.end, opts);
  if (!rr.ok()) return ServerError(rr.status());
  RangeResponse resp;
  resp.revision = rr->rev;
  resp.count = rr->count;
  resp.kvs = std::move(rr->kvs);
  if (order != SortOrder::kNone) {
    const SortTarget t = r.sort_target;
    if (order == SortOrder::kAscend) {
      std::stable_sort(resp.kvs.begin(), resp.kvs.end(),
                       [t](const auto& a, const auto& b) { return Less(t, a, b); });
    } else {
      std::stable_sort(resp.kvs.begin(), resp.kvs.end(),
                       [t](const auto& a, const auto& b) { return Less(t, b, a); });
    }
  }
  if (r.limit > 0 && !r.count_only && resp.count > r.limit) {
    resp.more = true;
    if (int64_t(resp.kvs.size()) > r.limit) resp.kvs.resize(size_t(r.limit));
  }
  if (r.keys_only) {
    for (mvcc::KeyValue& kv : resp.kvs) kv.value.clear();
  }
  return resp;
}

absl::StatusOr<PutResponse> ApplyPut(mvcc::TxnWrite* txn, const PutRequest& r) {
  if (r.key.empty()) return ExitError(kExitError, mvcc::kEmptyKeyMessage);
  PutResponse resp;
  std::string value = r.value;
  if (r.prev_kv || r.ignore_value) {
    absl::StatusOr<mvcc::RangeResult> prev = txn->Range(r.key, "", {});
    if (!prev.ok()) return ServerError(prev.status());
    if (!prev->kvs.empty()) {
      if (r.prev_kv) resp.prev_kv = prev->kvs[0];
      if (r.ignore_value) value = prev->kvs[0].value;
    } else if (r.ignore_value) {
      return KeyNotFound();
    }
  }
  absl::StatusOr<int64_t> rev = txn->Put(r.key, value);
  if (!rev.ok()) return ServerError(rev.status());
  resp.revision = *rev;
  return resp;
}

absl::StatusOr<DeleteResponse> ApplyDelete(mvcc::TxnWrite* txn, const DeleteRequest& r) {
  if (r.key.empty()) return ExitError(kExitError, mvcc::kEmptyKeyMessage);
  DeleteResponse resp;
  if (r.prev_kv) {
    absl::StatusOr<mvcc::RangeResult> prev = txn->Range(r.key, r.end, {});
    if (!prev.ok()) return ServerError(prev.status());
    resp.prev_kvs = std::move(prev->kvs);
  }
  absl::StatusOr<int64_t> n = txn->DeleteRange(r.key, r.end);
  if (!n.ok()) return ServerError(n.status());
  resp.deleted = *n;
  resp.revision = txn->Rev();
  return resp;
}

absl::StatusOr<RangeResponse> Range(mvcc::Store* store, const RangeRequest& r) {
  if (r.key.empty()) return ExitError(kExitError, mvcc::kEmptyKeyMessage);
  absl::StatusOr<std::unique_ptr<mvcc::TxnRead>> txn = store->Read();
  if (!txn.ok()) return ServerError(txn.status());
  return ApplyRange(txn->get(), r);
}

absl::StatusOr<PutResponse> Put(mvcc::Store* store, const PutRequest& r) {
  if (r.key.empty()) return ExitError(kExitError, mvcc::kEmptyKeyMessage);
  absl::StatusOr<std::unique_ptr<mvcc::TxnWrite>> txn = store->Write();
  if (!txn.ok()) return ServerError(txn.status());
  absl::StatusOr<PutResponse> resp = ApplyPut(txn->get(), r);
  absl::Status s = (*txn)->End();
  if (resp.ok() && !s.ok()) return ServerError(s);
  return resp;
}

absl::StatusOr<DeleteResponse> Delete(mvcc::Store* store, const DeleteRequest& r) {
  if (r.key.empty()) return ExitError(kExitError, mvcc::kEmptyKeyMessage);
  absl::StatusOr<std::unique_ptr<mvcc::TxnWrite>> txn = store->Write();
  if (!txn.ok()) return ServerError(txn.status());
  absl::StatusOr<DeleteResponse> resp = ApplyDelete(txn->get(), r);
  absl::Status s = (*txn)->End();
  if (resp.ok() && !s.ok()) return ServerError(s);
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
  absl::StatusOr<std::unique_ptr<mvcc::TxnWrite>> w = store->Write();
  if (!w.ok()) return ServerError(w.status());
  mvcc::TxnWrite* txn = w->get();
  TxnResponse resp;
  resp.succeeded = true;
  for (const Compare& c : r.compares) {
    absl::StatusOr<bool> ok = EvalCompare(txn, c);
    if (!ok.ok()) return ServerError(ok.status());
    if (!*ok) {
      resp.succeeded = false;
      break;
    }
  }
  const std::vector<RequestOp>& ops = resp.succeeded ? r.success : r.failure;
  // etcd's checkRequests: puts that need a previous value, then ranges'
  // revisions, against the view before the txn.
  for (const RequestOp& op : ops) {
    const auto* p = std::get_if<PutRequest>(&op);
    if (p == nullptr || !p->ignore_value) continue;
    absl::StatusOr<mvcc::RangeResult> rr = txn->Range(p->key, "", {});
    if (!rr.ok()) return ServerError(rr.status());
    if (rr->kvs.empty()) return KeyNotFound();
  }
  for (const RequestOp& op : ops) {
    const auto* g = std::get_if<RangeRequest>(&op);
    if (g == nullptr || g->rev == 0) continue;
    if (g->rev > txn->Rev()) return ServerError(mvcc::ErrFutureRev());
    if (g->rev < txn->FirstRev()) return ServerError(mvcc::ErrCompacted());
  }
  for (const RequestOp& op : ops) {
    absl::Status s;
    if (const auto* g = std::get_if<RangeRequest>(&op)) {
      absl::StatusOr<RangeResponse> rr = ApplyRange(txn, *g);
      if (rr.ok()) resp.responses.emplace_back(std::move(*rr));
      s = rr.status();
    } else if (const auto* p = std::get_if<PutRequest>(&op)) {
      absl::StatusOr<PutResponse> pr = ApplyPut(txn, *p);
      if (pr.ok()) resp.responses.emplace_back(std::move(*pr));
      s = pr.status();
    } else {
      absl::StatusOr<DeleteResponse> dr = ApplyDelete(txn, std::get<DeleteRequest>(op));
      if (dr.ok()) resp.responses.emplace_back(std::move(*dr));
      s = dr.status();
    }
    // The checks above make this unreachable but for I/O errors; etcd
    // panics here. The writes so far are published by End (no rollback).
    if (!s.ok()) return s;
  }
  resp.revision = txn->Rev();
  if (absl::Status s = txn->End(); !s.ok()) return ServerError(s);
  return resp;
}

}  // namespace revkv::cli
