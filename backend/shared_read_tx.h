// SharedReadTx: one btree read transaction shared by every view taken between
// two commits, as etcd 3.4's backend shares its readTx's bolt transaction
// among concurrent reads. A view then costs a pointer copy instead of a btree
// begin (the DB's mutex and reader registration) and a bucket lookup of its
// own. The backend drops its reference at each commit; the transaction ends
// when the last view holding it does, pinning only the pages of its snapshot.
//
// Thread-safety: thread-safe. Bucket() finds a bucket looked up before
// without a lock; reads through the buckets it returns (Get, cursors) may run
// concurrently from any number of threads, because reads of a btree read
// transaction do not change it (btree/tx.h).
#ifndef REVKV_BACKEND_SHARED_READ_TX_H_
#define REVKV_BACKEND_SHARED_READ_TX_H_

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "util/mutex.h"
#include "btree/bucket.h"
#include "btree/db.h"
#include "btree/tx.h"

namespace revkv::backend {

class SharedReadTx {
 public:
  // Takes a read transaction of `db`, which it keeps open while it lives.
  SharedReadTx(std::shared_ptr<btree::DB> db, std::unique_ptr<btree::Tx> tx)
      : db_(std::move(db)), tx_(std::move(tx)) {}
  ~SharedReadTx() { tx_.reset(); }  // before db_
  SharedReadTx(const SharedReadTx&) = delete;
  SharedReadTx& operator=(const SharedReadTx&) = delete;

  // The top-level bucket `name` of the snapshot, or null when it has none.
  // Looked up once per name, then cached: the snapshot never changes.
  absl::StatusOr<btree::Bucket*> Bucket(std::string_view name) ABSL_LOCKS_EXCLUDED(mu_);

  btree::txid_t txid() const { return tx_->id(); }

 private:
  struct Found {
    std::string name;
    btree::Bucket* bucket;  // null: the snapshot has no such bucket
  };
  // The first kFast lookups, published by count_ (release) so that readers
  // scan them without the mutex; etcd has about ten buckets.
  static constexpr int kFast = 16;

  std::shared_ptr<btree::DB> db_;
  std::unique_ptr<btree::Tx> tx_;
  std::atomic<int> count_{0};
  // [0, count_) immutable once published and read without mu_; written
  // (at count_) under mu_.
  std::array<Found, kFast> fast_;
  util::Mutex mu_;  // serialises lookups (the btree's are not)
  std::vector<Found> more_ ABSL_GUARDED_BY(mu_);
};

// The top-level bucket `name` of `tx`, or null when tx is null or has no such
// bucket; other errors (a corrupt page) as GetBucket returns them.
absl::StatusOr<btree::Bucket*> FindBucket(btree::Tx* tx, std::string_view name);

}  // namespace revkv::backend

#endif  // REVKV_BACKEND_SHARED_READ_TX_H_
