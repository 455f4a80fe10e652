// Backend::Hash (XXH3-64) and Backend::EtcdHash (etcd 3.4's CRC-32C) over
// the database's logical contents.
#include <xxhash.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "btree/bucket.h"
#include "btree/cursor.h"
#include "util/crc32c.h"

namespace revkv::backend {

namespace {

class Hasher {
 public:
  Hasher() : state_(XXH3_createState()) { XXH3_64bits_reset(state_.get()); }
  void Tag(char t) { XXH3_64bits_update(state_.get(), &t, 1); }
  void String(std::string_view s) {
    const uint32_t n = uint32_t(s.size());
    const unsigned char len[4] = {uint8_t(n), uint8_t(n >> 8), uint8_t(n >> 16), uint8_t(n >> 24)};
    XXH3_64bits_update(state_.get(), len, sizeof len);
    XXH3_64bits_update(state_.get(), s.data(), s.size());
  }
  uint64_t Digest() { return XXH3_64bits_digest(state_.get()); }

 private:
  struct Free {
    void operator()(XXH3_state_t* s) const { XXH3_freeState(s); }
  };
  std::unique_ptr<XXH3_state_t, Free> state_;
};

}  // namespace

absl::Status Backend::WalkForHash(
    const HashIgnoreFn& ignores, const std::function<void(std::string_view)>& on_bucket,
    const std::function<void(std::string_view, std::string_view, bool)>& on_entry) {
  std::shared_ptr<btree::DB> db;
  std::unique_ptr<btree::Tx> tx;
  {
    util::MutexLock l(batch_->mu_);
    if (absl::Status s = batch_->CheckWritable(); !s.ok()) return s;
    if (absl::Status s = batch_->SyncLocked(); !s.ok()) return s;
    db = CurrentDb();  // the BatchTx lock keeps it from changing
    absl::StatusOr<std::unique_ptr<btree::Tx>> t = db->Begin(false);
    if (!t.ok()) return t.status();
    tx = *std::move(t);
  }
  absl::Status status = [&]() -> absl::Status {
    absl::StatusOr<std::vector<std::string>> names = tx->ListBuckets();
    if (!names.ok()) return names.status();
    for (const std::string& name : *names) {
      if (ignores && ignores(name, std::string_view())) continue;
      on_bucket(name);
      absl::StatusOr<btree::Bucket*> b = tx->GetBucket(name);
      if (!b.ok()) return b.status();
      btree::Cursor c = (*b)->NewCursor();
      for (c.First(); c.Valid(); c.Next()) {
        if (ignores && ignores(name, c.key())) continue;
        on_entry(c.key(), c.value(), c.is_bucket());
      }
      if (!c.status().ok()) return c.status();
    }
    return absl::OkStatus();
  }();
  tx.reset();  // before db
  return status;
}

absl::StatusOr<uint64_t> Backend::Hash(const HashIgnoreFn& ignores) {
  Hasher h;
  absl::Status s = WalkForHash(
      ignores,
      [&](std::string_view name) {
        h.Tag('B');
        h.String(name);
      },
      [&](std::string_view key, std::string_view value, bool is_bucket) {
        if (is_bucket) return;
        h.Tag('K');
        h.String(key);
        h.String(value);
      });
  if (!s.ok()) return s;
  return h.Digest();
}

absl::StatusOr<uint32_t> Backend::EtcdHash(const HashIgnoreFn& ignores) {
  uint32_t crc = 0;
  absl::Status s = WalkForHash(
      ignores, [&](std::string_view name) { crc = util::Crc32cExtend(crc, name); },
      [&](std::string_view key, std::string_view value, bool is_bucket) {
        crc = util::Crc32cExtend(crc, key);
        if (!is_bucket) crc = util::Crc32cExtend(crc, value);
      });
  if (!s.ok()) return s;
  return crc;
}

}  // namespace revkv::backend
