// Wal: the server's write-ahead log of entries (serialized
// revkvpb.InternalRequest, numbered 1, 2, 3, ... like Raft log indexes).
// An entry is acknowledged once it is in the log and fdatasync'ed; the DB
// then applies it and commits its backend lazily, recording the entry's
// index as the store's consistent index in the same backend commit, so a
// restart replays exactly the entries the backend does not hold (etcd's WAL
// + consistent index).
//
// Layout: DIR/<seq:016x>-<first index:016x>.wal segments of `segment_bytes`,
// zero-filled when made (so an fdatasync flushes data, not file size) --
// ahead of need, by a thread of the log's own (wal_spare.h) -- each
// a run of records
//   u32 length | u32 crc32c(index, payload) | u64 index | payload | zeros to 8
// ended by a zero length. Indexes run without gaps across segments.
//
// What is read is verified: a record whose checksum fails is a torn write
// if nothing but zeros follows it in the last segment (the log ends before
// it and that tail is zeroed); anywhere else it is DataLoss naming the
// segment and offset (payload kWalCorrupt), as is a gap in the indexes.
//
// Thread-safety: not thread-safe; the proposer's log thread owns it (the
// spare segment's thread is internal).
#ifndef REVKV_SERVER_WAL_H_
#define REVKV_SERVER_WAL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/wal_spare.h"

namespace revkv::server {

// The payload naming a damaged log (util/status_payload.h).
inline constexpr char kWalErrorUrl[] = "revkv.server/wal";
inline constexpr char kWalCorrupt[] = "corrupt";
bool IsWalCorrupt(const absl::Status& s);

struct WalEntry {
  uint64_t index = 0;
  std::string data;
};

struct WalOptions {
  uint64_t segment_bytes = 16 << 20;
};

class Wal {
 public:
  // Opens (making it if missing) the log in `dir` and returns in
  // `*unapplied` its entries after `applied_index`, in order. The log must
  // reach applied_index + 1 (or be empty of later entries); an entry the
  // log lost is DataLoss. A torn last record is cut off.
  static absl::StatusOr<std::unique_ptr<Wal>> Open(const std::string& dir, uint64_t applied_index,
                                                   std::vector<WalEntry>* unapplied,
                                                   const WalOptions& options = {});
  ~Wal();
  // How many entries after `applied_index` the log in `dir` holds (0 if
  // there is no log), reading only: for a tool that must not open a data
  // directory whose data file lacks acknowledged writes. Errors as Open's.
  static absl::StatusOr<uint64_t> CountUnapplied(const std::string& dir, uint64_t applied_index);

  // Buffers entry `index`, which must be last_index() + 1 (or anything
  // in an empty log). Durable only after Sync.
  absl::Status Append(uint64_t index, std::string_view data);
  // Writes the buffered entries and fdatasyncs them.
  absl::Status Sync();
  // Deletes the segments (all but the one being written) whose entries are
  // all at or below `index` (the backend holds them).
  absl::Status Release(uint64_t index);

  uint64_t last_index() const { return last_index_; }
  size_t segment_count() const { return segments_.size(); }
  // Blocks until the next segment is ready to roll over to (tests).
  void WaitSpareReady() { spare_->WaitReady(); }

 private:
  struct Segment {
    uint64_t seq = 0;
    uint64_t first_index = 0;  // of its first entry (or the next, if empty)
    std::string path;
  };
  struct Scan;
  Wal(std::string dir, const WalOptions& options) : dir_(std::move(dir)), options_(options) {}
  static absl::Status Read(const std::string& dir, uint64_t applied_index,
                           std::vector<WalEntry>* unapplied, Scan* scan);
  // Puts the spare segment (zero-filled, fsynced) in place as segment seq
  // and writes it from offset 0.
  absl::Status NewSegment(uint64_t seq, uint64_t first_index);

  const std::string dir_;
  const WalOptions options_;
  std::vector<Segment> segments_;  // oldest first; the last is written
  int fd_ = -1;                    // of segments_.back()
  uint64_t offset_ = 0;            // where the next record goes in it
  uint64_t last_index_ = 0;
  std::string buffer_;   // encoded records not yet written, for offset_ on
  std::unique_ptr<SpareSegment> spare_;
};

}  // namespace revkv::server

#endif  // REVKV_SERVER_WAL_H_
