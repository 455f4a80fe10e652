// TxnState: a write transaction's view of the store while the CLI works the
// transaction out before writing any of it -- the store as of the revision
// the transaction starts from, with the transaction's own puts and deletes
// so far laid over it.
//
// Txn runs every op of a transaction against a TxnState first (each
// response, each check), and writes to the store only once all of them
// succeeded, because mvcc's TxnWrite cannot take a write back: a transaction
// that fails then leaves the store as it was. Reading through a TxnState
// also keeps a read that follows writes of the same transaction at the cost
// of a read: through the TxnWrite it would pass over every write buffered
// so far.
//
// Keys, their liveness, create revisions and versions come from the store's
// index at the start revision; record values from a read transaction at it.
//
// Thread-safety: one thread. The store must not change while a TxnState is
// in use (its caller holds the store's write transaction and has not
// written yet).
#ifndef REVKV_ETCDKV_TXN_STATE_H_
#define REVKV_ETCDKV_TXN_STATE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "mvcc/store.h"

namespace revkv::etcdkv {

// The bytes of `kv`'s protobuf record (what mvcc stores as the backend's
// value), computed without encoding it.
uint64_t EncodedRecordSize(const mvcc::KeyValueView& kv);

class TxnState {
 public:
  // `base` reads the store at the revision the transaction starts from.
  TxnState(mvcc::Store* store, mvcc::TxnRead* base);

  // As TxnRead::Range inside the transaction: revision 0 (or the
  // transaction's own new one) sees its writes so far; an older revision
  // reads the store's history.
  absl::StatusOr<mvcc::RangeResult> Range(std::string_view key, std::string_view end,
                                          const mvcc::RangeOptions& opts);
  // The key's record as the transaction sees it now, if it is live.
  absl::StatusOr<std::optional<mvcc::KeyValue>> Get(std::string_view key);

  // Records a put; returns the record it writes (its create revision and
  // version follow the key's live record, if any). `value` must outlive the
  // TxnState. `lease` is the record's lease (0: none).
  mvcc::KeyValueView Put(std::string_view key, std::string_view value, int64_t lease = 0);
  // Records the deletion of every live key in [key, end) (end as in Range);
  // returns how many.
  int64_t Delete(std::string_view key, std::string_view end);

  // The revision as seen inside the transaction: the start revision until
  // it changes something, one more from then on.
  int64_t Rev() const { return changed_ ? NextRev() : base_rev_; }
  bool changed() const { return changed_; }

 private:
  // A key this transaction wrote.
  struct Entry {
    bool in_base = false;  // live at the start revision
    bool live = false;
    int64_t create_revision = 0;
    int64_t version = 0;
    int64_t lease = 0;
    std::string_view value;
  };
  using Entries = std::map<std::string, Entry, std::less<>>;
  struct Span {
    Entries::iterator first, last;
  };

  // The revision this transaction's writes get. At the largest revision
  // there is none: Execution::Commit refuses a write then, and until it does
  // the plan carries INT64_MAX rather than overflow (undefined behaviour).
  int64_t NextRev() const { return base_rev_ == INT64_MAX ? INT64_MAX : base_rev_ + 1; }

  // The entries with keys in [key, end) (end as in Range).
  Span Find(std::string_view key, std::string_view end);
  mvcc::KeyValue Record(const std::string& key, const Entry& e) const;
  // The key's entry, or one made from the index at the start revision.
  Entry Current(std::string_view key) const;

  mvcc::Store* store_;
  mvcc::TxnRead* base_;
  int64_t base_rev_;
  bool changed_ = false;
  Entries entries_;
};

}  // namespace revkv::etcdkv

#endif  // REVKV_ETCDKV_TXN_STATE_H_
