#include "etcdkv/txn_check.h"

#include <algorithm>
#include <string_view>
#include <variant>
#include <vector>

#include "etcdkv/apply.h"
#include "server/errors.h"

namespace revkv::etcdkv {
namespace {

// A del range [begin, end), end non-empty.
struct DelRange {
  std::string_view begin, end;
};

// Whether some range of `ranges` (sorted by begin; max_end[i] the largest end
// of ranges[0..i]) holds `key`. etcd's interval-tree test of the point
// [key, key+"\0") against [begin, end) reduces to begin <= key < end for a
// non-empty key and begin (so an end of "\0" -- --from-key, "" --prefix --
// holds nothing).
bool InAnyRange(const std::vector<DelRange>& ranges, const std::vector<std::string_view>& max_end,
                std::string_view key) {
  auto after = std::upper_bound(ranges.begin(), ranges.end(), key,
                                [](std::string_view k, const DelRange& r) { return k < r.begin; });
  if (after == ranges.begin()) return false;
  const std::string_view end = max_end[size_t(after - ranges.begin()) - 1];
  return key < end;
}

bool HasEmptyKey(const RequestOp& op) {
  return std::visit([](const auto& r) { return r.key.empty(); }, op);
}


}  // namespace

absl::Status CheckDuplicates(const std::vector<RequestOp>& ops) {
  // Sorted lookups rather than a scan of every earlier op per put: a txn of
  // n ops costs O(n log n).
  std::vector<std::string_view> puts, del_keys;
  std::vector<DelRange> ranges;
  for (const RequestOp& op : ops) {
    if (const auto* p = std::get_if<PutRequest>(&op)) {
      puts.push_back(p->key);
    } else if (const auto* d = std::get_if<DeleteRequest>(&op)) {
      // A single-key del is the point [key, key+"\0"): it holds key alone.
      if (d->end.empty() && !d->key.empty()) del_keys.push_back(d->key);
      if (!d->end.empty() && !d->key.empty()) ranges.push_back({d->key, d->end});
    }
  }
  std::sort(del_keys.begin(), del_keys.end());
  std::sort(ranges.begin(), ranges.end(),
            [](const DelRange& a, const DelRange& b) { return a.begin < b.begin; });
  std::vector<std::string_view> max_end(ranges.size());
  for (size_t i = 0; i < ranges.size(); ++i) {
    max_end[i] = i == 0 ? ranges[i].end : std::max(max_end[i - 1], ranges[i].end);
  }
  const absl::Status dup = EtcdError(server::ErrDuplicateKey());
  for (std::string_view k : puts) {
    if (k.empty()) continue;  // etcd's point of "" overlaps no range
    if (std::binary_search(del_keys.begin(), del_keys.end(), k)) return dup;
    if (InAnyRange(ranges, max_end, k)) return dup;
  }
  std::sort(puts.begin(), puts.end());
  if (std::adjacent_find(puts.begin(), puts.end()) != puts.end()) return dup;
  return absl::OkStatus();
}

absl::Status CheckTxnRequest(const TxnRequest& txn) {
  const absl::Status empty = EtcdError(server::ErrEmptyKey());
  for (const Compare& c : txn.compares) {
    if (c.key.empty()) return empty;
  }
  for (const auto* branch : {&txn.success, &txn.failure}) {
    for (const RequestOp& op : *branch) {
      if (HasEmptyKey(op)) return empty;
    }
  }
  if (absl::Status s = CheckDuplicates(txn.success); !s.ok()) return s;
  return CheckDuplicates(txn.failure);
}

}  // namespace revkv::etcdkv
