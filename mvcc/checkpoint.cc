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
#include <algorithm>
#include <cstring>

#include "absl/strings/str_format.h"
#include "mvcc/store.h"

namespace revkv::mvcc {
namespace {

constexpr char kHeaderKey[] = "header";
constexpr char kMagic[8] = {'r', 'e', 'v', 'k', 'v', 'I', 'X', '1'};
constexpr size_t kChunkBytes = size_t{16} << 20;
// A close leaves the checkpoint as it is while the records after it number
// at most 1/kSuffixFraction of the index's keys plus kSuffixSlack: open
// replays those, a bounded share of its time.
constexpr int64_t kSuffixFraction = 16;
constexpr int64_t kSuffixSlack = 4096;

struct Header {
  int64_t consistent_index, finished, scheduled, current_rev, compact_rev, chunks;
};

std::string EncodeHeader(const Header& h) {
  std::string out(kMagic, sizeof kMagic);
  for (int64_t v : {h.consistent_index, h.finished, h.scheduled, h.current_rev, h.compact_rev,
                    h.chunks}) {
    for (int i = 0; i < 8; ++i) out.push_back(char(uint64_t(v) >> (56 - 8 * i)));
  }
  return out;
}

bool DecodeHeader(std::string_view in, Header* h) {
  if (in.size() != sizeof kMagic + 6 * 8 || std::memcmp(in.data(), kMagic, sizeof kMagic) != 0) {
    return false;
  }
  in.remove_prefix(sizeof kMagic);
  int64_t* fields[] = {&h->consistent_index, &h->finished, &h->scheduled,
                       &h->current_rev,      &h->compact_rev, &h->chunks};
  for (int64_t* f : fields) {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | uint8_t(in[i]);
    in.remove_prefix(8);
    *f = int64_t(v);
  }
  return h->chunks >= 0 && h->current_rev >= 1 && h->current_rev >= h->compact_rev;
}

std::string ChunkKey(int64_t i) { return absl::StrFormat("chunk-%08d", i); }

}  // namespace

bool Store::LoadCheckpoint(backend::ConcurrentReadTx& view, int64_t finished, int64_t scheduled) {
  absl::StatusOr<std::string_view> raw = view.UnsafeGet(kIndexBucket, kHeaderKey);
  Header h;
  if (!raw.ok() || !DecodeHeader(*raw, &h)) return false;
  if (h.finished != finished || h.scheduled != scheduled) return false;  // compacted since
  std::vector<std::string_view> chunks;
  for (int64_t i = 0; i < h.chunks; ++i) {
    absl::StatusOr<std::string_view> chunk = view.UnsafeGet(kIndexBucket, ChunkKey(i));
    if (!chunk.ok()) return false;
    chunks.push_back(*chunk);
  }
  if (!index_.LoadCheckpoint(chunks)) return false;
  absl::StatusOr<int64_t> replayed = ReplayAfter(view, h.current_rev);
  if (!replayed.ok()) {
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
    base::AdaptiveMutexLock l(rev_mu_);
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
    if (absl::Status s = tx->UnsafePut(kIndexBucket, ChunkKey(int64_t(i)), chunks[i]); !s.ok()) {
      return s;
    }
  }
  Header h;
  {
    base::AdaptiveMutexLock l(rev_mu_);
    h = {consistent_index_, *finished, *scheduled, current_rev_, compact_main_rev_,
         int64_t(chunks.size())};
  }
  if (absl::Status s = tx->UnsafePut(kIndexBucket, kHeaderKey, EncodeHeader(h)); !s.ok()) {
    return s;
  }
  checkpoint_ = {h.finished, h.scheduled, h.current_rev};
  records_since_checkpoint_ = 0;
  return absl::OkStatus();
}

}  // namespace revkv::mvcc
