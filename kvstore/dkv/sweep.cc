#include "kvstore/dkv/sweep.h"

#include "kvstore/dkv/entry.h"

namespace revkv::kvstore::dkv {

absl::StatusOr<int64_t> DeleteDue(mvcc::TxnWrite* txn, absl::Span<const std::string> store_keys,
                                  Millis now) {
  int64_t deleted = 0;
  for (const std::string& k : store_keys) {
    absl::StatusOr<mvcc::RangeResult> cur = txn->Range(k, "", {});
    if (!cur.ok()) return cur.status();
    if (cur->kvs.empty()) continue;  // deleted meanwhile
    absl::StatusOr<Entry> e = DecodeEntry(cur->kvs[0].value);
    // Rewritten since it was queued (a later or no delete time): not due.
    if (!e.ok() || !e->Deleted(now)) continue;
    absl::StatusOr<int64_t> n = txn->DeleteRange(k, "");
    if (!n.ok()) return n.status();
    deleted += *n;
  }
  return deleted;
}

}  // namespace revkv::kvstore::dkv
