// The index checkpoint's format and its verification: what the store writes
// into bucket kIndexBucket at a clean close, and what decides whether open
// may believe it (issue #19: nothing read from disk is believed unverified).
//
// Layout: key "header" holds the magic "revkvIX2", six big-endian int64
// fields (consistent index, finished and scheduled compaction revisions,
// current and compacted revisions, chunk count) and an XXH3-64 checksum
// over those 56 bytes and then, for each chunk in order, its 8-byte
// big-endian length and its bytes. Keys "chunk-%08d" hold the index's
// entries in key order (Index::EncodeCheckpoint).
//
// A checkpoint is used only if, besides its checksum, it decodes into
// strictly ascending keys with well-formed histories (KeyIndex::
// CheckWellFormed) and agrees with the key bucket at its revision: the
// bucket's first record is the index's least revision, and its last record
// up to the checkpoint's revision is the index's greatest (two seeks).
// Counting every record against the index is a scan of the key bucket;
// `revkv check` asks for it, open does not (VerifyOptions).
//
// Thread-safety: pure functions over a BucketReader, which the caller keeps
// to one thread.
#ifndef REVKV_MVCC_CHECKPOINT_H_
#define REVKV_MVCC_CHECKPOINT_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mvcc/index.h"
#include "mvcc/key_index.h"

namespace revkv::mvcc {

inline constexpr char kCheckpointHeaderKey[] = "header";
std::string CheckpointChunkKey(int64_t i);

// Read access to the store's buckets: a backend view at open, a read-only
// btree transaction in `revkv check`. Views returned stay valid while the
// reader lives. A missing bucket reads as empty.
class BucketReader {
 public:
  virtual ~BucketReader() = default;
  // The value of `key`; NotFound when absent.
  virtual absl::StatusOr<std::string_view> Get(std::string_view bucket, std::string_view key) = 0;
  // Up to `limit` keys of `bucket` in [from, to), in order (copies).
  virtual absl::StatusOr<std::vector<std::string>> Keys(std::string_view bucket,
                                                        std::string_view from,
                                                        std::string_view to, size_t limit) = 0;
  // Calls fn for every key of `bucket` in order; stops at fn's first error.
  virtual absl::Status ForEachKey(std::string_view bucket,
                                  const std::function<absl::Status(std::string_view)>& fn) = 0;
};

// The meta bucket's revision `name` (kFinishedCompactKey or
// kScheduledCompactKey), -1 when absent; DataLoss when malformed.
absl::StatusOr<int64_t> ReadMetaRevision(BucketReader& r, std::string_view name);

// What a checkpoint's header says.
struct CheckpointHeader {
  int64_t consistent_index = 0, finished = 0, scheduled = 0, current_rev = 0, compact_rev = 0;
  int64_t chunks = 0;
};

// The header value to store with `chunks`, its checksum included.
std::string EncodeCheckpointHeader(const CheckpointHeader& h,
                                   const std::vector<std::string>& chunks);

struct VerifyOptions {
  // Also count every record of the key bucket up to the checkpoint's
  // revision against the index's revisions (a scan of the key bucket).
  bool count_records = false;
};

// Loads the checkpoint into the empty `index` and verifies it (see above),
// given the meta bucket's compaction revisions. Returns true with *header
// set when it may be used; false (index empty) when there is none to use:
// no checkpoint, one of another format (an older revkv's, without a
// checksum: never read further), or one from before a compaction
// (`finished`/`scheduled` differ). Errors leave the index empty:
// ErrCheckpointRejected when the checkpoint fails verification (its message
// says how), or the reader's error.
absl::StatusOr<bool> LoadVerifiedCheckpoint(BucketReader& r, int64_t finished, int64_t scheduled,
                                            const VerifyOptions& options, Index* index,
                                            CheckpointHeader* header);

}  // namespace revkv::mvcc

#endif  // REVKV_MVCC_CHECKPOINT_H_
