// etcd's file formats around a bbolt database: telling a revkv snapshot, an
// etcd snapshot (`etcdctl snapshot save`: the bbolt file then the 32-byte
// SHA-256 of it) and a bare bbolt file (a member's member/snap/db) apart;
// checking the SHA-256 as `etcdctl snapshot restore` does; and etcdctl's
// `snapshot status` figures of such a file.
//
// etcdctl decides that a file carries a hash when its size modulo 512 is 32
// (bbolt files are whole pages, multiples of 512); so does revkv.
//
// Errors recognised by code and payload (kEtcdFileErrorUrl): a file without
// the hash when one is required (kMissingHash, FailedPrecondition, as
// etcdctl's "snapshot missing hash but --skip-hash-check=false"), a hash
// that does not match (kHashMismatch, DataLoss); the bbolt reader's own
// errors are BoltErrors (bolt_error.h).
//
// Thread-safety: pure functions over the file system.
#ifndef REVKV_INTEROP_ETCD_ETCD_FILE_H_
#define REVKV_INTEROP_ETCD_ETCD_FILE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "interop/etcd/bolt_db.h"

namespace revkv::interop::etcd {

inline constexpr char kEtcdFileErrorUrl[] = "revkv.interop.etcd.error";
inline constexpr char kMissingHash[] = "missing-hash";
inline constexpr char kHashMismatch[] = "hash-mismatch";
inline constexpr size_t kSha256Size = 32;

enum class FileFormat {
  kRevkvSnapshot,  // ends with revkv's snapshot trailer
  kBolt,           // a bbolt file: an etcd snapshot or a member's db
  kUnknown,
};

// Looks at the end (revkv's trailer magic) and the meta pages (bbolt's
// magic); reads a few bytes, verifies nothing.
absl::StatusOr<FileFormat> DetectFormat(const std::string& path);

struct EtcdFile {
  std::unique_ptr<BoltFile> bolt;
  bool has_sha256 = false;       // the file ends with etcd's hash
  bool sha256_verified = false;  // ... and it was checked and matched
  uint64_t content_size = 0;     // bytes of bbolt file
};

// Reads an etcd snapshot or bbolt file: with check_hash (etcdctl's default),
// a file must carry the SHA-256 and it must match; without it the hash, if
// any, is cut off unread. Then opens the bbolt content (BoltFile::Open).
absl::StatusOr<EtcdFile> ReadEtcdFile(const std::string& path, bool check_hash);

// etcdctl 3.4's `snapshot status` of a bbolt file: CRC-32C over every
// top-level bucket's name and its entries' keys and values, the key
// bucket's last main revision, the number of entries, the commit's size.
// Runs BoltFile::Check first, as etcdctl runs bbolt's.
struct EtcdStatus {
  uint32_t hash = 0;
  int64_t revision = 0;
  int64_t total_key = 0;
  int64_t total_size = 0;
};
absl::StatusOr<EtcdStatus> StatusOf(const BoltFile& f);

// etcd 3.4's backend.Hash (its Maintenance.Hash) over a bbolt file, as
// Backend::EtcdHash computes it over revkv's: CRC-32C over each top-level
// bucket's name then its entries' keys and values (a nested bucket's key
// alone), in bbolt's order, skipping the pairs `ignores` names and the
// buckets for which it names the empty key. With mvcc::IsEtcdHashIgnored, an
// etcd member's file (a snapshot's content) hashes to what that member's
// Maintenance.Hash answered. Checks pages as it reads (not BoltFile::Check).
absl::StatusOr<uint32_t> EtcdBackendHash(
    const BoltFile& f,
    const std::function<bool(std::string_view bucket, std::string_view key)>& ignores);

bool IsMissingHash(const absl::Status& s);
bool IsHashMismatch(const absl::Status& s);

}  // namespace revkv::interop::etcd

#endif  // REVKV_INTEROP_ETCD_ETCD_FILE_H_
