// The index checkpoint: at a clean close the store writes its whole index
// into the backend (bucket kIndexBucket), tagged with the revision it
// describes and the compaction revisions of the meta bucket. It turns open
// from a sort of every record into a sequential load.
//
// It is incremental: records are only ever added above the current
// revision, except by compaction (which changes the meta bucket's
// compaction revisions). So while those match, the checkpoint plus the
// records written after its revision -- a suffix of the key bucket, found
// by one seek -- is the whole index, and open replays that suffix over it.
// A close rewrites the checkpoint only after a compaction or once the
// suffix holds more than a fraction of the index, so a put on a large
// store writes its record, not the index.
//
// What open believes of it is decided in checkpoint_verify.cc (checkpoint.h):
// a checkpoint that fails verification is never used; open rebuilds the
// index from the records and reports why (Store::open_warnings).
#include <algorithm>

#include "mvcc/checkpoint.h"
#include "mvcc/store.h"

namespace revkv::mvcc {
namespace {

constexpr size_t kChunkBytes = size_t{16} << 20;
// A close leaves the checkpoint as it is while the records after it number
// at most 1/kSuffixFraction of the index's keys plus kSuffixSlack: open
// replays those, a bounded share of its time.
constexpr int64_t kSuffixFraction = 16;
constexpr int64_t kSuffixSlack = 4096;

// The buckets as a backend view shows them.
class ViewReader : public BucketReader {
 public:
  explicit ViewReader(backend::ConcurrentReadTx& view) : view_(view) {}
  absl::StatusOr<std::string_view> Get(std::string_view bucket, std::string_view key) override {
    return view_.UnsafeGet(bucket, key);
  }
  absl::StatusOr<std::vector<std::string>> Keys(std::string_view bucket, std::string_view from,
                                                std::string_view to, size_t limit) override {
    absl::StatusOr<backend::KeyValues> kvs = view_.UnsafeRange(bucket, from, to, limit);
    if (!kvs.ok()) return kvs.status();
    return std::move(kvs->keys);
  }
  absl::Status ForEachKey(std::string_view bucket,
                          const std::function<absl::Status(std::string_view)>& fn) override {
    return view_.UnsafeForEach(bucket, [&](std::string_view k, std::string_view) { return fn(k); });
  }

 private:
  backend::ConcurrentReadTx& view_;
};

}  // namespace

bool Store::LoadCheckpoint(backend::ConcurrentReadTx& view, int64_t finished, int64_t scheduled) {
  ViewReader reader(view);
  CheckpointHeader h;
  absl::StatusOr<bool> loaded =
      LoadVerifiedCheckpoint(reader, finished, scheduled, VerifyOptions{}, &index_, &h);
  if (!loaded.ok()) {
    open_warnings_.push_back(IsCheckpointRejected(loaded.status())
                                 ? loaded.status()
                                 : ErrCheckpointRejected(loaded.status().ToString()));
    return false;
  }
  if (!*loaded) return false;
  absl::StatusOr<int64_t> replayed = ReplayAfter(view, h.current_rev);
  if (!replayed.ok()) {
    // The rebuild reads the same records and reports what is wrong.
    index_.Clear();
    return false;
  }
  current_rev_ = std::max(h.current_rev, *replayed);
  compact_main_rev_ = h.compact_rev;
  checkpoint_ = {h.finished, h.scheduled, h.current_rev};
  records_since_checkpoint_ = records_replayed_;
  from_checkpoint_ = true;
  return true;
}

absl::StatusOr<int64_t> Store::ReplayAfter(backend::ConcurrentReadTx& view, int64_t rev) {
  // Revision keys start with the main revision, big-endian and positive:
  // every one sorts below "\x80".
  records_replayed_ = 0;
  if (rev == INT64_MAX) return rev;  // nothing can follow it
  std::string from = RevisionKey({rev + 1, 0});
  const std::string end(1, '\x80');
  int64_t last = rev;
  while (true) {
    absl::StatusOr<backend::KeyValues> kvs = view.UnsafeRange(kKeyBucket, from, end, 4096);
    if (!kvs.ok()) return kvs.status();
    std::vector<Index::Record> records(kvs->size());
    for (size_t i = 0; i < kvs->size(); ++i) {
      Index::Record& r = records[i];
      if (!ParseRevisionKey(kvs->keys[i], &r.rev, &r.tombstone)) {
        return absl::DataLossError("mvcc: malformed revision key in the key bucket");
      }
      if (absl::Status s =
              DecodeKeyValueHeader(kvs->values[i], &r.key, &r.create_revision, &r.version);
          !s.ok()) {
        return s;
      }
      last = r.rev.main;
    }
    index_.RestoreRecords(&records);
    records_replayed_ += int64_t(kvs->size());
    if (kvs->size() < 4096) return last;
    from = kvs->keys.back();
    from.push_back('\0');  // the next key after it
  }
}

absl::Status Store::WriteCheckpoint() {
  backend::BatchTx* tx = &backend_->batch_tx();
  tx->Lock();
  struct Unlocker {
    backend::BatchTx* tx;
    ~Unlocker() { tx->Unlock(); }
  } unlock{tx};
  absl::StatusOr<int64_t> finished = ReadMetaRevision(tx, kFinishedCompactKey);
  if (!finished.ok()) return finished.status();
  absl::StatusOr<int64_t> scheduled = ReadMetaRevision(tx, kScheduledCompactKey);
  if (!scheduled.ok()) return scheduled.status();
  // A compaction still deleting records would change the key bucket after
  // the checkpoint; and an unchanged store already has its checkpoint.
  if (*scheduled != *finished) return absl::OkStatus();
  {
    // The meta bucket was changed behind the store (snapshot restore's
    // --mark-compacted): what open derives from it may differ from memory.
    util::AdaptiveMutexLock l(rev_mu_);
    if (compact_main_rev_ != *finished) return absl::OkStatus();
  }
  // Unchanged compaction revisions: the checkpoint plus the records after
  // it still make the index; rewrite it only once that suffix is large.
  if (checkpoint_.finished == *finished && checkpoint_.scheduled == *scheduled &&
      records_since_checkpoint_ * kSuffixFraction <= int64_t(index_.size()) + kSuffixSlack) {
    return absl::OkStatus();
  }
  if (absl::Status s = tx->UnsafeDeleteBucket(kIndexBucket); !s.ok() && !absl::IsNotFound(s)) {
    return s;
  }
  if (absl::Status s = tx->UnsafeCreateBucket(kIndexBucket); !s.ok()) return s;
  std::vector<std::string> chunks = index_.EncodeCheckpoint(kChunkBytes);
  for (size_t i = 0; i < chunks.size(); ++i) {
    if (absl::Status s = tx->UnsafePut(kIndexBucket, CheckpointChunkKey(int64_t(i)), chunks[i]);
        !s.ok()) {
      return s;
    }
  }
  CheckpointHeader h;
  {
    util::AdaptiveMutexLock l(rev_mu_);
    h = {consistent_index_, *finished, *scheduled, current_rev_, compact_main_rev_,
         int64_t(chunks.size())};
  }
  if (absl::Status s = tx->UnsafePut(kIndexBucket, kCheckpointHeaderKey,
                                     EncodeCheckpointHeader(h, chunks));
      !s.ok()) {
    return s;
  }
  checkpoint_ = {h.finished, h.scheduled, h.current_rev};
  records_since_checkpoint_ = 0;
  return absl::OkStatus();
}

}  // namespace revkv::mvcc
