#include "mvcc/index.h"

#include <algorithm>
#include <cstring>
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
  Replay(it, key, rev, tombstone, create_revision, version);
}

void Index::RestoreRecords(std::vector<Record>* records) {
  // The keys are views into the data file in revision order. Read each once,
  // in that (file) order, to note its first 16 bytes as two big-endian
  // words; sort by them, which orders like the bytes; then keys of up to 16
  // bytes never touch the file again, and sorted records go into the tree in
  // key order. (key, revision) order keeps each key's records in revision
  // order, as replay needs.
  for (Record& r : *records) {
    char buf[16] = {};
    std::memcpy(buf, r.key.data(), std::min<size_t>(r.key.size(), 16));
    std::memcpy(&r.prefix_hi, buf, 8);
    std::memcpy(&r.prefix_lo, buf + 8, 8);
    r.prefix_hi = __builtin_bswap64(r.prefix_hi);
    r.prefix_lo = __builtin_bswap64(r.prefix_lo);
  }
  auto key_less = [](const Record& a, const Record& b) {
    if (a.prefix_hi != b.prefix_hi) return a.prefix_hi < b.prefix_hi;
    if (a.prefix_lo != b.prefix_lo) return a.prefix_lo < b.prefix_lo;
    // Equal first 16 bytes. If either key is no longer, it is a prefix of
    // the other (zero padding makes "a" and "a\0" tie above).
    if (a.key.size() <= 16 || b.key.size() <= 16) return a.key.size() < b.key.size();
    return a.key.compare(b.key) < 0;
  };
  std::sort(records->begin(), records->end(), [&key_less](const Record& a, const Record& b) {
    if (key_less(a, b)) return true;
    if (key_less(b, a)) return false;
    return a.rev < b.rev;
  });
  std::unique_lock l(mu_);
  auto it = tree_.begin();
  char buf[16];
  for (size_t i = 0; i < records->size(); ++i) {
    const Record& r = (*records)[i];
    std::string_view key = r.key;
    if (key.size() <= 16) {  // rebuilt from the prefix: no read of the file
      uint64_t hi = __builtin_bswap64(r.prefix_hi), lo = __builtin_bswap64(r.prefix_lo);
      std::memcpy(buf, &hi, 8);
      std::memcpy(buf + 8, &lo, 8);
      key = std::string_view(buf, key.size());
    }
    // Keys ascend: the position is at or after the last one, and for a
    // growing tree usually the end, which emplace_hint takes in O(1).
    const bool new_key = i == 0 || key_less((*records)[i - 1], r);
    if (new_key && it != tree_.end() && std::string_view(it->first) < key) {
      it = tree_.lower_bound(key);
    }
    it = Replay(it, key, r.rev, r.tombstone, r.create_revision, r.version);
  }
}

Index::Tree::iterator Index::Replay(Tree::iterator it, std::string_view key, Revision rev,
                                    bool tombstone, int64_t create_revision, int64_t version) {
  if (it != tree_.end() && std::string_view(it->first) == key) {
    if (tombstone) {
      it->second.Tombstone(rev).IgnoreError();  // a second tombstone: as etcd, ignored
    } else {
      it->second.Put(rev);
    }
    return it;
  }
  if (tombstone) return it;
  it = tree_.emplace_hint(it, CompactKey(key), KeyIndex());
  it->second.Restore(Revision{create_revision, 0}, rev, version);
  return it;
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

namespace {

void PutLength(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(char(v | 0x80));
    v >>= 7;
  }
  out->push_back(char(v));
}

bool GetLength(std::string_view* in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64 && !in->empty(); shift += 7) {
    uint8_t b = uint8_t(in->front());
    in->remove_prefix(1);
    *v |= uint64_t(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

}  // namespace

// An entry: key length (varint), key bytes, the KeyIndex's encoding.
std::vector<std::string> Index::EncodeCheckpoint(size_t chunk_bytes) const {
  std::vector<std::string> chunks(1);
  std::shared_lock l(mu_);
  for (const auto& [key, ki] : tree_) {
    if (chunks.back().size() >= chunk_bytes) chunks.emplace_back();
    std::string& out = chunks.back();
    std::string_view k = key;
    PutLength(k.size(), &out);
    out.append(k);
    ki.EncodeTo(&out);
  }
  return chunks;
}

bool Index::LoadCheckpoint(const std::vector<std::string_view>& chunks) {
  std::unique_lock l(mu_);
  if (!tree_.empty()) return false;
  size_t entries = 0;
  bool malformed = false;
  for (std::string_view in : chunks) {
    while (!in.empty()) {
      uint64_t size;
      KeyIndex ki;
      if (!GetLength(&in, &size) || size > in.size()) {
        malformed = true;
        break;
      }
      std::string_view key = in.substr(0, size);
      in.remove_prefix(size);
      if (!ki.DecodeFrom(&in)) {
        malformed = true;
        break;
      }
      // In key order every insert is at the end: O(1). (Out-of-order data
      // still lands in order; a repeated key is caught below.)
      tree_.emplace_hint(tree_.end(), CompactKey(key), std::move(ki));
      ++entries;
    }
    if (malformed) break;
  }
  if (malformed || tree_.size() != entries) {
    tree_.clear();
    return false;
  }
  return true;
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
