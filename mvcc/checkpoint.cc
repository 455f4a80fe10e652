// The index checkpoint: at a clean close the store writes its whole index
// into the backend (bucket kIndexBucket), tagged with what identifies the
// state it describes: the consistent index (bumped by every write
// transaction) and the compaction revisions of the meta bucket. Open uses it
// only if all of them still match, so any write, compaction or crash after
// the checkpoint makes open rebuild the index from the key bucket instead.
// It turns open from a sort of every record into a sequential load.
#include <cstring>

#include "absl/strings/str_format.h"
#include "mvcc/store.h"

namespace revkv::mvcc {
namespace {

constexpr char kHeaderKey[] = "header";
constexpr char kMagic[8] = {'r', 'e', 'v', 'k', 'v', 'I', 'X', '1'};
constexpr size_t kChunkBytes = size_t{16} << 20;

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
  if (h.consistent_index != consistent_index_ || h.finished != finished ||
      h.scheduled != scheduled) {
    return false;  // the store changed after the checkpoint
  }
  std::vector<std::string_view> chunks;
  for (int64_t i = 0; i < h.chunks; ++i) {
    absl::StatusOr<std::string_view> chunk = view.UnsafeGet(kIndexBucket, ChunkKey(i));
    if (!chunk.ok()) return false;
    chunks.push_back(*chunk);
  }
  if (!index_.LoadCheckpoint(chunks)) return false;
  current_rev_ = h.current_rev;
  compact_main_rev_ = h.compact_rev;
  checkpoint_ = {h.consistent_index, h.finished, h.scheduled};
  from_checkpoint_ = true;
  return true;
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
    std::lock_guard l(rev_mu_);
    if (compact_main_rev_ != *finished) return absl::OkStatus();
  }
  if (checkpoint_ == CheckpointId{consistent_index_, *finished, *scheduled}) {
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
    std::lock_guard l(rev_mu_);
    h = {consistent_index_, *finished, *scheduled, current_rev_, compact_main_rev_,
         int64_t(chunks.size())};
  }
  return tx->UnsafePut(kIndexBucket, kHeaderKey, EncodeHeader(h));
}

}  // namespace revkv::mvcc
