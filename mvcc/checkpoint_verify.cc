// The index checkpoint's header, checksum and verification (checkpoint.h).
#include <xxhash.h>

#include <cstring>

#include "absl/strings/str_format.h"
#include "mvcc/checkpoint.h"
#include "mvcc/errors.h"
#include "mvcc/revision.h"
#include "mvcc/store.h"

namespace revkv::mvcc {
namespace {

// "revkvIX1" was the format without a checksum; any "revkvIX" other than
// this one is another format and is ignored, not read.
constexpr char kFamily[7] = {'r', 'e', 'v', 'k', 'v', 'I', 'X'};
constexpr char kMagic[8] = {'r', 'e', 'v', 'k', 'v', 'I', 'X', '2'};
constexpr size_t kFieldsEnd = sizeof kMagic + 6 * 8;  // where the checksum starts
constexpr size_t kHeaderBytes = kFieldsEnd + 8;

void PutFixed(uint64_t v, std::string* out) {
  for (int i = 0; i < 8; ++i) out->push_back(char(v >> (56 - 8 * i)));
}

uint64_t GetFixed(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | uint8_t(p[i]);
  return v;
}

// XXH3-64 over the header's fields, then each chunk's length and bytes.
uint64_t Checksum(std::string_view fields, const std::vector<std::string_view>& chunks) {
  XXH3_state_t* st = XXH3_createState();
  XXH3_64bits_reset(st);
  XXH3_64bits_update(st, fields.data(), fields.size());
  for (std::string_view c : chunks) {
    std::string len;
    PutFixed(c.size(), &len);
    XXH3_64bits_update(st, len.data(), len.size());
    XXH3_64bits_update(st, c.data(), c.size());
  }
  uint64_t h = XXH3_64bits_digest(st);
  XXH3_freeState(st);
  return h;
}

// The revision of a key of the key bucket.
absl::StatusOr<Revision> RecordRevision(std::string_view key) {
  Revision rev;
  bool tombstone;
  if (!ParseRevisionKey(key, &rev, &tombstone)) {
    return absl::DataLossError("mvcc: malformed revision key in the key bucket");
  }
  return rev;
}

std::string Rev(Revision r) { return absl::StrFormat("{%d, %d}", r.main, r.sub); }

// Whether the key bucket agrees with an index holding `s` at revision
// `current`: ErrCheckpointRejected if not.
absl::Status CheckAgainstRecords(BucketReader& r, const RevisionSummary& s, int64_t current,
                                 const VerifyOptions& options) {
  // Every revision key sorts below "\x80" (big-endian, positive main).
  const std::string end =
      current == INT64_MAX ? std::string(1, '\x80') : RevisionKey({current + 1, 0});
  absl::StatusOr<std::vector<std::string>> first = r.Keys(kKeyBucket, "", end, 1);
  if (!first.ok()) return first.status();
  if (s.count == 0) {
    if (!first->empty()) {
      return ErrCheckpointRejected("the index is empty but the key bucket holds records");
    }
    return absl::OkStatus();
  }
  if (first->empty()) {
    return ErrCheckpointRejected("the index holds revisions but the key bucket none");
  }
  absl::StatusOr<Revision> first_rev = RecordRevision(first->front());
  if (!first_rev.ok()) return first_rev.status();
  if (*first_rev != s.min) {
    return ErrCheckpointRejected(absl::StrFormat(
        "the key bucket's first record is %s, the index's least revision %s", Rev(*first_rev),
        Rev(s.min)));
  }
  // The record at s.max (with or without the tombstone mark), and nothing
  // after it up to the checkpoint's revision.
  absl::StatusOr<std::vector<std::string>> last = r.Keys(kKeyBucket, RevisionKey(s.max), end, 2);
  if (!last.ok()) return last.status();
  absl::StatusOr<Revision> last_rev =
      last->empty() ? Revision{0, 0} : RecordRevision(last->front());
  if (!last_rev.ok()) return last_rev.status();
  if (last->size() != 1 || *last_rev != s.max) {
    return ErrCheckpointRejected(absl::StrFormat(
        "the index's greatest revision %s is not the key bucket's last record up to revision %d",
        Rev(s.max), current));
  }
  if (!options.count_records) return absl::OkStatus();
  int64_t records = 0;
  absl::Status scan = r.ForEachKey(kKeyBucket, [&](std::string_view k) {
    if (k < end) ++records;
    return absl::OkStatus();
  });
  if (!scan.ok()) return scan;
  if (records != s.count) {
    return ErrCheckpointRejected(absl::StrFormat(
        "the key bucket holds %d records up to revision %d, the index %d revisions", records,
        current, s.count));
  }
  return absl::OkStatus();
}

}  // namespace

std::string CheckpointChunkKey(int64_t i) { return absl::StrFormat("chunk-%08d", i); }

absl::StatusOr<int64_t> ReadMetaRevision(BucketReader& r, std::string_view name) {
  absl::StatusOr<std::string_view> v = r.Get(kMetaBucket, name);
  if (absl::IsNotFound(v.status())) return int64_t{-1};
  if (!v.ok()) return v.status();
  Revision rev;
  bool tombstone;
  if (!ParseRevisionKey(*v, &rev, &tombstone)) {
    return absl::DataLossError(absl::StrFormat("mvcc: meta key %s is malformed", name));
  }
  return rev.main;
}

std::string EncodeCheckpointHeader(const CheckpointHeader& h,
                                   const std::vector<std::string>& chunks) {
  std::string out(kMagic, sizeof kMagic);
  for (int64_t v : {h.consistent_index, h.finished, h.scheduled, h.current_rev, h.compact_rev,
                    h.chunks}) {
    PutFixed(uint64_t(v), &out);
  }
  std::vector<std::string_view> views(chunks.begin(), chunks.end());
  PutFixed(Checksum(out, views), &out);
  return out;
}

absl::StatusOr<bool> LoadVerifiedCheckpoint(BucketReader& r, int64_t finished, int64_t scheduled,
                                            const VerifyOptions& options, Index* index,
                                            CheckpointHeader* header) {
  absl::StatusOr<std::string_view> raw = r.Get(kIndexBucket, kCheckpointHeaderKey);
  if (absl::IsNotFound(raw.status())) return false;
  if (!raw.ok()) return raw.status();
  const std::string_view in = *raw;
  if (in.size() >= sizeof kMagic && std::memcmp(in.data(), kFamily, sizeof kFamily) == 0 &&
      in[sizeof kFamily] != kMagic[sizeof kFamily]) {
    return false;  // another format: never read
  }
  if (in.size() != kHeaderBytes || std::memcmp(in.data(), kMagic, sizeof kMagic) != 0) {
    return ErrCheckpointRejected("its header is malformed");
  }
  CheckpointHeader h;
  int64_t* fields[] = {&h.consistent_index, &h.finished,    &h.scheduled,
                       &h.current_rev,      &h.compact_rev, &h.chunks};
  for (size_t i = 0; i < 6; ++i) *fields[i] = int64_t(GetFixed(in.data() + sizeof kMagic + 8 * i));
  // The checksum first: nothing else in the header is believed before it.
  std::vector<std::string_view> chunks;
  for (int64_t i = 0; i >= 0 && i < h.chunks; ++i) {
    absl::StatusOr<std::string_view> chunk = r.Get(kIndexBucket, CheckpointChunkKey(i));
    if (absl::IsNotFound(chunk.status())) {
      return ErrCheckpointRejected(absl::StrFormat("chunk %d of %d is missing", i, h.chunks));
    }
    if (!chunk.ok()) return chunk.status();
    chunks.push_back(*chunk);
  }
  if (Checksum(in.substr(0, kFieldsEnd), chunks) != GetFixed(in.data() + kFieldsEnd)) {
    return ErrCheckpointRejected("checksum mismatch");
  }
  if (h.chunks < 0 || h.current_rev < 1 || h.current_rev < h.compact_rev) {
    return ErrCheckpointRejected("its header is inconsistent");
  }
  if (h.finished != finished || h.scheduled != scheduled) return false;  // compacted since
  RevisionSummary summary;
  if (absl::Status s = index->LoadCheckpoint(chunks, h.current_rev, &summary); !s.ok()) {
    return ErrCheckpointRejected(std::string(s.message()));
  }
  if (absl::Status s = CheckAgainstRecords(r, summary, h.current_rev, options); !s.ok()) {
    index->Clear();
    return s;
  }
  *header = h;
  return true;
}

}  // namespace revkv::mvcc
