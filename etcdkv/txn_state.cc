#include "etcdkv/txn_state.h"

#include <iterator>
#include <utility>
#include <vector>

#include "mvcc/errors.h"

namespace revkv::etcdkv {
namespace {

uint64_t VarintSize(uint64_t v) {
  uint64_t n = 1;
  for (; v >= 0x80; v >>= 7) ++n;
  return n;
}
// Proto3 leaves zero fields out; a negative int64 takes ten bytes.
uint64_t IntFieldSize(int64_t v) { return v == 0 ? 0 : 1 + VarintSize(uint64_t(v)); }
uint64_t BytesFieldSize(uint64_t n) { return n == 0 ? 0 : 1 + VarintSize(n) + n; }

bool IsUnbounded(std::string_view end) { return end.size() == 1 && end[0] == '\0'; }

}  // namespace

uint64_t EncodedRecordSize(const mvcc::KeyValueView& kv) {
  return BytesFieldSize(kv.key.size()) + IntFieldSize(kv.create_revision) +
         IntFieldSize(kv.mod_revision) + IntFieldSize(kv.version) +
         BytesFieldSize(kv.value.size()) + IntFieldSize(kv.lease);
}

TxnState::TxnState(mvcc::Store* store, mvcc::TxnRead* base)
    : store_(store), base_(base), base_rev_(base->Rev()) {}

TxnState::Span TxnState::Find(std::string_view key, std::string_view end) {
  if (end.empty()) {
    auto it = entries_.find(key);
    return {it, it == entries_.end() ? it : std::next(it)};
  }
  auto first = entries_.lower_bound(key);
  if (IsUnbounded(end)) return {first, entries_.end()};
  if (end <= key) return {first, first};
  return {first, entries_.lower_bound(end)};
}

mvcc::KeyValue TxnState::Record(const std::string& key, const Entry& e) const {
  return mvcc::KeyValue{key, e.create_revision, NextRev(), e.version, std::string(e.value), e.lease};
}

TxnState::Entry TxnState::Current(std::string_view key) const {
  if (auto it = entries_.find(key); it != entries_.end()) return it->second;
  Entry e;
  mvcc::KeyAt at;
  if (store_->index().Get(key, base_rev_, &at).ok()) {
    e.in_base = e.live = true;
    e.create_revision = at.created.main;
    e.version = at.version;
  }
  return e;
}

absl::StatusOr<mvcc::RangeResult> TxnState::Range(std::string_view key, std::string_view end,
                                                  const mvcc::RangeOptions& opts) {
  const int64_t rev = Rev();
  if (opts.rev > rev) return mvcc::ErrFutureRev();
  // The store holds none of this transaction's writes: it answers reads of
  // older revisions, and of keys the transaction did not write.
  const bool current = opts.rev <= 0 || opts.rev > base_rev_;
  const Span span = current ? Find(key, end) : Span{entries_.end(), entries_.end()};
  mvcc::RangeOptions o = opts;
  if (current) o.rev = 0;
  if (span.first == span.last) {
    absl::StatusOr<mvcc::RangeResult> r = base_->Range(key, end, o);
    if (r.ok()) r->rev = rev;
    return r;
  }
  int64_t written = 0, delta = 0;
  for (auto it = span.first; it != span.last; ++it, ++written) {
    delta += int64_t(it->second.live) - int64_t(it->second.in_base);
  }
  // Each written key hides at most one of the store's: `written` more are
  // enough to fill the limit.
  if (opts.limit > 0) o.limit = opts.limit + written;
  absl::StatusOr<mvcc::RangeResult> b = base_->Range(key, end, o);
  if (!b.ok()) return b.status();
  mvcc::RangeResult out;
  out.rev = rev;
  out.count = b->count + delta;
  if (opts.count_only) return out;
  const size_t limit = opts.limit > 0 ? size_t(opts.limit) : SIZE_MAX;
  auto it = span.first;
  auto add_written_before = [&](const std::string* bound) {
    for (; it != span.last && (bound == nullptr || it->first < *bound); ++it) {
      if (it->second.live && out.kvs.size() < limit) out.kvs.push_back(Record(it->first, it->second));
    }
  };
  for (mvcc::KeyValue& kv : b->kvs) {
    add_written_before(&kv.key);
    if (out.kvs.size() >= limit) break;
    if (it != span.last && it->first == kv.key) continue;  // written: added next round
    out.kvs.push_back(std::move(kv));
  }
  add_written_before(nullptr);
  return out;
}

absl::StatusOr<std::optional<mvcc::KeyValue>> TxnState::Get(std::string_view key) {
  if (auto it = entries_.find(key); it != entries_.end()) {
    if (!it->second.live) return std::nullopt;
    return Record(it->first, it->second);
  }
  absl::StatusOr<mvcc::RangeResult> r = base_->Range(key, "", {});
  if (!r.ok()) return r.status();
  if (r->kvs.empty()) return std::nullopt;
  return std::move(r->kvs[0]);
}

mvcc::KeyValueView TxnState::Put(std::string_view key, std::string_view value, int64_t lease) {
  const int64_t rev = NextRev();
  auto it = entries_.find(key);
  if (it == entries_.end()) it = entries_.emplace(std::string(key), Current(key)).first;
  Entry& e = it->second;
  e.create_revision = e.live ? e.create_revision : rev;
  e.version = e.live ? e.version + 1 : 1;
  e.live = true;
  e.value = value;
  e.lease = lease;
  changed_ = true;
  return mvcc::KeyValueView{it->first, e.create_revision, rev, e.version, value, lease};
}

int64_t TxnState::Delete(std::string_view key, std::string_view end) {
  std::vector<std::string> from_store;  // live keys this transaction has not written
  auto unwritten = [&](std::string_view k) { return entries_.find(k) == entries_.end(); };
  if (end.empty()) {
    mvcc::KeyAt at;
    if (unwritten(key) && store_->index().Get(key, base_rev_, &at).ok()) from_store.emplace_back(key);
  } else {
    store_->index().Range(key, IsUnbounded(end) ? std::string_view() : end, base_rev_,
                          [&](std::string_view k, const mvcc::KeyAt&) {
                            if (unwritten(k)) from_store.emplace_back(k);
                            return true;
                          });
  }
  int64_t n = 0;
  const Span span = Find(key, end);
  for (auto it = span.first; it != span.last; ++it) {
    if (it->second.live) ++n;
    it->second.live = false;
  }
  for (std::string& k : from_store) {
    Entry e;
    e.in_base = true;
    entries_.emplace(std::move(k), e);
    ++n;
  }
  if (n > 0) changed_ = true;
  return n;
}

}  // namespace revkv::etcdkv
