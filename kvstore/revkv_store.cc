// RevkvStore: libkv's operations as mvcc transactions.
#include "kvstore/revkv_store.h"

#include <mutex>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "mvcc/errors.h"

namespace revkv::kvstore {
namespace {

absl::Status CheckBucket(std::string_view bucket) {
  if (bucket.empty()) return ErrBucketOptionMissing();
  if (bucket.find('/') != std::string_view::npos) {
    return absl::InvalidArgumentError("kvstore: bucket \"" + std::string(bucket) + "\" contains '/'");
  }
  return absl::OkStatus();
}

absl::Status CheckKey(std::string_view key) {
  if (key.empty()) return absl::InvalidArgumentError("key required");
  return absl::OkStatus();
}


KVPair ToPair(const mvcc::KeyValue& kv, size_t prefix_len) {
  return KVPair{kv.key.substr(prefix_len), kv.value, uint64_t(kv.mod_revision)};
}

}  // namespace

RevkvStore::RevkvStore(DB* db, std::string_view bucket)
    : db_(db), store_(db->store()), prefix_(std::string(bucket) + "/") {}

RevkvStore::~RevkvStore() { Close(); }

absl::StatusOr<std::unique_ptr<RevkvStore>> RevkvStore::Wrap(DB* db, std::string_view bucket) {
  if (absl::Status s = CheckBucket(bucket); !s.ok()) return s;
  return std::unique_ptr<RevkvStore>(new RevkvStore(db, bucket));
}

absl::StatusOr<std::unique_ptr<RevkvStore>> RevkvStore::Open(const std::string& path,
                                                             const Config& config) {
  if (absl::Status s = CheckBucket(config.bucket); !s.ok()) return s;
  Options options;
  options.lock_timeout = config.connection_timeout;
  absl::StatusOr<std::unique_ptr<DB>> db = DB::OpenFile(path, options);
  if (!db.ok()) return db.status();
  auto store = std::unique_ptr<RevkvStore>(new RevkvStore(db->get(), config.bucket));
  store->owned_db_ = std::move(*db);
  return store;
}

std::string RevkvStore::StoreKey(std::string_view key) const { return prefix_ + std::string(key); }

absl::Status RevkvStore::Sync() {
  return owned_db_ != nullptr ? owned_db_->Sync() : absl::OkStatus();
}

absl::Status RevkvStore::Put(std::string_view key, std::string_view value) {
  util::CloseGate::Pass pass(gate_);
  if (!pass.ok()) return ErrStoreClosed();
  if (absl::Status s = CheckKey(key); !s.ok()) return s;
  if (absl::StatusOr<int64_t> r = store_->Put(StoreKey(key), value); !r.ok()) return r.status();
  return Sync();
}

absl::StatusOr<KVPair> RevkvStore::Get(std::string_view key) {
  util::CloseGate::Pass pass(gate_);
  if (!pass.ok()) return ErrStoreClosed();
  absl::StatusOr<mvcc::RangeResult> r = store_->Range(StoreKey(key), "");
  if (!r.ok()) return r.status();
  if (r->kvs.empty()) return ErrKeyNotFound();
  return ToPair(r->kvs[0], prefix_.size());
}

absl::StatusOr<bool> RevkvStore::Exists(std::string_view key) {
  util::CloseGate::Pass pass(gate_);
  if (!pass.ok()) return ErrStoreClosed();
  absl::StatusOr<mvcc::RangeResult> r =
      store_->Range(StoreKey(key), "", mvcc::RangeOptions{0, 0, /*count_only=*/true});
  if (!r.ok()) return r.status();
  return r->count > 0;
}

absl::StatusOr<std::vector<KVPair>> RevkvStore::List(std::string_view directory) {
  util::CloseGate::Pass pass(gate_);
  if (!pass.ok()) return ErrStoreClosed();
  const std::string start = StoreKey(directory);
  absl::StatusOr<mvcc::RangeResult> r = store_->Range(start, PrefixEnd(start));
  if (!r.ok()) return r.status();
  if (r->kvs.empty()) return ErrKeyNotFound();
  std::vector<KVPair> pairs;
  pairs.reserve(r->kvs.size());
  for (const mvcc::KeyValue& kv : r->kvs) pairs.push_back(ToPair(kv, prefix_.size()));
  return pairs;
}

absl::StatusOr<KVPair> RevkvStore::AtomicPut(std::string_view key, std::string_view value,
                                             const std::optional<KVPair>& previous) {
  util::CloseGate::Pass pass(gate_);
  if (!pass.ok()) return ErrStoreClosed();
  if (absl::Status s = CheckKey(key); !s.ok()) return s;
  const std::string k = StoreKey(key);
  absl::StatusOr<std::unique_ptr<mvcc::TxnWrite>> txn = store_->Write();
  if (!txn.ok()) return txn.status();
  absl::StatusOr<mvcc::RangeResult> cur = (*txn)->Range(k, "", {});
  if (!cur.ok()) return cur.status();
  const bool present = !cur->kvs.empty();
  if (!previous.has_value()) {
    if (present) return ErrKeyExists();
  } else {
    if (!present) return ErrKeyNotFound();
    if (uint64_t(cur->kvs[0].mod_revision) != previous->last_index) return ErrKeyModified();
  }
  absl::StatusOr<int64_t> rev = (*txn)->Put(k, value);
  if (!rev.ok()) return rev.status();
  if (absl::Status s = (*txn)->End(); !s.ok()) return s;
  if (absl::Status s = Sync(); !s.ok()) return s;
  return KVPair{std::string(key), std::string(value), uint64_t(*rev)};
}

absl::Status RevkvStore::AtomicDelete(std::string_view key,
                                      const std::optional<KVPair>& previous) {
  util::CloseGate::Pass pass(gate_);
  if (!pass.ok()) return ErrStoreClosed();
  if (!previous.has_value()) return ErrPreviousNotSpecified();
  const std::string k = StoreKey(key);
  absl::StatusOr<std::unique_ptr<mvcc::TxnWrite>> txn = store_->Write();
  if (!txn.ok()) return txn.status();
  absl::StatusOr<mvcc::RangeResult> cur = (*txn)->Range(k, "", {});
  if (!cur.ok()) return cur.status();
  if (cur->kvs.empty()) return ErrKeyNotFound();
  if (uint64_t(cur->kvs[0].mod_revision) != previous->last_index) return ErrKeyModified();
  if (absl::StatusOr<int64_t> n = (*txn)->DeleteRange(k, ""); !n.ok()) return n.status();
  if (absl::Status s = (*txn)->End(); !s.ok()) return s;
  return Sync();
}

absl::Status RevkvStore::Delete(std::string_view key) {
  util::CloseGate::Pass pass(gate_);
  if (!pass.ok()) return ErrStoreClosed();
  const std::string k = StoreKey(key);
  absl::StatusOr<std::unique_ptr<mvcc::TxnWrite>> txn = store_->Write();
  if (!txn.ok()) return txn.status();
  absl::StatusOr<int64_t> n = (*txn)->DeleteRange(k, "");
  if (!n.ok()) return n.status();
  if (*n == 0) return ErrKeyNotFound();
  if (absl::Status s = (*txn)->End(); !s.ok()) return s;
  return Sync();
}

absl::StatusOr<WatchFeed> RevkvStore::NewFeed(const std::string& key, const std::string& end,
                                              int64_t rev, std::stop_token stop) {
  std::shared_ptr<mvcc::WatchStream> stream = db_->NewWatchStream();
  mvcc::WatchOptions opts;
  opts.start_rev = rev + 1;
  absl::StatusOr<mvcc::WatchId> id = stream->Watch(key, end, opts);
  if (!id.ok()) return mvcc::IsClosed(id.status()) ? ErrStoreClosed() : id.status();
  {
    util::MutexLock l(streams_mu_);
    std::erase_if(streams_, [](const std::weak_ptr<mvcc::WatchStream>& w) { return w.expired(); });
    streams_.push_back(stream);
  }
  return WatchFeed(std::move(stream), *id, std::move(stop), rev);
}

absl::StatusOr<std::unique_ptr<KeyWatch>> RevkvStore::Watch(std::string_view key,
                                                            std::stop_token stop) {
  util::CloseGate::Pass pass(gate_);
  if (!pass.ok()) return ErrStoreClosed();
  if (absl::Status s = CheckKey(key); !s.ok()) return s;
  const std::string k = StoreKey(key);
  absl::StatusOr<mvcc::RangeResult> r = store_->Range(k, "");
  if (!r.ok()) return r.status();
  absl::StatusOr<WatchFeed> feed = NewFeed(k, "", r->rev, std::move(stop));
  if (!feed.ok()) return feed.status();
  std::optional<KVPair> first;
  if (!r->kvs.empty()) first = ToPair(r->kvs[0], prefix_.size());
  return std::unique_ptr<KeyWatch>(
      new RevkvKeyWatch(*std::move(feed), std::move(first), prefix_.size()));
}

absl::StatusOr<std::unique_ptr<TreeWatch>> RevkvStore::WatchTree(std::string_view directory,
                                                                 std::stop_token stop) {
  util::CloseGate::Pass pass(gate_);
  if (!pass.ok()) return ErrStoreClosed();
  const std::string start = StoreKey(directory);
  const std::string end = PrefixEnd(start);
  absl::StatusOr<mvcc::RangeResult> r = store_->Range(start, end);
  if (!r.ok()) return r.status();
  absl::StatusOr<WatchFeed> feed = NewFeed(start, end, r->rev, std::move(stop));
  if (!feed.ok()) return feed.status();
  std::vector<KVPair> first;
  first.reserve(r->kvs.size());
  for (const mvcc::KeyValue& kv : r->kvs) first.push_back(ToPair(kv, prefix_.size()));
  return std::unique_ptr<TreeWatch>(
      new RevkvTreeWatch(*std::move(feed), db_, std::move(first), prefix_.size()));
}

void RevkvStore::Close() {
  if (!gate_.Close()) return;
  std::vector<std::weak_ptr<mvcc::WatchStream>> streams;
  {
    util::MutexLock l(streams_mu_);
    streams.swap(streams_);
  }
  for (const std::weak_ptr<mvcc::WatchStream>& w : streams) {
    if (std::shared_ptr<mvcc::WatchStream> s = w.lock()) s->Close();
  }
  // libkv's Close returns nothing; the backend's Close commits what is
  // pending, and every write already committed in Sync.
  if (owned_db_ != nullptr) owned_db_->Close().IgnoreError();
}

}  // namespace revkv::kvstore
