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
  std::unique_lock l(mu_);
  auto it = tree_.find(key);
  if (it == tree_.end()) it = tree_.emplace(CompactKey(key), KeyIndex()).first;
  it->second.Put(rev);
}

void Index::Restore(std::string_view key, Revision created, Revision modified,
                    int64_t version) {
  std::unique_lock l(mu_);
  auto it = tree_.find(key);
  if (it == tree_.end()) it = tree_.emplace(CompactKey(key), KeyIndex()).first;
  it->second.Restore(created, modified, version);
}

void Index::RestoreRecord(std::string_view key, Revision rev, bool tombstone,
                          int64_t create_revision, int64_t version) {
  std::unique_lock l(mu_);
  auto it = tree_.find(key);
  if (it != tree_.end()) {
    if (tombstone) {
      it->second.Tombstone(rev).IgnoreError();  // a second tombstone: as etcd, ignored
    } else {
      it->second.Put(rev);
    }
    return;
  }
  if (tombstone) return;
  tree_.emplace(CompactKey(key), KeyIndex())
      .first->second.Restore(Revision{create_revision, 0}, rev, version);
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
  // Entries live in btree nodes (about 1.1x their size); each key owns a heap
  // block.
  size_t n = size_t(double(tree_.size() * sizeof(std::pair<const CompactKey, KeyIndex>)) * 1.1);
  for (const auto& [key, ki] : tree_) {
    // malloc rounds a block up to 16 bytes and adds an 8-byte header.
    if (key.size() > 0) n += (key.size() + 8 + 15) / 16 * 16;
    n += ki.HeapBytes();
  }
  return n;
}

}  // namespace revkv::mvcc
