// Moving in from etcd: builds a revkv data directory from an etcd 3.4 bbolt
// file -- a snapshot (`etcdctl snapshot save`) or a stopped member's
// member/snap/db.
//
// What is carried over, byte for byte: the `key` bucket (revision keys ->
// mvccpb.KeyValue records, which revkv stores in etcd's own encoding, so
// HashKV at any retained revision is etcd's), the `meta` bucket's
// consistent_index, scheduledCompactRev and finishedCompactRev, and the
// `lease` and `alarm` buckets. etcd's cluster, members and auth buckets are
// left behind: revkv is a single member without auth.
//
// Nothing is believed unverified: besides the reader's page checks, every
// key-bucket record must be a well-formed revision key holding a KeyValue
// that decodes (a live record's mod_revision is its revision, its create
// revision and version are positive), meta values must have their sizes
// and forms, lease keys 8 bytes. A record that fails is a DataLoss naming
// it (kBadRecord), and nothing is left at the target.
//
// Bulk: the records are written in key order into the new file, a few
// large btree transactions without fsync and one fsync at the end; the
// store then opens it once (rebuilding its index: the import's own check
// that the result is a store that works) before the directory is renamed
// into place. A crash leaves the target absent, never half-built.
//
// Thread-safety: functions over the file system; the target must not be
// used by anyone during the import.
#ifndef REVKV_INTEROP_ETCD_IMPORT_H_
#define REVKV_INTEROP_ETCD_IMPORT_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "interop/etcd/bolt_db.h"

namespace revkv::interop::etcd {

inline constexpr char kBadRecord[] = "bad-record";       // under kEtcdFileErrorUrl
inline constexpr char kMemberRunning[] = "member-running";  // under kEtcdFileErrorUrl

struct ImportReport {
  int64_t records = 0;   // key bucket records
  int64_t leases = 0;
  int64_t alarms = 0;
  int64_t revision = 0;          // the store's revision after opening
  int64_t compact_revision = -1;
  uint64_t consistent_index = 0;
  bool sha256_verified = false;
  std::string meta_note;  // the reader's note on a passed-over meta page
};

// Writes the content of `f` as a new revkv data directory `data_dir`
// (absent or empty).
absl::StatusOr<ImportReport> ImportBolt(const BoltFile& f, const std::string& data_dir);

// `revkv snapshot restore ETCD_FILE`: ReadEtcdFile (the hash checked unless
// skip_hash_check), then ImportBolt.
absl::StatusOr<ImportReport> RestoreEtcdSnapshot(const std::string& path,
                                                 const std::string& data_dir,
                                                 bool skip_hash_check);

// `revkv migrate --from-etcd-data-dir DIR`: imports DIR/member/snap/db.
// Refuses (FailedPrecondition, kMemberRunning) while an etcd holds the
// file's lock: a running member's file changes under the reader.
absl::StatusOr<ImportReport> MigrateEtcdDataDir(const std::string& etcd_dir,
                                                const std::string& data_dir);

bool IsBadRecord(const absl::Status& s);
bool IsMemberRunning(const absl::Status& s);

}  // namespace revkv::interop::etcd

#endif  // REVKV_INTEROP_ETCD_IMPORT_H_
