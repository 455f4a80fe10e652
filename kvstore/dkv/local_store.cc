// LocalStore: dKV's operations as mvcc transactions, and the sweeper.
#include "kvstore/dkv/local_store.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "kvstore/dkv/sweep.h"
#include "kvstore/prefix.h"

namespace revkv::kvstore::dkv {
namespace {

absl::Status ErrClosed() { return absl::FailedPreconditionError("dkv: store is closed"); }

absl::Status CheckDuration(Millis d, const char* name) {
  if (d.count() < 0) return absl::InvalidArgumentError(absl::StrCat("dkv: negative ", name));
  return absl::OkStatus();
}

// Pages through a prefix within one read transaction.
constexpr int64_t kScanPage = 1000;

}  // namespace

LocalStore::LocalStore(DB db, LocalStoreOptions options)
    : db_(std::move(db)),
      store_(db_.store),
      clock_(options.clock != nullptr ? options.clock : SystemClock()),
      prefix_(options.prefix),
      options_(std::move(options)) {}

LocalStore::~LocalStore() { Close(); }

absl::StatusOr<std::unique_ptr<LocalStore>> LocalStore::Open(const DBFactory& factory,
                                                             LocalStoreOptions options) {
  if (!factory) return absl::InvalidArgumentError("dkv: no DBFactory");
  absl::StatusOr<DB> db = factory();
  if (!db.ok()) return db.status();
  if (db->store == nullptr) return absl::InvalidArgumentError("dkv: DBFactory gave no store");
  if (options.sweep_batch <= 0) options.sweep_batch = 1;
  auto store = std::unique_ptr<LocalStore>(new LocalStore(std::move(*db), std::move(options)));
  if (absl::Status s = store->Restore(); !s.ok()) return s;
  if (store->options_.background_sweeper) {
    LocalStore* self = store.get();
    store->observer_ = store->clock_->AddObserver([self] {
      {
        std::lock_guard l(self->mu_);
        self->kicked_ = true;
      }
      self->cv_.notify_all();
    });
    store->sweeper_ = std::thread([self] { self->SweeperLoop(); });
  }
  return store;
}

absl::StatusOr<std::unique_ptr<IStore>> NewLocalStore(const DBFactory& factory,
                                                      LocalStoreOptions options) {
  absl::StatusOr<std::unique_ptr<LocalStore>> s = LocalStore::Open(factory, std::move(options));
  if (!s.ok()) return s.status();
  return std::unique_ptr<IStore>(std::move(*s));
}

// Rebuilds the delete queue from the entries under the prefix. Values that
// are not entries are left alone (Get reports them).
absl::Status LocalStore::Restore() {
  absl::StatusOr<std::unique_ptr<mvcc::TxnRead>> txn = store_->Read();
  if (!txn.ok()) return txn.status();
  const std::string end = PrefixEnd(prefix_);
  std::string from = prefix_;
  std::lock_guard l(mu_);
  while (true) {
    absl::StatusOr<mvcc::RangeResult> r = (*txn)->Range(from, end, {kScanPage, 0, false});
    if (!r.ok()) return r.status();
    for (const mvcc::KeyValue& kv : r->kvs) {
      absl::StatusOr<Entry> e = DecodeEntry(kv.value);
      if (e.ok() && e->delete_at.count() != 0) {
        due_.emplace(e->delete_at, kv.key.substr(prefix_.size()));
      }
    }
    if (int64_t(r->kvs.size()) < kScanPage) break;
    from = r->kvs.back().key + '\0';
  }
  return absl::OkStatus();
}

absl::StatusOr<Entry> LocalStore::Decode(const mvcc::KeyValue& kv) {
  absl::StatusOr<Entry> e = DecodeEntry(kv.value);
  if (!e.ok()) {
    return absl::DataLossError(
        absl::StrCat(e.status().message(), " (key \"", kv.key.substr(prefix_.size()), "\")"));
  }
  return e;
}

void LocalStore::Schedule(Millis delete_at, std::string_view key) {
  bool earliest;
  {
    std::lock_guard l(mu_);
    earliest = due_.empty() || delete_at < due_.top().first;
    due_.emplace(delete_at, std::string(key));
    if (earliest) kicked_ = true;
  }
  if (earliest) cv_.notify_all();
}

absl::Status LocalStore::Write(std::string_view key, Entry e, bool only_if_unset) {
  const std::string k = StoreKey(key);
  absl::StatusOr<std::unique_ptr<mvcc::TxnWrite>> txn = store_->Write();
  if (!txn.ok()) return txn.status();
  if (only_if_unset) {
    absl::StatusOr<mvcc::RangeResult> cur = (*txn)->Range(k, "", {});
    if (!cur.ok()) return cur.status();
    if (!cur->kvs.empty()) {
      absl::StatusOr<Entry> old = Decode(cur->kvs[0]);
      if (!old.ok()) return old.status();
      if (!old->Deleted(clock_->Now())) return absl::OkStatus();
    }
  }
  const Millis delete_at = e.delete_at;
  if (absl::StatusOr<int64_t> r = (*txn)->Put(k, EncodeEntry(e)); !r.ok()) return r.status();
  if (absl::Status s = (*txn)->End(); !s.ok()) return s;
  if (delete_at.count() != 0) Schedule(delete_at, key);
  return absl::OkStatus();
}

absl::Status LocalStore::Set(std::string_view key, std::string_view value) {
  return SetE(key, value, Millis(0), Millis(0));
}

absl::Status LocalStore::SetE(std::string_view key, std::string_view value, Millis expire_in,
                              Millis delete_in) {
  util::CloseGate::Pass pass(gate_);
  if (!pass.ok()) return ErrClosed();
  if (absl::Status s = CheckDuration(expire_in, "expire_in"); !s.ok()) return s;
  if (absl::Status s = CheckDuration(delete_in, "delete_in"); !s.ok()) return s;
  const Millis now = clock_->Now();
  Entry e{expire_in.count() ? now + expire_in : Millis(0),
          delete_in.count() ? now + delete_in : Millis(0), std::string(value)};
  return Write(key, std::move(e), /*only_if_unset=*/false);
}

absl::Status LocalStore::SetEIfUnset(std::string_view key, std::string_view value,
                                     Millis expire_in, Millis delete_in) {
  util::CloseGate::Pass pass(gate_);
  if (!pass.ok()) return ErrClosed();
  if (absl::Status s = CheckDuration(expire_in, "expire_in"); !s.ok()) return s;
  if (absl::Status s = CheckDuration(delete_in, "delete_in"); !s.ok()) return s;
  const Millis now = clock_->Now();
  Entry e{expire_in.count() ? now + expire_in : Millis(0),
          delete_in.count() ? now + delete_in : Millis(0), std::string(value)};
  return Write(key, std::move(e), /*only_if_unset=*/true);
}

absl::Status LocalStore::Expire(std::string_view key) {
  util::CloseGate::Pass pass(gate_);
  if (!pass.ok()) return ErrClosed();
  const std::string k = StoreKey(key);
  absl::StatusOr<std::unique_ptr<mvcc::TxnWrite>> txn = store_->Write();
  if (!txn.ok()) return txn.status();
  absl::StatusOr<mvcc::RangeResult> cur = (*txn)->Range(k, "", {});
  if (!cur.ok()) return cur.status();
  if (cur->kvs.empty()) return absl::OkStatus();
  absl::StatusOr<Entry> e = Decode(cur->kvs[0]);
  if (!e.ok()) return e.status();
  const Millis now = clock_->Now();
  if (e->Deleted(now)) {
    // Gone already: remove it now rather than leave it to the sweeper.
    if (absl::StatusOr<int64_t> n = (*txn)->DeleteRange(k, ""); !n.ok()) return n.status();
  } else if (!e->Expired(now)) {
    e->expire_at = now;
    e->value.clear();
    if (absl::StatusOr<int64_t> r = (*txn)->Put(k, EncodeEntry(*e)); !r.ok()) return r.status();
  }
  return (*txn)->End();
}

absl::Status LocalStore::Delete(std::string_view key) {
  util::CloseGate::Pass pass(gate_);
  if (!pass.ok()) return ErrClosed();
  absl::StatusOr<std::pair<int64_t, int64_t>> r = store_->DeleteRange(StoreKey(key), "");
  return r.status();
}

absl::StatusOr<GetResult> LocalStore::Get(std::string_view key) {
  util::CloseGate::Pass pass(gate_);
  if (!pass.ok()) return ErrClosed();
  absl::StatusOr<mvcc::RangeResult> r = store_->Range(StoreKey(key), "");
  if (!r.ok()) return r.status();
  if (r->kvs.empty()) return GetResult{};
  absl::StatusOr<Entry> e = Decode(r->kvs[0]);
  if (!e.ok()) return e.status();
  if (e->Expired(clock_->Now())) return GetResult{};
  return GetResult{std::move(e->value), true};
}

absl::StatusOr<bool> LocalStore::Has(std::string_view key) {
  util::CloseGate::Pass pass(gate_);
  if (!pass.ok()) return ErrClosed();
  absl::StatusOr<mvcc::RangeResult> r = store_->Range(StoreKey(key), "");
  if (!r.ok()) return r.status();
  if (r->kvs.empty()) return false;
  absl::StatusOr<Entry> e = Decode(r->kvs[0]);
  if (!e.ok()) return e.status();
  return !e->Deleted(clock_->Now());
}

absl::StatusOr<DatabaseInfo> LocalStore::GetDBInfo() {
  util::CloseGate::Pass pass(gate_);
  if (!pass.ok()) return ErrClosed();
  DatabaseInfo info;
  info.size_bytes = store_->backend()->FileSize();
  info.db_type = "revkv";
  info.supported_features = {Feature::kSet,    Feature::kSetE,   Feature::kSetEIfUnset,
                             Feature::kGet,    Feature::kExpire, Feature::kDelete,
                             Feature::kHas,    Feature::kGarbageCollect};
  absl::StatusOr<mvcc::RangeResult> r =
      store_->Range(prefix_, PrefixEnd(prefix_), mvcc::RangeOptions{0, 0, /*count_only=*/true});
  if (!r.ok()) return r.status();
  info.key_count = r->count;
  info.revision = r->rev;
  info.compact_revision = store_->CompactRev();
  std::lock_guard g(mu_);
  info.pending_deletes = int64_t(due_.size());
  info.swept_keys = swept_;
  return info;
}

absl::StatusOr<int64_t> LocalStore::SweepNow() {
  util::CloseGate::Pass pass(gate_);
  if (!pass.ok()) return ErrClosed();
  return Sweep();
}

absl::StatusOr<int64_t> LocalStore::Sweep() {
  std::lock_guard sweep(sweep_mu_);
  const Millis now = clock_->Now();
  std::vector<Due> due;
  {
    std::lock_guard l(mu_);
    while (!due_.empty() && due_.top().first <= now) {
      due.push_back(due_.top());
      due_.pop();
    }
  }
  // On failure, puts back what is left so that a later sweep retries it.
  auto requeue = [&](size_t from) {
    std::lock_guard l(mu_);
    for (size_t i = from; i < due.size(); ++i) due_.push(due[i]);
  };
  int64_t deleted = 0;
  for (size_t i = 0; i < due.size(); i += size_t(options_.sweep_batch)) {
    const size_t end = std::min(due.size(), i + size_t(options_.sweep_batch));
    absl::StatusOr<std::unique_ptr<mvcc::TxnWrite>> txn = store_->Write();
    if (!txn.ok()) {
      requeue(i);
      return txn.status();
    }
    std::vector<std::string> keys;
    for (size_t j = i; j < end; ++j) keys.push_back(StoreKey(due[j].second));
    absl::StatusOr<int64_t> batch = DeleteDue(txn->get(), keys, now);
    absl::Status s = batch.status();
    if (s.ok()) s = (*txn)->End();
    if (!s.ok()) {
      requeue(i);
      return s;
    }
    deleted += *batch;
  }
  std::lock_guard l(mu_);
  swept_ += deleted;
  return deleted;
}

void LocalStore::SweeperLoop() {
  std::unique_lock l(mu_);
  bool backoff = false;
  while (!stop_) {
    if (!backoff && !due_.empty() && due_.top().first <= clock_->Now()) {
      l.unlock();
      absl::StatusOr<int64_t> r = Sweep();
      l.lock();
      backoff = !r.ok();
      continue;
    }
    const Millis wait = backoff        ? options_.sweep_retry
                        : due_.empty() ? Millis(std::chrono::hours(1))
                                       : clock_->RealTimeUntil(due_.top().first);
    cv_.wait_for(l, wait, [this] { return stop_ || kicked_; });
    kicked_ = false;
    backoff = false;
  }
}

void LocalStore::Close() {
  if (!gate_.Close()) return;
  if (sweeper_.joinable()) {
    clock_->RemoveObserver(observer_);
    {
      std::lock_guard g(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    sweeper_.join();
  }
  store_ = nullptr;
  db_ = DB{};
}

}  // namespace revkv::kvstore::dkv
