// Read and write transactions of the store (etcd's storeTxnRead/storeTxnWrite).
#include <algorithm>
#include <cstring>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_format.h"
#include "mvcc/store.h"

namespace revkv::mvcc {
namespace {

// A record is encoded here before the backend copies it: one buffer per
// thread, reused, instead of a string per write.
std::string& EncodeBuffer() {
  thread_local std::string buffer;
  return buffer;
}

absl::Status MissingRecord(Revision rev) {
  return absl::DataLossError(absl::StrFormat(
      "mvcc: the record of revision {%d, %d} is missing from the key bucket", rev.main, rev.sub));
}


// A read transaction over a backend snapshot.
class ViewTxnRead : public TxnRead {
 public:
  ViewTxnRead(Store* store, int64_t rev, int64_t first_rev, uint64_t gen,
              std::unique_ptr<backend::ConcurrentReadTx> view)
      : TxnRead(store, rev, first_rev, gen), view_(std::move(view)) {}

 private:
  absl::Status ReadRecord(Revision rev, KeyValue* out) override {
    // Decoded straight from the view: no copy of the record itself.
    char buf[kMarkedRevBytes];
    absl::StatusOr<std::string_view> record =
        view_->UnsafeGet(kKeyBucket, EncodeRevisionKey(rev, false, buf));
    if (absl::IsNotFound(record.status())) return MissingRecord(rev);
    if (!record.ok()) return record.status();
    return DecodeKeyValue(*record, out);
  }

  absl::Status ReadRecords(absl::Span<const Revision> revs, KeyValue* out) override {
    if (revs.size() < 2) return TxnRead::ReadRecords(revs, out);
    return ReadRecordsByRevision(*view_, revs, [&](size_t i, std::string_view record) {
      return DecodeKeyValue(record, &out[i]);
    });
  }

  backend::ConcurrentReadTx* view() override { return view_.get(); }

