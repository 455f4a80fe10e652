// ReferenceModel: the plain model the store is checked against -- every
// key's full history in a std::map, answering any range at any revision by
// the definition, with nothing clever in it. For tests.
//
// Thread-safety: not thread-safe.
#ifndef REVKV_TESTS_MVCC_REFERENCE_MODEL_H_
#define REVKV_TESTS_MVCC_REFERENCE_MODEL_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "mvcc/store.h"

namespace revkv::mvcc {

class ReferenceModel {
 public:
  // One change of a transaction: a put (value set) or a delete.
  struct Change {
    std::string key;
    std::optional<std::string> value;
  };

  int64_t rev() const { return rev_; }
  // -1 until the first compaction.
  int64_t compacted() const { return compacted_; }
  void Compact(int64_t rev) { compacted_ = rev; }

  // Applies one transaction: the next revision if anything changed (a
  // delete of an absent key changes nothing). Returns the keys deleted.
  int64_t Apply(const std::vector<Change>& changes) {
    const int64_t r = rev_ + 1;
    int64_t sub = 0, deleted = 0;
    for (const Change& c : changes) {
      std::vector<Version>& h = history_[c.key];
      const Version* last = h.empty() ? nullptr : &h.back();
      const bool live = last != nullptr && last->value.has_value();
      if (c.value.has_value()) {
        Version v{r, sub++, c.value, live ? last->create : r, live ? last->version + 1 : 1};
        h.push_back(std::move(v));
      } else if (live) {
        h.push_back(Version{r, sub++, std::nullopt, 0, 0});
        deleted++;
      }
    }
    if (sub > 0) rev_ = r;
    return deleted;
  }

  // The keys in [key, end) at revision `at` (end as in Store::Range: empty
  // for the single key, "\0" for every key >= key), in key order.
  std::vector<KeyValue> Range(std::string_view key, std::string_view end, int64_t at) const {
    std::vector<KeyValue> out;
    if (end.empty()) {
      auto it = history_.find(std::string(key));
      if (it != history_.end()) Add(it->first, it->second, at, &out);
      return out;
    }
    const bool unbounded = end.size() == 1 && end[0] == '\0';
    for (auto it = history_.lower_bound(std::string(key));
         it != history_.end() && (unbounded || it->first < end); ++it) {
      Add(it->first, it->second, at, &out);
    }
    return out;
  }

  // What Store::Range must answer for these arguments on a store at
  // revision `current` read at `opts.rev`: the result, or the error it
  // must fail with.
  // With check_compaction false, the answer as if nothing were compacted.
  absl::StatusOr<RangeResult> Expect(std::string_view key, std::string_view end,
                                     const RangeOptions& opts, int64_t current,
                                     bool check_compaction = true) const {
    if (opts.rev > current) return ErrFutureRev();
    const int64_t at = opts.rev <= 0 ? current : opts.rev;
    if (check_compaction && at < compacted_) return ErrCompacted();
    RangeResult r;
    r.rev = current;
    r.kvs = Range(key, end, at);
    r.count = int64_t(r.kvs.size());
    if (opts.count_only) {
      r.kvs.clear();
    } else if (opts.limit > 0 && int64_t(r.kvs.size()) > opts.limit) {
      r.kvs.resize(size_t(opts.limit));
    }
    return r;
  }

  // Every key ever written, in order.
  std::vector<std::string> Keys() const {
    std::vector<std::string> keys;
    for (const auto& [k, h] : history_) keys.push_back(k);
    return keys;
  }

 private:
  struct Version {
    int64_t main, sub;
    std::optional<std::string> value;  // none: deleted
    int64_t create, version;
  };

  static void Add(const std::string& key, const std::vector<Version>& h, int64_t at,
                  std::vector<KeyValue>* out) {
    const Version* found = nullptr;
    for (auto it = h.rbegin(); it != h.rend(); ++it) {
      if (it->main <= at) {
        found = &*it;
        break;
      }
    }
    if (found == nullptr || !found->value.has_value()) return;
    out->push_back(KeyValue{key, found->create, found->main, found->version, *found->value, 0});
  }

  std::map<std::string, std::vector<Version>> history_;
  int64_t rev_ = 1;
  int64_t compacted_ = -1;
};

// "" if got is what want says, else what differs.
inline std::string DiffRange(const absl::StatusOr<RangeResult>& got,
                             const absl::StatusOr<RangeResult>& want) {
  if (!want.ok()) {
    if (got.ok()) return "want " + want.status().ToString() + ", got a result";
    if (IsCompacted(want.status()) != IsCompacted(got.status()) ||
        IsFutureRev(want.status()) != IsFutureRev(got.status())) {
      return "want " + want.status().ToString() + ", got " + got.status().ToString();
    }
    return "";
  }
  if (!got.ok()) return "want a result, got " + got.status().ToString();
  if (got->rev != want->rev) return absl::StrFormat("rev %d, want %d", got->rev, want->rev);
  if (got->count != want->count) {
    return absl::StrFormat("count %d, want %d", got->count, want->count);
  }
  if (got->kvs.size() != want->kvs.size()) {
    return absl::StrFormat("%d kvs, want %d", got->kvs.size(), want->kvs.size());
  }
  for (size_t i = 0; i < got->kvs.size(); ++i) {
    const KeyValue &g = got->kvs[i], &w = want->kvs[i];
    if (!(g == w)) {
      return absl::StrFormat("kv %d: got {%s c%d m%d v%d %s}, want {%s c%d m%d v%d %s}", i, g.key,
                             g.create_revision, g.mod_revision, g.version, g.value, w.key,
                             w.create_revision, w.mod_revision, w.version, w.value);
    }
  }
  return "";
}

}  // namespace revkv::mvcc

#endif  // REVKV_TESTS_MVCC_REFERENCE_MODEL_H_
