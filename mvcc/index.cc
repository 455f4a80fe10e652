#include "mvcc/index.h"

#include "util/varint.h"

#include <algorithm>
#include <iterator>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace revkv::mvcc {

absl::Status Index::Get(std::string_view key, int64_t at_rev, KeyAt* out) const {
  const uint64_t hash = PointCache::Hash(key);
  util::ScopedSharedLock l(mu_);
  cache_.Prefetch(hash);
  auto it = tree_.find(key);
  if (it == tree_.end()) return absl::NotFoundError("mvcc: revision not found");
  // The walk was paid for: let the next point read of the key skip it.
  KeyAt latest;
  if (it->second.Get(INT64_MAX, &latest).ok()) cache_.Fill(hash, latest.modified);
  return it->second.Get(at_rev, out);
}

bool Index::CachedGet(std::string_view key, int64_t at_rev, Revision* rev) const {
  const uint64_t hash = PointCache::Hash(key);
  // Not mu_: a lookup may race with a put's Store (point_cache.h), and the
  // lock it needs is taken exclusively only when the table is replaced, so
  // point reads do not queue behind the writer.
  util::ReaderLock l(cache_mu_);
  return cache_.Lookup(hash, rev) && rev->main <= at_rev;
}

void Index::ReserveCache(size_t keys) {
  if (!cache_.NeedsResize(keys)) return;
  util::WriterLock l(cache_mu_);
  cache_.Reserve(keys);
}

void Index::ShrinkCache(size_t keys) {
  if (!cache_.CanShrink(keys)) return;
  util::WriterLock l(cache_mu_);
  cache_.Shrink(keys);
}

void Index::ClearCache() {
  // Every restored record clears it: skip the lock when there is nothing to
  // free (the table changes only under mu_, held here exclusively).
  if (cache_.MemoryBytes() == 0) return;
  util::WriterLock l(cache_mu_);
  cache_.Clear();
}

void Index::Range(std::string_view key, std::string_view end, int64_t at_rev,
                  const std::function<bool(std::string_view, const KeyAt&)>& fn) const {
  util::ScopedSharedLock l(mu_);
  for (auto it = tree_.lower_bound(key); it != tree_.end(); ++it) {
    if (!end.empty() && std::string_view(it->first) >= end) break;
    KeyAt at;
    if (!it->second.Get(at_rev, &at).ok()) continue;
    if (!fn(it->first, at)) break;
  }
}

void Index::Put(std::string_view key, Revision rev) { FinishPut(key, rev, BeginPut(key, rev)); }

Index::PendingPut Index::BeginPut(std::string_view key, Revision rev) const {
  PendingPut p;
  p.hash = PointCache::Hash(key);
  util::ScopedSharedLock l(mu_);
  cache_.Prefetch(p.hash);  // arrives while the record is written
  // A key past the last one (keys written in order) goes to the end: the
  // last key is at hand, so the search from the root is skipped.
  auto& tree = const_cast<Tree&>(tree_);
  p.it = tree.end();
  if (tree.empty() || KeyLess()(std::string_view(std::prev(p.it)->first), key) >= 0) {
    p.it = tree.lower_bound(key);
  }
  p.known = p.it != tree.end() && std::string_view(p.it->first) == key;
  p.live = p.known && p.it->second.Get(rev.main, &p.prev).ok();
  p.epoch = epoch_;
  return p;
}

void Index::FinishPut(std::string_view key, Revision rev, const PendingPut& pending) {
  util::ScopedLock l(mu_);
  auto it = pending.it;
  bool known = pending.known;
  if (pending.epoch != epoch_) {  // a compaction erased keys meanwhile
    it = tree_.lower_bound(key);
    known = it != tree_.end() && std::string_view(it->first) == key;
  }
  if (!known) {
    it = tree_.emplace_hint(it, CompactKey(key), KeyIndex());
    epoch_++;
    ReserveCache(tree_.size());
  }
  it->second.Put(rev);
  cache_.Store(pending.hash, rev);
}

void Index::RestoreRecord(std::string_view key, Revision rev, bool tombstone,
                          int64_t create_revision, int64_t version) {
  util::ScopedLock l(mu_);
  ClearCache();
  epoch_++;
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
  util::ScopedLock l(mu_);
  ClearCache();
  epoch_++;
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
  util::ScopedLock l(mu_);
  auto it = tree_.find(key);
  if (it == tree_.end()) return absl::NotFoundError("mvcc: revision not found");
  cache_.Erase(PointCache::Hash(key));
  return it->second.Tombstone(rev);
}