  std::unique_ptr<backend::ConcurrentReadTx> view_;
};

bool IsUnbounded(std::string_view end) { return end.size() == 1 && end[0] == '\0'; }

}  // namespace

TxnRead::TxnRead(Store* store, int64_t rev, int64_t first_rev, uint64_t gen)
    : store_(store), rev_(rev), first_rev_(first_rev), gen_(gen) {}
TxnRead::~TxnRead() = default;

absl::StatusOr<RangeResult> TxnRead::Range(std::string_view key, std::string_view end,
                                           const RangeOptions& opts) {
  return RangeAt(key, end, rev_, opts);
}

absl::StatusOr<RangeResult> TxnRead::RangeAt(std::string_view key, std::string_view end,
                                             int64_t cur_rev, const RangeOptions& opts) {
  int64_t rev = opts.rev;
  if (rev > cur_rev) return ErrFutureRev();
  if (rev <= 0) rev = cur_rev;
  if (rev < store_->compact_main_rev_.load(std::memory_order_acquire)) return ErrCompacted();

  RangeResult result;
  result.rev = cur_rev;
  const size_t limit = opts.count_only ? 0 : (opts.limit > 0 ? size_t(opts.limit) : SIZE_MAX);
  absl::InlinedVector<Revision, 1> revs;  // a point range allocates none
  std::string last;                       // the last key a limit let in
  if (end.empty() && limit > 0) {
    // The point cache's candidate holds when its record is this key's.
    Revision cached;
    if (store_->index_.CachedGet(key, rev, &cached)) {
      result.kvs.resize(1);
      if (ReadRecord(cached, &result.kvs[0]).ok() && result.kvs[0].key == key) {
        result.count = 1;
        if (absl::Status s = store_->CheckReadable(rev, gen_); !s.ok()) return s;
        return result;
      }
      result.kvs.clear();
    }
  }
  if (end.empty()) {
    KeyAt at;
    if (store_->index_.Get(key, rev, &at).ok()) {
      result.count = 1;
      if (limit > 0) revs.push_back(at.modified);
    }
  } else {
    if (IsUnbounded(end)) end = std::string_view();
    store_->index_.Range(key, end, rev, [&](std::string_view k, const KeyAt& at) {
      if (revs.size() < limit) {
        revs.push_back(at.modified);
        if (revs.size() == limit) last.assign(k);
      }
      result.count++;
      return true;
    });
  }
  result.kvs.resize(revs.size());
  // (A point read has one record; an unbounded range's end is empty now.)
  absl::Status read = revs.size() < 2 ? ReadRecords(revs, result.kvs.data())
                                      : ReadRangeRecords(key, end, last, revs, result.kvs.data());
  // A compaction past rev, or a failed commit, that came while the read ran
  // may have cut what it walked: its answer, or its error, is not to be
  // trusted then.
  if (absl::Status s = store_->CheckReadable(rev, gen_); !s.ok()) return s;
  if (!read.ok()) return read;
  return result;
}

absl::Status ReadRecordsByRevision(
    backend::ConcurrentReadTx& view, absl::Span<const Revision> revs,
    const std::function<absl::Status(size_t, std::string_view)>& fn) {
  std::vector<uint32_t> order(revs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = uint32_t(i);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return revs[a] < revs[b]; });
  std::string buf(revs.size() * kMarkedRevBytes, '\0');
  std::vector<std::string_view> keys(revs.size());
  for (size_t j = 0; j < order.size(); ++j) {
    keys[j] = EncodeRevisionKey(revs[order[j]], false, &buf[j * kMarkedRevBytes]);
  }
  std::vector<btree::Bucket::Found> found;
  if (absl::Status s = view.UnsafeGetSorted(kKeyBucket, keys, &found); !s.ok()) return s;
  for (size_t j = 0; j < order.size(); ++j) {
    if (!found[j].found) return MissingRecord(revs[order[j]]);
    if (absl::Status s = fn(order[j], found[j].value); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status TxnRead::ReadRangeRecords(std::string_view start, std::string_view end,
                                       std::string_view last, absl::Span<const Revision> revs,
                                       KeyValue* out) {
  // Below this many keys the revision path reads as few leaves.
  constexpr size_t kMinBaseRange = 16;
  backend::ConcurrentReadTx* v = view();
  const uint64_t gen = store_->base_gen_.load(std::memory_order_acquire);
  if (v == nullptr || gen == 0 || revs.size() < kMinBaseRange ||
      store_->base_off_.load(std::memory_order_relaxed) ||
      store_->base_damaged_.load(std::memory_order_acquire)) {
    return ReadRecords(revs, out);
  }
  std::vector<char> found;
  absl::StatusOr<size_t> n =
      ReadFromBase(*v, BaseBucketName(gen), start, end, last, revs, out, &found);
  if (!n.ok()) {
    // The base is damaged: the records answer, and the next round rebuilds it.
    if (IsClosed(n.status())) return n.status();
    // A reload since the read began swapped the file under the base's
    // bucket name: not damage.
    if (absl::Status s = store_->CheckReadable(rev_, gen_); !s.ok()) return s;
    store_->ReportBaseDamage(n.status());
    return ReadRecords(revs, out);
  }
  store_->base_served_.fetch_add(int64_t(*n), std::memory_order_relaxed);
  if (*n == revs.size()) return absl::OkStatus();
  std::vector<Revision> rest;
  std::vector<uint32_t> where;
  rest.reserve(revs.size() - *n);
  for (size_t i = 0; i < revs.size(); ++i) {
    if (!found[i]) {
      rest.push_back(revs[i]);
      where.push_back(uint32_t(i));
    }
  }
  std::vector<KeyValue> read(rest.size());
  if (absl::Status s = ReadRecords(rest, read.data()); !s.ok()) return s;
  for (size_t j = 0; j < rest.size(); ++j) out[where[j]] = std::move(read[j]);
  return absl::OkStatus();
}

absl::Status TxnRead::ReadRecords(absl::Span<const Revision> revs, KeyValue* out) {
  for (size_t i = 0; i < revs.size(); ++i) {
    if (absl::Status s = ReadRecord(revs[i], &out[i]); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<TxnRead>> Store::Read() {
  int64_t rev, first;
  uint64_t gen;
  absl::StatusOr<std::unique_ptr<backend::ConcurrentReadTx>> view = BeginRead(&rev, &first, &gen);
  if (!view.ok()) return view.status();
  return std::unique_ptr<TxnRead>(new ViewTxnRead(this, rev, first, gen, std::move(*view)));
}

absl::StatusOr<std::unique_ptr<backend::ConcurrentReadTx>> Store::BeginRead(int64_t* rev,
                                                                            int64_t* first,
                                                                            uint64_t* gen) {
  // No lock: readers would queue on it behind the writer. The compacted
  // revision is loaded before the current one, so *first <= *rev (both only
  // grow, and a compaction never passes the current revision). The writes
  // up to *rev were published before it was stored (TxnWrite::End), so the
  // view taken after holds them; it may hold later writes too, which a read
  // at *rev never asks for: records are read by revision, and the index
  // filters by revision. A compaction past *rev that comes later is caught
  // by each read's CheckReadable.
  if (closed_.load(std::memory_order_acquire)) return ErrClosed();
  if (absl::Status s = backend_->batch_tx().CommitError(); !s.ok()) return s;
  // The generation first (a sequence count's read side): a reload that
  // starts after this load is caught by CheckReadable.
  *gen = reload_gen_.load(std::memory_order_acquire);
  if (*gen & 1) {
    {
      util::MutexLock l(reload_mu_);
      while (reloading_) reload_cv_.Wait(reload_mu_);
    }
    *gen = reload_gen_.load(std::memory_order_acquire);
    if (*gen & 1) {  // the reload failed: so did the store
      util::AdaptiveMutexLock l(rev_mu_);
      return failed_;
    }
  }
  *first = compact_main_rev_.load(std::memory_order_acquire);
  *rev = current_rev_.load(std::memory_order_acquire);
  return NewView();
}

absl::Status Store::CheckReadable(int64_t rev, uint64_t gen) {
  if (reload_gen_.load(std::memory_order_acquire) != gen) return ErrRestored();
  if (absl::Status s = backend_->batch_tx().CommitError(); !s.ok()) return s;
  if (rev < compact_main_rev_.load(std::memory_order_acquire)) return ErrCompacted();
  return absl::OkStatus();
}

absl::StatusOr<RangeResult> Store::Range(std::string_view key, std::string_view end,
                                         const RangeOptions& opts) {
  // A read at the current revision that a compaction passes midway is
  // retried at the new current revision; the last try holds
  // compact_order_mu_, which keeps compactions and reloads out, so it cannot
  // be passed.
  constexpr int kOptimisticTries = 3;
  for (int attempt = 0;; ++attempt) {
    // A lock taken on one path only: std::unique_lock, which the analysis
    // does not check (it guards no member here).
    std::unique_lock<util::Mutex> order;
    if (attempt == kOptimisticTries) order = std::unique_lock<util::Mutex>(compact_order_mu_);
    int64_t rev, first;
    uint64_t gen;
    absl::StatusOr<std::unique_ptr<backend::ConcurrentReadTx>> view =
        BeginRead(&rev, &first, &gen);
    if (!view.ok()) return view.status();
    ViewTxnRead txn(this, rev, first, gen, std::move(*view));  // on the stack: Range is hot
    absl::StatusOr<RangeResult> r = txn.Range(key, end, opts);
    if (r.ok() || attempt == kOptimisticTries) return r;
    // A reload passed: any revision reads again from the new data (it
    // answers ErrCompacted itself if the new data compacted it).
    if (IsRestored(r.status())) continue;
    if (opts.rev != 0 || !IsCompacted(r.status())) return r;
  }
}

TxnWrite::TxnWrite(Store* store, std::unique_lock<util::Mutex> write_lock, int64_t rev,
                   int64_t first_rev, bool keep_records)
    // (A reload waits for write_mu_: the generation cannot move under it.)
    : TxnRead(store, rev, first_rev, store->reload_gen_.load(std::memory_order_acquire)),
      write_lock_(std::move(write_lock)),
      tx_(&store->backend_->batch_tx()),
      keep_records_(keep_records),
      record_changes_(store->watched_.load(std::memory_order_seq_cst)) {
  tx_->Lock();
}

TxnWrite::~TxnWrite() { End().IgnoreError(); }

absl::Status TxnWrite::ReadRecord(Revision rev, KeyValue* out) {
  if (rev.main == rev_ + 1) {
    if (!keep_records_ || rev.sub < 0 || rev.sub >= int64_t(own_records_.size()) ||
        own_records_[size_t(rev.sub)].empty()) {
      return MissingRecord(rev);
    }
    return DecodeKeyValue(own_records_[size_t(rev.sub)], out);
  }
  if (before_ == nullptr) {
    absl::StatusOr<std::unique_ptr<backend::ConcurrentReadTx>> view = store_->NewView();
    if (!view.ok()) return view.status();
    before_ = std::move(*view);
  }
  char buf[kMarkedRevBytes];
  absl::StatusOr<std::string_view> record =
      before_->UnsafeGet(kKeyBucket, EncodeRevisionKey(rev, false, buf));
  if (absl::IsNotFound(record.status())) return MissingRecord(rev);
  if (!record.ok()) return record.status();
  return DecodeKeyValue(*record, out);
}

absl::StatusOr<RangeResult> TxnWrite::Range(std::string_view key, std::string_view end,
                                            const RangeOptions& opts) {
  return RangeAt(key, end, Rev(), opts);
}

absl::Status TxnWrite::CheckLease(int64_t lease) {
  if (ended_) return absl::FailedPreconditionError("mvcc: transaction has ended");
  store_->write_mu_.AssumeHeld();  // by write_lock_, for the transaction's life
  LeaseHook* const hook = store_->lease_hook_;
  return hook == nullptr ? absl::OkStatus() : hook->CheckPut(lease);
}

absl::StatusOr<int64_t> TxnWrite::Put(std::string_view key, std::string_view value,
                                      int64_t lease) {
  if (ended_) return absl::FailedPreconditionError("mvcc: transaction has ended");
  if (key.empty()) return absl::InvalidArgumentError(kEmptyKeyMessage);
  if (rev_ == INT64_MAX) return ErrRevisionExhausted();
  store_->write_mu_.AssumeHeld();  // by write_lock_, for the transaction's life
  LeaseHook* const hook = store_->lease_hook_;
  if (hook != nullptr) {
    if (absl::Status s = hook->CheckPut(lease); !s.ok()) return s;
  }
  const int64_t rev = rev_ + 1;
  // The hints overlap the watchers' cache misses with the index's.
  if (record_changes_ && store_->observer_ != nullptr) store_->observer_->WillWrite(key);
  KeyValueView kv{key, rev, rev, 0, value, lease};
  const Revision idx{rev, changes_};
  Index::PendingPut pending = store_->index_.BeginPut(key, idx);
  if (pending.live) kv.create_revision = pending.prev.created.main;
  kv.version = (pending.live ? pending.prev.version : 0) + 1;
  char key_buf[kMarkedRevBytes];
  std::string& record = EncodeBuffer();
  record.clear();
  EncodeKeyValue(kv, &record);
  if (absl::Status s =
          tx_->UnsafePut(kKeyBucket, EncodeRevisionKey(idx, false, key_buf), record);
      !s.ok()) {
    // A refused key or value changed nothing; any other error may have.
    if (!absl::IsInvalidArgument(s)) store_->Fail(s);
    return s;
  }
  store_->index_.FinishPut(key, idx, pending);
  if (record_changes_ && store_->observer_ != nullptr) store_->observer_->Wrote(key);
  if (hook != nullptr) hook->OnPut(key, lease);
  if (keep_records_) own_records_.push_back(record);
  if (record_changes_) {
    Event& e = changes_for_watch_.emplace_back();
    e.kv = KeyValue{std::string(key), kv.create_revision, rev, kv.version, std::string(value), lease};
  }
  changes_++;
  return rev;
}

absl::Status TxnWrite::Delete(std::string_view key) {
  if (rev_ == INT64_MAX) return ErrRevisionExhausted();
  store_->write_mu_.AssumeHeld();  // by write_lock_
  if (record_changes_ && store_->observer_ != nullptr) store_->observer_->WillWrite(key);
  const Revision idx{rev_ + 1, changes_};
  KeyValueView kv;
  kv.key = key;
  char key_buf[kMarkedRevBytes];
  std::string& record = EncodeBuffer();
  record.clear();
  EncodeKeyValue(kv, &record);
  absl::Status s =
      tx_->UnsafePut(kKeyBucket, EncodeRevisionKey(idx, true, key_buf), record);
  if (!s.ok()) {
    if (!absl::IsInvalidArgument(s)) store_->Fail(s);
    return s;
  }
  if (s = store_->index_.Tombstone(key, idx); !s.ok()) {
    // The record is written: index and backend would disagree.
    store_->Fail(s);
    return s;
  }
  if (record_changes_ && store_->observer_ != nullptr) store_->observer_->Wrote(key);
  if (store_->lease_hook_ != nullptr) store_->lease_hook_->OnDelete(key);
  if (keep_records_) own_records_.emplace_back();
  if (record_changes_) {
    Event& e = changes_for_watch_.emplace_back();
    e.type = Event::Type::kDelete;
    e.kv.key = std::string(key);
    e.kv.mod_revision = idx.main;
  }
  changes_++;
  return absl::OkStatus();
}

absl::StatusOr<int64_t> TxnWrite::DeleteRange(std::string_view key, std::string_view end) {
  if (ended_) return absl::FailedPreconditionError("mvcc: transaction has ended");
  if (key.empty() && end.empty()) return absl::InvalidArgumentError(kEmptyKeyMessage);
  const int64_t rrev = Rev();
  std::vector<std::string> keys;
  if (end.empty()) {
    KeyAt at;
    if (store_->index_.Get(key, rrev, &at).ok()) keys.emplace_back(key);
  } else {
    if (IsUnbounded(end)) end = std::string_view();
    store_->index_.Range(key, end, rrev, [&](std::string_view k, const KeyAt&) {
      keys.emplace_back(k);
      return true;
    });
  }
  for (const std::string& k : keys) {
    if (absl::Status s = Delete(k); !s.ok()) return s;
  }
  return int64_t(keys.size());
}

absl::Status TxnWrite::End() {
  if (ended_) return absl::OkStatus();
  ended_ = true;
  const bool changed = changes_ > 0;
  if (changed) {
    // Saved at commit (store.h), with these writes. tx_ is locked.
    int64_t& ci = store_->consistent_index_;
    ci = store_->apply_index_ > 0 ? std::max(ci, store_->apply_index_) : ci + 1;
  }
  store_->write_mu_.AssumeHeld();  // by write_lock_, for the transaction's life
  store_->records_since_checkpoint_ += changes_;
  {
    // Publish the writes, then their revision (see Store::BeginRead).
    util::AdaptiveMutexLock l(store_->rev_mu_);
    tx_->UnsafePublish();
    if (changed) store_->current_rev_.fetch_add(1, std::memory_order_release);
  }
  // A commit that Unlock makes (its fsync) runs outside rev_mu_: readers
  // taking a revision never wait for it.
  tx_->Unlock();
  before_.reset();
  // Still under write_mu_, so observers hear of revisions in order. Loaded
  // after the revision was stored under rev_mu_ (see Store::watched_).
  if (changed && store_->observer_ != nullptr &&
      (record_changes_ || store_->watched_.load(std::memory_order_seq_cst))) {
    store_->observer_->OnPublished(rev_ + 1, record_changes_ ? &changes_for_watch_ : nullptr);
  }
  write_lock_.unlock();
  return absl::OkStatus();
}

}  // namespace revkv::mvcc
