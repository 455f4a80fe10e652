#include "etcdkv/execution.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "btree/options.h"
#include "etcdkv/apply.h"
#include "mvcc/errors.h"
#include "server/errors.h"

namespace revkv::etcdkv {
namespace {

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

absl::Status EmptyKey() { return EtcdError(server::ErrEmptyKey()); }

template <typename T>
absl::StatusOr<ResponseOp> Wrap(absl::StatusOr<T> r) {
  if (!r.ok()) return r.status();
  return ResponseOp(std::move(*r));
}

}  // namespace

absl::Status KeyNotFound() { return EtcdError(server::ErrKeyNotFound()); }

absl::StatusOr<RangeResponse> ApplyRange(RangeReader read, const RangeRequest& r) {
  if (r.key.empty()) return EmptyKey();
  SortOrder order = r.sort_order;
  if (r.sort_target != SortTarget::kKey && order == SortOrder::kNone) order = SortOrder::kAscend;
  mvcc::RangeOptions opts;
  opts.rev = r.rev;
  opts.count_only = r.count_only;
  // As etcd 3.4: only an explicit --order (or a filter) fetches everything
  // before sorting. A --sort-by without --order sorts just the first
  // limit+1 keys (in key order), then cuts at the limit -- observed on etcd
  // 3.4.23.
  const bool filtered = r.min_mod_revision != 0 || r.max_mod_revision != 0 ||
                        r.min_create_revision != 0 || r.max_create_revision != 0;
  opts.limit = r.sort_order != SortOrder::kNone || filtered ? 0 : (r.limit > 0 ? r.limit + 1 : 0);
  absl::StatusOr<mvcc::RangeResult> rr = read(r.key, r.end, opts);
  if (!rr.ok()) return EtcdError(rr.status());
  RangeResponse resp;
  resp.revision = rr->rev;
  // etcd counts the matches before its filters prune them.
  resp.count = rr->count;
  resp.kvs = std::move(rr->kvs);
  if (filtered) {
    std::erase_if(resp.kvs, [&r](const mvcc::KeyValue& kv) {
      return (r.max_mod_revision != 0 && kv.mod_revision > r.max_mod_revision) ||
             (r.min_mod_revision != 0 && kv.mod_revision < r.min_mod_revision) ||
             (r.max_create_revision != 0 && kv.create_revision > r.max_create_revision) ||
             (r.min_create_revision != 0 && kv.create_revision < r.min_create_revision);
    });
  }
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
  // etcd: more when the (pruned) matches fetched exceed the limit.
  if (r.limit > 0 && int64_t(resp.kvs.size()) > r.limit) {
    resp.more = true;
    resp.kvs.resize(size_t(r.limit));
  }
  if (r.keys_only) {
    for (mvcc::KeyValue& kv : resp.kvs) kv.value.clear();
  }
  return resp;
}

absl::StatusOr<std::unique_ptr<Execution>> Execution::Begin(mvcc::Store* store) {
  auto e = std::unique_ptr<Execution>(new Execution);
  absl::StatusOr<std::unique_ptr<mvcc::TxnWrite>> w = store->Write();
  if (!w.ok()) return EtcdError(w.status());
  e->txn_ = std::move(*w);
  // Taken after the write transaction began, so it reads the revision that
  // transaction starts from.
  absl::StatusOr<std::unique_ptr<mvcc::TxnRead>> base = store->Read();
  if (!base.ok()) return EtcdError(base.status());
  if ((*base)->Rev() != e->txn_->Rev()) {
    return absl::InternalError("revkv: the store changed under a write transaction");
  }
  e->base_ = std::move(*base);
  e->state_.emplace(store, e->base_.get());
  return e;
}

absl::StatusOr<mvcc::RangeResult> Execution::Range(std::string_view key, std::string_view end,
                                                   const mvcc::RangeOptions& opts) {
  return state_->Range(key, end, opts);
}

absl::StatusOr<RangeResponse> Execution::PlanRange(const RangeRequest& r) {
  return ApplyRange(
      [this](std::string_view k, std::string_view e, const mvcc::RangeOptions& o) {
        return state_->Range(k, e, o);
      },
      r);
}

absl::StatusOr<PutResponse> Execution::PlanPut(const PutRequest& r) {
  if (r.key.empty()) return EmptyKey();
  PutResponse resp;
  std::string_view value = r.value;
  int64_t lease = r.lease;
  if (r.prev_kv || r.ignore_value || r.ignore_lease) {
    absl::StatusOr<std::optional<mvcc::KeyValue>> prev = state_->Get(r.key);
    if (!prev.ok()) return EtcdError(prev.status());
    // Found here, not by the check against the store as the txn began,
    // when an earlier del of the txn removed the key (etcd 3.4.23 panics
    // there: "unexpected error during txn").
    if ((r.ignore_value || r.ignore_lease) && !prev->has_value()) return KeyNotFound();
    if (r.ignore_value) value = kept_.emplace_back((*prev)->value);
    if (r.ignore_lease) lease = (*prev)->lease;
    if (r.prev_kv) resp.prev_kv = std::move(*prev);
  }
  // Asked now: at Commit the ops before this one would already be written.
  if (lease != 0) {
    if (absl::Status s = CheckLease(lease); !s.ok()) return s;
  }
  const mvcc::KeyValueView record = state_->Put(r.key, value, lease);
  // The backend refuses a larger record only when it is written.
  if (EncodedRecordSize(record) > btree::kMaxValueSize) {
    return EtcdError(server::ErrRequestTooLarge());
  }
  writes_.push_back({r.key, {}, value, -1, lease});
  resp.revision = state_->Rev();
  return resp;
}

absl::StatusOr<DeleteResponse> Execution::PlanDelete(const DeleteRequest& r) {
  if (r.key.empty()) return EmptyKey();
  DeleteResponse resp;
  if (r.prev_kv) {
    absl::StatusOr<mvcc::RangeResult> prev = state_->Range(r.key, r.end, {});
    if (!prev.ok()) return EtcdError(prev.status());
    resp.prev_kvs = std::move(prev->kvs);
  }
  resp.deleted = state_->Delete(r.key, r.end);
  if (resp.deleted > 0) writes_.push_back({r.key, r.end, {}, resp.deleted});
  resp.revision = state_->Rev();
  return resp;
}

absl::StatusOr<ResponseOp> Execution::Plan(const RequestOp& op) {
  if (const auto* g = std::get_if<RangeRequest>(&op)) return Wrap(PlanRange(*g));
  if (const auto* p = std::get_if<PutRequest>(&op)) return Wrap(PlanPut(*p));
  return Wrap(PlanDelete(std::get<DeleteRequest>(op)));
}

absl::Status Execution::CheckLease(int64_t lease) {
  return EtcdError(txn_->CheckLease(lease));
}

absl::Status Execution::Commit() {
  const bool changed = state_->changed();
  state_.reset();
  base_.reset();
  if (changed && txn_->Rev() == INT64_MAX) return EtcdError(mvcc::ErrRevisionExhausted());
  for (const Write& w : writes_) {
    if (w.deleted < 0) {
      absl::StatusOr<int64_t> rev = txn_->Put(w.key, w.value, w.lease);
      if (!rev.ok()) return EtcdError(rev.status());
      continue;
    }
    absl::StatusOr<int64_t> n = txn_->DeleteRange(w.key, w.end);
    if (!n.ok()) return EtcdError(n.status());
    if (*n != w.deleted) {
      return absl::InternalError("revkv: a delete removed other keys than it planned");
    }
  }
  if (absl::Status s = txn_->End(); !s.ok()) return EtcdError(s);
  return absl::OkStatus();
}

}  // namespace revkv::etcdkv