RevisionSet Index::Compact(int64_t rev) {
  // The point cache's entries need nothing: compaction keeps every key's
  // latest put, and the keys it removes were deleted, which emptied their
  // ways (point_cache.h, rule 2). Its table shrinks at the end if most keys
  // went. Slices of keys under the lock, so readers and writers get in
  // between.
  RevisionSet keep;
  std::string next;
  for (bool first = true, more = true; more; first = false) {
    util::ScopedLock l(mu_);
    auto it = first ? tree_.begin() : tree_.lower_bound(next);
    for (int n = 0; it != tree_.end() && n < kSlice; ++n) {
      it->second.Compact(rev, &keep);
      if (it->second.IsEmpty()) {
        it = tree_.erase(it);
        epoch_++;
      } else {
        ++it;
      }
    }
    more = it != tree_.end();
    if (more) {
      next = std::string(std::string_view(it->first));
    } else {
      ShrinkCache(tree_.size());
    }
  }
  return keep;
}

RevisionSet Index::Keep(int64_t rev) const {
  RevisionSet keep;
  std::string next;
  for (bool first = true, more = true; more; first = false) {
    util::ScopedSharedLock l(mu_);
    auto it = first ? tree_.begin() : tree_.lower_bound(next);
    for (int n = 0; it != tree_.end() && n < kSlice; ++n, ++it) it->second.Keep(rev, &keep);
    more = it != tree_.end();
    if (more) next = std::string(std::string_view(it->first));
  }
  return keep;
}

// An entry: key length (varint), key bytes, the KeyIndex's encoding.
std::vector<std::string> Index::EncodeCheckpoint(size_t chunk_bytes) const {
  std::vector<std::string> chunks(1);
  util::ScopedSharedLock l(mu_);
  for (const auto& [key, ki] : tree_) {
    if (chunks.back().size() >= chunk_bytes) chunks.emplace_back();
    std::string& out = chunks.back();
    std::string_view k = key;
    util::PutVarint(k.size(), &out);
    out.append(k);
    ki.EncodeTo(&out);
  }
  return chunks;
}

namespace {

// Entries decoded from a checkpoint, handed from the decoding thread to the
// inserting one.
using Batch = std::vector<std::pair<CompactKey, KeyIndex>>;

// A bounded queue of batches with one producer and one consumer, which also
// hands emptied batches back: a fresh batch per hand-off cost the decoder
// page faults and the inserter an munmap each.
class BatchQueue {
 public:
  // An empty batch with room for `size` entries (a recycled one if any).
  Batch TakeEmpty(size_t size) {
    Batch b;
    {
      std::lock_guard l(mu_);
      if (!free_.empty()) {
        b = std::move(free_.back());
        free_.pop_back();
      }
    }
    b.reserve(size);
    return b;
  }
  // Gives back a batch the consumer is done with.
  void Recycle(Batch b) {
    b.clear();
    std::lock_guard l(mu_);
    free_.push_back(std::move(b));
  }
  // Blocks while the queue is full.
  void Push(Batch b) {
    std::unique_lock l(mu_);
    cv_.wait(l, [&] { return q_.size() < kMaxBatches; });
    q_.push_back(std::move(b));
    cv_.notify_all();
  }
  // No more batches; `status` says why if the input was malformed.
  void Close(absl::Status status) {
    std::lock_guard l(mu_);
    closed_ = true;
    status_ = std::move(status);
    cv_.notify_all();
  }
  // The next batch; false once closed and drained.
  bool Pop(Batch* b) {
    std::unique_lock l(mu_);
    cv_.wait(l, [&] { return !q_.empty() || closed_; });
    if (q_.empty()) return false;
    *b = std::move(q_.front());
    q_.pop_front();
    cv_.notify_all();
    return true;
  }
  absl::Status status() {
    std::lock_guard l(mu_);
    return status_;
  }

