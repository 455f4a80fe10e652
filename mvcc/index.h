// Index: the in-memory key index of the store (etcd's treeIndex): every key,
// in order, with its KeyIndex.
//
// Thread-safety: thread-safe. Readers share a lock and run concurrently; a
// writer (Put, Tombstone, Compact) takes it exclusively for one key at a time,
// except Compact, which works through the keys in bounded slices so that
// readers and writers interleave with it.
#ifndef REVKV_MVCC_INDEX_H_
#define REVKV_MVCC_INDEX_H_

#include <cstring>
#include <functional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "mvcc/key_index.h"
#include "mvcc/rw_lock.h"

namespace revkv::mvcc {

// An owned key in 16 bytes (a std::string takes 32, plus its heap block for
// keys over 15 bytes).
class CompactKey {
 public:
  explicit CompactKey(std::string_view s)
      : data_(s.empty() ? nullptr : new char[s.size()]), size_(uint32_t(s.size())) {
    if (!s.empty()) std::memcpy(data_, s.data(), s.size());
  }
  CompactKey(CompactKey&& o) noexcept : data_(o.data_), size_(o.size_) {
    o.data_ = nullptr;
    o.size_ = 0;
  }
  CompactKey& operator=(CompactKey&& o) noexcept {
    if (this != &o) {
      delete[] data_;
      data_ = o.data_;
      size_ = o.size_;
      o.data_ = nullptr;
      o.size_ = 0;
    }
    return *this;
  }
  CompactKey(const CompactKey& o) : CompactKey(std::string_view(o)) {}
  CompactKey& operator=(const CompactKey& o) { return *this = CompactKey(o); }
  ~CompactKey() { delete[] data_; }
  operator std::string_view() const { return std::string_view(data_, size_); }
  size_t size() const { return size_; }

 private:
  char* data_;
  uint32_t size_;
};

struct KeyLess {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const { return a < b; }
};

class Index {
 public:
  // The key as of at_rev; NotFound if it did not exist then.
  absl::Status Get(std::string_view key, int64_t at_rev, KeyAt* out) const;
  // Calls fn(key, at) in key order for keys in [key, end) that existed at
  // at_rev (end empty: no upper bound) until fn returns false.
  void Range(std::string_view key, std::string_view end, int64_t at_rev,
             const std::function<bool(std::string_view, const KeyAt&)>& fn) const;
  void Put(std::string_view key, Revision rev);
  void Restore(std::string_view key, Revision created, Revision modified, int64_t version);
  absl::Status Tombstone(std::string_view key, Revision rev);
  // Replays one record of the key bucket at open, as etcd's restore does: a
  // known key gets a put or tombstone; an unknown key starts from the
  // record's created revision and version; a tombstone of an unknown key
  // (its puts were compacted away) is skipped.
  void RestoreRecord(std::string_view key, Revision rev, bool tombstone,
                     int64_t create_revision, int64_t version);
  // Compacts every key at rev; returns the revisions <= rev still needed.
  RevisionSet Compact(int64_t rev);
  // The revisions <= rev that Compact(rev) would keep.
  RevisionSet Keep(int64_t rev) const;
  size_t size() const;
  // Approximate bytes the index uses (keys, entries, tree nodes).
  size_t MemoryBytes() const;

 private:
  mutable RwLock mu_;  // prefers writers: long ranges cannot starve Put
  absl::btree_map<CompactKey, KeyIndex, KeyLess> tree_;
};

}  // namespace revkv::mvcc

#endif  // REVKV_MVCC_INDEX_H_
