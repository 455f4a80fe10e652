// The key-ordered base (docs/ranges.md, option B): a copy of each live key's
// latest record, in key order, so that a range of N consecutive keys reads
// about N/fill consecutive leaves instead of N leaves scattered over the key
// bucket.
//
// It is derived data. The key bucket's records stay the truth, and nothing
// in the base can make a read wrong: a range uses a base entry only when the
// record's revision is exactly the one the index gives for that key at the
// range's revision (a revision names one record), and reads every other key
// by revision as before. A stale base costs speed, never correctness; a
// damaged one (a page that fails its checksum, an entry that does not decode
// to its key and revision) is reported and rebuilt from the records.
//
// Layout: generation G lives in bucket "kvbase.G". The meta bucket's key
// kBaseMetaKey names the current generation and the revision of the last
// round. A rebuild round (Store::RebuildKeyOrderBase) walks the index in
// chunks of keys and merges each into G in place: entries still the
// index's stay untouched, stale ones are rewritten from the records, and
// those of deleted keys go. Each chunk reads through a view of its own, so
// the pages its writes free are reused at once (a round never holds two
// copies of the base). Only when there is no base, or it is damaged, does a
// round write a new generation G+1 from the records alone; a partial G+1 a
// crash leaves is dropped by the next round.
//
// The base is left out of everything that must match etcd or another
// member holding the same records: HashKV reads the key bucket only; the
// backend hash of Maintenance.Hash (mvcc/etcd_hash.h) and `snapshot status`
// skip IsBaseData; the etcd export copies etcd's buckets and meta keys only.
#ifndef REVKV_MVCC_KEY_ORDER_BASE_H_
#define REVKV_MVCC_KEY_ORDER_BASE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "backend/read_tx.h"
#include "mvcc/key_value.h"
#include "mvcc/revision.h"

namespace revkv::mvcc {

inline constexpr std::string_view kBaseBucketPrefix = "kvbase.";
inline constexpr std::string_view kBaseMetaKey = "revkvKeyOrderBase";

// "kvbase.<gen>" (gen >= 1).
std::string BaseBucketName(uint64_t gen);
// Whether `bucket` is a generation of the base.
bool IsBaseBucket(std::string_view bucket);
// Whether (bucket, key) belongs to the base (its buckets, its meta key):
// what a hash over the backend leaves out, since members holding the same
// records may hold different bases. True for a base bucket with any key,
// the empty one included (Backend::Hash's way of naming a whole bucket).
bool IsBaseData(std::string_view bucket, std::string_view key);

// The meta key's value: the generation and the revision it was built at.
struct BaseMeta {
  uint64_t gen = 0;  // 0: no base
  int64_t rev = 0;
};
std::string EncodeBaseMeta(const BaseMeta& meta);
// DataLoss when `value` is not 16 bytes.
absl::StatusOr<BaseMeta> DecodeBaseMeta(std::string_view value);

// An entry's value: the record's revision key (kRevBytes) then the record's
// bytes as the key bucket holds them.
void AppendBaseEntry(Revision rev, std::string_view record, std::string* out);
// DataLoss when `value` is too short or its revision malformed.
absl::Status DecodeBaseEntry(std::string_view value, Revision* rev, std::string_view* record);

// Reads from the base bucket `bucket` of `view` the records of a range's
// keys. revs[i] is the revision the index gives for the range's i-th key, in
// key order; the keys lie in [start, end) (end empty: unbounded), and the
// last one, if the range was cut by a limit, is `last` (else empty). For
// each i whose record the base holds, decodes it into out[i] and sets
// (*found)[i]; returns how many it found. DataLoss when an entry is damaged
// (the caller then reads every key by revision). The scan stops as soon as
// every revision is found or the keys are passed.
absl::StatusOr<size_t> ReadFromBase(backend::ConcurrentReadTx& view, std::string_view bucket,
                                    std::string_view start, std::string_view end,
                                    std::string_view last, absl::Span<const Revision> revs,
                                    KeyValue* out, std::vector<char>* found);

// What a store knows of its base (Store::key_order_base).
struct KeyOrderBaseInfo {
  uint64_t gen = 0;         // 0: no base yet
  int64_t rev = 0;          // the revision it was built at
  int64_t rounds = 0;       // rounds finished since open
  int64_t aborted = 0;      // rounds given up (writes came, a compaction passed, a stop)
  int64_t repairs = 0;      // rounds that rebuilt a damaged base from the records
  int64_t entries_served = 0;  // range records read from the base since open
  // The last damage found in the base (OK: none since open).
  absl::Status damage;
  // Damaged generations left in the file: dropping a bucket reads its pages,
  // and a page that fails its checksum would fail the commit.
  std::vector<uint64_t> abandoned;
};

}  // namespace revkv::mvcc

#endif  // REVKV_MVCC_KEY_ORDER_BASE_H_
