// HashByRev: etcd v3.4's HashKV, bit for bit.
//
// CRC-32C over the bucket name "key", then over the key and value of every
// record with main revision <= rev, in revision order; a record at or below
// the compacted revision counts only if it is in the index's keep set at rev
// (when that set is non-empty), so stores that compacted at different times
// hash alike.
#include "util/crc32c.h"
#include "mvcc/store.h"

namespace revkv::mvcc {

absl::StatusOr<HashResult> Store::HashByRev(int64_t rev) {
  HashResult result;
  // Compactions wait for the hash (as etcd's hashKV holds s.mu against
  // them), so the keep set and the compacted revision stay those of the
  // view; writers go on.
  util::MutexLock order(compact_order_mu_);
  int64_t current, compact;
  uint64_t gen;  // (reloads, too, wait for compact_order_mu_)
  absl::StatusOr<std::unique_ptr<backend::ConcurrentReadTx>> view =
      BeginRead(&current, &compact, &gen);
  if (!view.ok()) return view.status();
  if (rev > 0 && rev <= compact) return ErrCompacted();
  if (rev > 0 && rev > current) return ErrFutureRev();
  if (rev == 0) rev = current;
  RevisionSet keep = index_.Keep(rev);
  // Bounds by main revision, not as {rev + 1, 0}: rev may be INT64_MAX.
  uint32_t crc = util::Crc32c(kKeyBucket);
  const absl::Status kStop = absl::CancelledError("stop");
  absl::Status s = (*view)->UnsafeForEach(kKeyBucket, [&](std::string_view k, std::string_view v) {
    Revision r;
    bool tombstone;
    if (!ParseRevisionKey(k, &r, &tombstone)) {
      return absl::DataLossError("mvcc: malformed revision key in the key bucket");
    }
    if (r.main > rev) return kStop;  // keys ascend: nothing later counts
    if (r.main <= compact && !keep.empty() && !keep.contains(r)) return absl::OkStatus();
    crc = util::Crc32cExtend(crc, k);
    crc = util::Crc32cExtend(crc, v);
    return absl::OkStatus();
  });
  if (!s.ok() && s != kStop) return s;
  result.hash = crc;
  result.rev = current;
  result.compact_rev = compact;
  return result;
}

}  // namespace revkv::mvcc
