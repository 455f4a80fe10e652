#include "server/validate.h"

#include <set>
#include <string>
#include <vector>

#include "server/errors.h"

namespace revkv::server {
namespace {

// A deleted range as etcd's interval tree holds it: [key, end), or the
// point key when end is empty. An end at or before key (such as "\0", the
// --from-key form) covers no key, as in etcd.
struct Interval {
  std::string key, end;
  bool Contains(const std::string& k) const {
    if (end.empty()) return k == key;
    return key <= k && k < end;
  }
};

struct Writes {
  std::set<std::string> puts;
  std::vector<Interval> dels;
  bool Deletes(const std::string& k) const {
    for (const Interval& i : dels) {
      if (i.Contains(k)) return true;
    }
    return false;
  }
};

// etcd's checkIntervals: the puts and deletes along `ops`, failing on a key
// put twice or put inside a range deleted at this level or below. The two
// branches of a nested txn may put the same key (only one runs).
absl::Status CheckIntervals(const google::protobuf::RepeatedPtrField<etcdserverpb::RequestOp>& ops,
                            Writes* out) {
  Writes w;
  for (const etcdserverpb::RequestOp& op : ops) {
    if (!op.has_request_delete_range()) continue;
    const auto& d = op.request_delete_range();
    w.dels.push_back({d.key(), d.range_end()});
  }
  for (const etcdserverpb::RequestOp& op : ops) {
    if (!op.has_request_txn()) continue;
    Writes then, otherwise;
    if (absl::Status s = CheckIntervals(op.request_txn().success(), &then); !s.ok()) return s;
    if (absl::Status s = CheckIntervals(op.request_txn().failure(), &otherwise); !s.ok()) return s;
    for (const std::string& k : then.puts) {
      if (w.puts.count(k) > 0 || w.Deletes(k)) return ErrDuplicateKey();
      w.puts.insert(k);
    }
    for (const std::string& k : otherwise.puts) {
      if (w.puts.count(k) > 0 && then.puts.count(k) == 0) return ErrDuplicateKey();
      if (w.Deletes(k)) return ErrDuplicateKey();
      w.puts.insert(k);
    }
    w.dels.insert(w.dels.end(), then.dels.begin(), then.dels.end());
    w.dels.insert(w.dels.end(), otherwise.dels.begin(), otherwise.dels.end());
  }
  for (const etcdserverpb::RequestOp& op : ops) {
    if (!op.has_request_put()) continue;
    const std::string& k = op.request_put().key();
    if (w.puts.count(k) > 0 || w.Deletes(k)) return ErrDuplicateKey();
    w.puts.insert(k);
  }
  *out = std::move(w);
  return absl::OkStatus();
}

absl::Status CheckOps(const google::protobuf::RepeatedPtrField<etcdserverpb::RequestOp>& ops,
                      int64_t max_txn_ops) {
  for (const etcdserverpb::RequestOp& op : ops) {
    absl::Status s;
    if (op.has_request_range()) {
      s = CheckRange(op.request_range());
    } else if (op.has_request_put()) {
      s = CheckPut(op.request_put());
    } else if (op.has_request_delete_range()) {
      s = CheckDelete(op.request_delete_range());
    } else if (op.has_request_txn()) {
      s = CheckTxn(op.request_txn(), max_txn_ops);
    }
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckRange(const etcdserverpb::RangeRequest& r) {
  if (r.key().empty()) return ErrEmptyKey();
  if (!etcdserverpb::RangeRequest::SortOrder_IsValid(r.sort_order()) ||
      !etcdserverpb::RangeRequest::SortTarget_IsValid(r.sort_target())) {
    return ErrInvalidSortOption();
  }
  return absl::OkStatus();
}

absl::Status CheckPut(const etcdserverpb::PutRequest& r) {
  if (r.key().empty()) return ErrEmptyKey();
  if (r.ignore_value() && !r.value().empty()) return ErrValueProvided();
  if (r.ignore_lease() && r.lease() != 0) return ErrLeaseProvided();
  return absl::OkStatus();
}

absl::Status CheckDelete(const etcdserverpb::DeleteRangeRequest& r) {
  if (r.key().empty()) return ErrEmptyKey();
  return absl::OkStatus();
}

absl::Status CheckTxn(const etcdserverpb::TxnRequest& r, int64_t max_txn_ops) {
  if (r.compare_size() > max_txn_ops || r.success_size() > max_txn_ops ||
      r.failure_size() > max_txn_ops) {
    return ErrTooManyOps();
  }
  for (const etcdserverpb::Compare& c : r.compare()) {
    if (c.key().empty()) return ErrEmptyKey();
  }
  if (absl::Status s = CheckOps(r.success(), max_txn_ops); !s.ok()) return s;
  if (absl::Status s = CheckOps(r.failure(), max_txn_ops); !s.ok()) return s;
  Writes w;
  if (absl::Status s = CheckIntervals(r.success(), &w); !s.ok()) return s;
  return CheckIntervals(r.failure(), &w);
}

}  // namespace revkv::server
