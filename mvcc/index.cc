#include "mvcc/index.h"

#include <mutex>

namespace revkv::mvcc {

absl::Status Index::Get(std::string_view key, int64_t at_rev, KeyAt* out) const {
  std::shared_lock l(mu_);
  auto it = tree_.find(key);
  if (it == tree_.end()) return absl::NotFoundError("mvcc: revision not found");
  return it->second.Get(at_rev, out);
}

void Index::Range(std::string_view key, std::string_view end, int64_t at_rev,
                  const std::function<bool(std::string_view, const KeyAt&)>& fn) const {
  std::shared_lock l(mu_);
  for (auto it = tree_.lower_bound(key); it != tree_.end(); ++it) {
    if (!end.empty() && std::string_view(it->first) >= end) break;
    KeyAt at;
    if (!it->second.Get(at_rev, &at).ok()) continue;
    if (!fn(it->first, at)) break;
  }
}

void Index::Put(std::string_view key, Revision rev) {
  PutAfter(key, rev, [](const KeyAt*) { return absl::OkStatus(); }).IgnoreError();
}

absl::Status Index::PutAfter(std::string_view key, Revision rev,
                             absl::FunctionRef<absl::Status(const KeyAt* prev)> write) {
  std::unique_lock l(mu_);
  auto it = tree_.lower_bound(key);
  const bool known = it != tree_.end() && std::string_view(it->first) == key;
  KeyAt prev;
  const bool live = known && it->second.Get(rev.main, &prev).ok();
  if (absl::Status s = write(live ? &prev : nullptr); !s.ok()) return s;
  if (!known) it = tree_.emplace_hint(it, CompactKey(key), KeyIndex());
  it->second.Put(rev);
  return absl::OkStatus();
}

void Index::Restore(std::string_view key, Revision created, Revision modified,
                    int64_t version) {
  std::unique_lock l(mu_);
  auto it = tree_.lower_bound(key);
  if (it == tree_.end() || std::string_view(it->first) != key) {
    it = tree_.emplace_hint(it, CompactKey(key), KeyIndex());
  }
  it->second.Restore(created, modified, version);
}

void Index::RestoreRecord(std::string_view key, Revision rev, bool tombstone,
                          int64_t create_revision, int64_t version) {
  std::unique_lock l(mu_);
  auto it = tree_.lower_bound(key);
  if (it != tree_.end() && std::string_view(it->first) == key) {
    if (tombstone) {
      it->second.Tombstone(rev).IgnoreError();  // a second tombstone: as etcd, ignored
    } else {
      it->second.Put(rev);
    }
    return;
  }
  if (tombstone) return;
  tree_.emplace_hint(it, CompactKey(key), KeyIndex())
      ->second.Restore(Revision{create_revision, 0}, rev, version);
}

absl::Status Index::Tombstone(std::string_view key, Revision rev) {
  std::unique_lock l(mu_);
  auto it = tree_.find(key);
  if (it == tree_.end()) return absl::NotFoundError("mvcc: revision not found");
  return it->second.Tombstone(rev);
}

RevisionSet Index::Compact(int64_t rev) {
  RevisionSet keep;
  // Slices of keys under the lock, so readers and writers get in between.
  constexpr int kSlice = 10000;
  std::string next;
  bool first = true;
  while (true) {
    std::unique_lock l(mu_);
    auto it = first ? tree_.begin() : tree_.lower_bound(next);
    first = false;
    for (int n = 0; it != tree_.end() && n < kSlice; ++n) {
      it->second.Compact(rev, &keep);
      if (it->second.IsEmpty()) {
        it = tree_.erase(it);
      } else {
        ++it;
      }
    }
    if (it == tree_.end()) break;
    next = std::string(std::string_view(it->first));
  }
  return keep;
}

RevisionSet Index::Keep(int64_t rev) const {
  RevisionSet keep;
  std::shared_lock l(mu_);
  for (const auto& [key, ki] : tree_) ki.Keep(rev, &keep);
  return keep;
}

size_t Index::size() const {
  std::shared_lock l(mu_);
  return tree_.size();
}

size_t Index::MemoryBytes() const {
  std::shared_lock l(mu_);
  // The tree's nodes, plus what keys and key indexes own on the heap.
  size_t n = tree_.bytes_used();
  for (const auto& [key, ki] : tree_) n += key.HeapBytes() + ki.HeapBytes();
  return n;
}

}  // namespace revkv::mvcc