 private:
  // Slack (at most ~5 MiB of 4,096-entry batches) so that neither thread
  // waits while the scheduler parks the other for a moment on two cores.
  static constexpr size_t kMaxBatches = 32;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Batch> q_;
  std::vector<Batch> free_;
  bool closed_ = false;
  absl::Status status_ = absl::InternalError("mvcc: checkpoint decoder did not finish");
};

// Decodes every entry of `chunks` into batches of `batch_size`, each passed
// to emit(Batch&), which leaves it empty for the next entries, checking that
// keys strictly ascend and that each history is well formed with revisions
// up to max_main; adds the revisions to *summary. DataLoss if not.
template <typename Emit>
absl::Status DecodeCheckpoint(const std::vector<std::string_view>& chunks, size_t batch_size,
                              int64_t max_main, RevisionSummary* summary, Emit emit) {
  Batch batch;
  batch.reserve(batch_size);
  bool first = true;
  std::string_view prev;  // a view into the chunks, which outlive the decode
  for (std::string_view in : chunks) {
    while (!in.empty()) {
      uint64_t size;
      if (!util::GetVarint(&in, &size) || size > in.size()) {
        return absl::DataLossError("a key of the checkpoint is cut short");
      }
      std::string_view key = in.substr(0, size);
      in.remove_prefix(size);
      if (!first && util::CompareBytes(prev, key) >= 0) {
        return absl::DataLossError("the checkpoint's keys are out of order or repeated");
      }
      first = false;
      prev = key;
      KeyIndex ki;
      if (!ki.DecodeFrom(&in)) {
        return absl::DataLossError("a key's history in the checkpoint is malformed");
      }
      if (!ki.CheckWellFormed(max_main, summary)) {
        return absl::DataLossError(
            "a key's revisions in the checkpoint are out of order or out of range");
      }
      batch.emplace_back(CompactKey(key), std::move(ki));
      if (batch.size() == batch_size) emit(batch);
    }
  }
  if (!batch.empty()) emit(batch);
  return absl::OkStatus();
}

}  // namespace

absl::Status Index::LoadCheckpoint(const std::vector<std::string_view>& chunks, int64_t max_main,
                                   RevisionSummary* summary) {
  *summary = RevisionSummary();
  util::ScopedLock l(mu_);
  if (!tree_.empty()) return absl::FailedPreconditionError("mvcc: the index is not empty");
  ClearCache();
  epoch_++;
  size_t entries = 0;
  // In key order (checked by the decoder) every insert is at the end: O(1).
  auto insert = [&](Batch& batch) {
    mu_.AssumeHeld();  // called only below, under the lock taken above
    for (auto& [key, ki] : batch) tree_.emplace_hint(tree_.end(), std::move(key), std::move(ki));
    entries += batch.size();
    batch.clear();
  };
  size_t bytes = 0;
  for (std::string_view c : chunks) bytes += c.size();
  absl::Status status;
  if (bytes < kParallelLoadBytes) {
    status = DecodeCheckpoint(chunks, 4096, max_main, summary, insert);
  } else {
    // Decoding, with the heap blocks of long histories, runs on a second
    // thread while this one builds the tree, as etcd's restore feeds its
    // index from a goroutine (bench/README.md has what it saves).
    BatchQueue queue;
    constexpr size_t kBatch = 4096;
    std::thread decoder([&] {
      queue.Close(DecodeCheckpoint(chunks, kBatch, max_main, summary, [&](Batch& b) {
        queue.Push(std::move(b));
        b = queue.TakeEmpty(kBatch);
      }));
    });
    Batch batch;
    while (queue.Pop(&batch)) {
      insert(batch);
      queue.Recycle(std::move(batch));
    }
    decoder.join();
    status = queue.status();
  }
  if (status.ok() && tree_.size() != entries) {
    status = absl::DataLossError("a key of the checkpoint is repeated");
  }
  if (!status.ok()) {
    tree_.clear();
    *summary = RevisionSummary();
  }
  return status;
}

void Index::Clear() {
  util::ScopedLock l(mu_);
  tree_.clear();
  epoch_++;
  ClearCache();
}

size_t Index::size() const {
  util::ScopedSharedLock l(mu_);
  return tree_.size();
}

size_t Index::MemoryBytes() const {
  util::ScopedSharedLock l(mu_);
  // The tree's nodes, plus what keys and key indexes own on the heap.
  size_t n = tree_.bytes_used() + cache_.MemoryBytes();
  for (const auto& [key, ki] : tree_) n += key.HeapBytes() + ki.HeapBytes();
  return n;
}

}  // namespace revkv::mvcc
