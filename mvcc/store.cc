// Store: open/restore, one-operation transactions, close.
#include "mvcc/store.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_format.h"
#include "mvcc/open_revisions.h"

namespace revkv::mvcc {

absl::StatusOr<int64_t> ReadMetaRevision(backend::BatchTx* tx, std::string_view name) {
  absl::StatusOr<backend::KeyValues> kvs = tx->UnsafeRange(kMetaBucket, name, "", 0);
  if (!kvs.ok()) return kvs.status();
  if (kvs->size() == 0) return int64_t{-1};  // absent (0 is a valid revision)
  Revision rev;
  bool tombstone;
  if (!ParseRevisionKey(kvs->values[0], &rev, &tombstone)) {
    return absl::DataLossError(absl::StrFormat("mvcc: meta key %s is malformed", name));
  }
  return rev.main;
}

Store::Store(backend::Backend* b, const StoreOptions& options) : backend_(b), options_(options) {}

Store::~Store() { Close().IgnoreError(); }

absl::StatusOr<std::unique_ptr<Store>> Store::Open(backend::Backend* b,
                                                   const StoreOptions& options) {
  auto store = std::unique_ptr<Store>(new Store(b, options));
  int64_t scheduled = -1;
  if (absl::Status s = store->Restore(&scheduled); !s.ok()) return s;
  if (b->config().read_only) {
    // Nothing may be written: the compaction a crash interrupted is applied
    // to the index only, so reads below it are refused as a resumed one
    // would refuse them, and its records stay until a writer opens.
    if (scheduled >= 0) {
      store->index_.Compact(scheduled);
      store->compact_main_rev_ = scheduled;
    }
    store->opened_ = true;
    return store;
  }
  {
    backend::BatchTx& tx = b->batch_tx();
    tx.Lock();
    tx.UnsafeSetPreCommitHook(
        [s = store.get()](backend::BatchTx& tx) { return s->SaveConsistentIndex(tx); });
    tx.Unlock();
  }
  store->compactor_ = std::thread([s = store.get()] { s->CompactionLoop(); });
  if (!store->base_off_.load()) {
    store->base_builder_ = std::thread([s = store.get()] { s->BaseLoop(); });
  }
  if (scheduled >= 0) {
    // Resume the compaction a crash interrupted.
    if (absl::Status s = store->Compact(scheduled); !s.ok()) return s;
  }
  store->opened_ = true;
  return store;
}

// Rebuilds the index from the key bucket (etcd's restore).
absl::Status Store::Restore(int64_t* scheduled) {
  // Nothing runs concurrently at open; held for the checkpoint's state.
  util::MutexLock w(write_mu_);
  return RestoreLocked(scheduled);
}

absl::Status Store::RestoreLocked(int64_t* scheduled) {
  backend::BatchTx* tx = &backend_->batch_tx();
  tx->Lock();
  struct Unlocker {
    backend::BatchTx* tx;
    ~Unlocker() { tx->Unlock(); }
  } unlock{tx};
  if (!backend_->config().read_only) {
    // (A read-only open reads absent buckets as empty ones.)
    if (absl::Status s = tx->UnsafeCreateBucket(kKeyBucket); !s.ok()) return s;
    if (absl::Status s = tx->UnsafeCreateBucket(kMetaBucket); !s.ok()) return s;
  }

  absl::StatusOr<int64_t> finished = ReadMetaRevision(tx, kFinishedCompactKey);
  if (!finished.ok()) return finished.status();
  absl::StatusOr<int64_t> sched = ReadMetaRevision(tx, kScheduledCompactKey);
  if (!sched.ok()) return sched.status();
  absl::StatusOr<backend::KeyValues> ci = tx->UnsafeRange(kMetaBucket, kConsistentIndexKey, "", 0);
  if (!ci.ok()) return ci.status();
  if (ci->size() == 1 && ci->values[0].size() == 8) {
    uint64_t v = 0;
    for (char c : ci->values[0]) v = (v << 8) | uint8_t(c);
    consistent_index_ = saved_consistent_index_ = int64_t(v);
  }
  int64_t compact = *finished;
  if (absl::Status s = LoadBaseMeta(tx); !s.ok()) return s;

  // One pass over the key bucket through views, decoding only the header
  // fields of each record (no copies). Records go to the index in chunks
  // sorted by key, which is much faster than one random insert each and
  // bounds the extra memory.
  constexpr size_t kChunk = size_t{1} << 20;
  int64_t current = 1;
  absl::StatusOr<std::unique_ptr<backend::ConcurrentReadTx>> view = NewView();
  if (!view.ok()) return view.status();
  if (options_.checkpoint_index && LoadCheckpoint(**view, *finished, *sched)) {
    *scheduled = *sched > compact_main_rev_ ? *sched : -1;
    return absl::OkStatus();
  }
  std::vector<Index::Record> records;
  records.reserve(kChunk);
  absl::Status scan = (*view)->UnsafeForEach(kKeyBucket, [&](std::string_view k,
                                                            std::string_view v) {
    Index::Record r;
    if (!ParseRevisionKey(k, &r.rev, &r.tombstone)) {
      return absl::DataLossError("mvcc: malformed revision key in the key bucket");
    }
    if (absl::Status s = DecodeKeyValueHeader(v, &r.key, &r.create_revision, &r.version);
        !s.ok()) {
      return s;
    }
    current = r.rev.main;
    records.push_back(r);
    if (records.size() == kChunk) {
      index_.RestoreRecords(&records);
      records.clear();
    }
    return absl::OkStatus();
  });
  if (scan.ok()) index_.RestoreRecords(&records);
  if (!scan.ok()) return scan;
  // Compaction may have removed every record up to the compacted revision,
  // or the scheduled one: the revision never goes backwards. (The compacted
  // revision stays the finished one here; Open resumes the scheduled one.)
  current_rev_ = DeriveOpenRevisions(current, compact, *sched).current;
  compact_main_rev_ = compact;
  *scheduled = *sched > compact ? *sched : -1;
  return absl::OkStatus();
}

absl::Status Store::Reload(const std::function<absl::Status()>& replace,
                           const std::function<absl::Status()>& reloaded) {
  int64_t scheduled = -1;
  {
    // Compactions, writers and base rounds, in the table's order.
    util::MutexLock order(compact_order_mu_);
    util::MutexLock w(write_mu_);
    util::MutexLock round(base_mu_);
    {
      util::AdaptiveMutexLock l(rev_mu_);
      if (closed_) return ErrClosed();
      if (!failed_.ok()) return failed_;
    }
    if (backend_->config().read_only) return backend::ErrReadOnly(backend_->config().path);
    {
      // The old data's queued deletes go; a batch deleting now ends first.
      util::MutexLock l(compact_mu_);
      compact_queue_.clear();
      while (compacting_) compact_cv_.Wait(compact_mu_);
    }
    {
      util::MutexLock l(reload_mu_);
      reloading_ = true;
    }
    // Odd from here to the end of the swap: reads that begin wait, reads
    // under way fail their CheckReadable.
    reload_gen_.fetch_add(1, std::memory_order_acq_rel);
    absl::Status s = replace();
    // A failed replace() changed nothing. A failed rebuild fails the store,
    // and the generation stays odd so that no read trusts the index.
    bool broken = false;
    if (s.ok()) {
      s = Rebuild(&scheduled);
      if (!s.ok()) Fail(s);
      broken = !s.ok();
    }
    if (!broken) reload_gen_.fetch_add(1, std::memory_order_acq_rel);
    {
      util::MutexLock l(reload_mu_);
      reloading_ = false;
    }
    reload_cv_.NotifyAll();
    if (!s.ok()) return s;
    if (absl::Status r = reloaded(); !r.ok()) {
      Fail(r);
      return r;
    }
    if (observer_ != nullptr) observer_->OnReloaded(current_rev_.load(std::memory_order_acquire));
  }
  // Resume the compaction the new data had scheduled, as Open does.
  if (scheduled >= 0) return Compact(scheduled);
  return absl::OkStatus();
}

absl::Status Store::Rebuild(int64_t* scheduled) {
  index_.Clear();
  {
    backend::BatchTx& tx = backend_->batch_tx();
    tx.Lock();
    consistent_index_ = saved_consistent_index_ = apply_index_ = 0;
    tx.Unlock();
  }
  checkpoint_ = CheckpointId{};
  records_since_checkpoint_ = 0;
  compact_main_rev_.store(-1, std::memory_order_release);
  base_gen_.store(0, std::memory_order_release);
  base_rev_.store(0, std::memory_order_release);
  base_damaged_.store(false, std::memory_order_release);
  base_off_.store(false, std::memory_order_release);
  {
    util::MutexLock l(base_stats_mu_);
    base_stats_ = KeyOrderBaseInfo{};
  }
  return RestoreLocked(scheduled);
}

absl::StatusOr<std::unique_ptr<backend::ConcurrentReadTx>> Store::NewView() {
  return backend_->NewConcurrentReadTx();
}

int64_t Store::ConsistentIndex() {
  backend::BatchTx& tx = backend_->batch_tx();
  tx.Lock();
  const int64_t v = consistent_index_;
  tx.Unlock();
  return v;
}

int64_t Store::SavedConsistentIndex() {
  backend::BatchTx& tx = backend_->batch_tx();
  tx.Lock();
  const int64_t v = saved_consistent_index_;
  tx.Unlock();
  return v;
}

void Store::RaiseConsistentIndex(int64_t index) {
  backend::BatchTx& tx = backend_->batch_tx();
  tx.Lock();
  consistent_index_ = std::max(consistent_index_, index);
  tx.Unlock();
}

void Store::SetApplyIndex(int64_t index) {
  backend::BatchTx& tx = backend_->batch_tx();
  tx.Lock();
  apply_index_ = index;
  tx.Unlock();
}

absl::Status Store::SaveConsistentIndex(backend::BatchTx& tx) {
  if (consistent_index_ == saved_consistent_index_) return absl::OkStatus();
  char buf[8];
  for (int i = 0; i < 8; ++i) buf[i] = char(uint64_t(consistent_index_) >> (56 - 8 * i));
  if (absl::Status s = tx.UnsafePut(kMetaBucket, kConsistentIndexKey, std::string_view(buf, 8));
      !s.ok()) {
    return s;
  }
  saved_consistent_index_ = consistent_index_;
  return absl::OkStatus();
}

absl::Status Store::BeginWrite(std::unique_lock<util::Mutex>* w, int64_t* rev, int64_t* first) {
  *w = std::unique_lock<util::Mutex>(write_mu_);
  if (absl::Status s = backend_->batch_tx().CommitError(); !s.ok()) Fail(s);
  util::AdaptiveMutexLock l(rev_mu_);
  if (closed_) return ErrClosed();
  if (!failed_.ok()) return failed_;
  if (backend_->config().read_only) return backend::ErrReadOnly(backend_->config().path);
  *rev = current_rev_;
  *first = compact_main_rev_;
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<TxnWrite>> Store::Write() {
  std::unique_lock<util::Mutex> w;
  int64_t rev, first;
  if (absl::Status s = BeginWrite(&w, &rev, &first); !s.ok()) return s;
  return std::unique_ptr<TxnWrite>(new TxnWrite(this, std::move(w), rev, first));
}

void Store::Fail(const absl::Status& s) {
  util::AdaptiveMutexLock l(rev_mu_);
  if (failed_.ok()) failed_ = s;
}

absl::StatusOr<int64_t> Store::Put(std::string_view key, std::string_view value, int64_t lease) {
  std::unique_lock<util::Mutex> w;
  int64_t cur, first;
  if (absl::Status s = BeginWrite(&w, &cur, &first); !s.ok()) return s;
  // On the stack, keeping no records (it reads none): Put is hot.
  TxnWrite txn(this, std::move(w), cur, first, /*keep_records=*/false);
  absl::StatusOr<int64_t> rev = txn.Put(key, value, lease);
  absl::Status s = txn.End();
  if (!rev.ok()) return rev.status();
  if (!s.ok()) return s;
  return rev;
}

absl::StatusOr<std::pair<int64_t, int64_t>> Store::DeleteRange(std::string_view key,
                                                               std::string_view end) {
  absl::StatusOr<std::unique_ptr<TxnWrite>> txn = Write();
  if (!txn.ok()) return txn.status();
  absl::StatusOr<int64_t> n = (*txn)->DeleteRange(key, end);
  int64_t rev = (*txn)->Rev();
  absl::Status s = (*txn)->End();
  if (!n.ok()) return n.status();
  if (!s.ok()) return s;
  return std::make_pair(*n, rev);
}

int64_t Store::Rev() {
  util::AdaptiveMutexLock l(rev_mu_);
  return current_rev_;
}

int64_t Store::CompactRev() {
  util::AdaptiveMutexLock l(rev_mu_);
  return compact_main_rev_;
}

void Store::SetObserver(WriteObserver* observer) {
  util::MutexLock w(write_mu_);
  observer_ = observer;
}

void Store::SetLeaseHook(LeaseHook* hook) {
  util::MutexLock w(write_mu_);
  lease_hook_ = hook;
}

absl::Status Store::ReadEvents(int64_t from, int64_t to, std::vector<Event>* out) {
  if (from > to) return absl::OkStatus();
  int64_t rev, first;
  uint64_t gen;
  absl::StatusOr<std::unique_ptr<backend::ConcurrentReadTx>> view = BeginRead(&rev, &first, &gen);
  if (!view.ok()) return view.status();
  if (from <= first) return ErrCompacted();
  if (to > rev) return ErrFutureRev();
  absl::StatusOr<backend::KeyValues> kvs = (*view)->UnsafeRange(
      kKeyBucket, RevisionKey({from, 0}), RevisionKey({to + 1, 0}), 0);
  if (!kvs.ok()) return kvs.status();
  // A compaction past `from` that came meanwhile may have cut the range.
  if (absl::Status s = CheckReadable(from, gen); !s.ok()) return s;
  if (from <= compact_main_rev_.load(std::memory_order_acquire)) return ErrCompacted();
  out->reserve(out->size() + kvs->size());
  for (size_t i = 0; i < kvs->size(); ++i) {
    Revision r;
    bool tombstone;
    if (!ParseRevisionKey(kvs->keys[i], &r, &tombstone)) {
      return absl::DataLossError("mvcc: malformed revision key in the key bucket");
    }
    Event& e = out->emplace_back();
    if (absl::Status s = DecodeKeyValue(kvs->values[i], &e.kv); !s.ok()) return s;
    if (tombstone) {
      e.type = Event::Type::kDelete;
      e.kv.mod_revision = r.main;
    }
  }
  return absl::OkStatus();
}

absl::Status Store::Close() {
  bool healthy;
  {
    util::AdaptiveMutexLock l(rev_mu_);
    if (closed_) return absl::OkStatus();
    closed_ = true;
    healthy = failed_.ok();
  }
  WriteObserver* observer;
  {
    util::MutexLock w(write_mu_);  // no write transaction is open
    observer = observer_;
    observer_ = nullptr;
  }
  if (observer != nullptr) observer->OnStoreClose();
  {
    util::MutexLock l(compact_mu_);
    stop_ = true;
  }
  compact_cv_.NotifyAll();
  if (compactor_.joinable()) compactor_.join();
  if (base_builder_.joinable()) base_builder_.join();
  util::MutexLock w(write_mu_);  // no write transaction is open
  if (backend_->config().read_only) return absl::OkStatus();  // writes nothing
  absl::Status s;
  // A store whose open failed has a partial index: never checkpoint that.
  if (healthy && opened_ && options_.checkpoint_index) s = WriteCheckpoint();
  // The backend outlives the store: hand it the last consistent index, then
  // take the hook back.
  backend::BatchTx& tx = backend_->batch_tx();
  tx.Lock();
  if (absl::Status save = SaveConsistentIndex(tx); s.ok() && healthy) s = save;
  tx.UnsafeSetPreCommitHook(nullptr);
  tx.Unlock();
  return s;
}

}  // namespace revkv::mvcc
