// The revkv engine: one btree::DB file "revkv.db" with default options
// (durable commits: fdatasync of the pages, then of the meta page) and one
// bucket "bench" with the default fill percent.
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bench/engine.h"
#include "btree/db.h"

namespace revkv::bench {
namespace {

constexpr char kBucket[] = "bench";

class RevkvReader : public Reader {
 public:
  explicit RevkvReader(btree::DB* db) : db_(db) {}
  ~RevkvReader() override { End(); }

  absl::Status Begin() override {
    End();
    absl::StatusOr<std::unique_ptr<btree::Tx>> tx = db_->Begin(false);
    if (!tx.ok()) return tx.status();
    absl::StatusOr<btree::Bucket*> b = (*tx)->GetBucket(kBucket);
    if (!b.ok()) return b.status();
    tx_ = *std::move(tx);
    bucket_ = *b;
    return absl::OkStatus();
  }

  void End() override {
    bucket_ = nullptr;
    if (tx_ != nullptr) {
      tx_->Rollback();
      tx_.reset();
    }
  }

  absl::Status Get(std::string_view key, std::string_view* value) override {
    if (bucket_ == nullptr) return absl::FailedPreconditionError("no read transaction");
    return bucket_->Get(key, value);
  }

  absl::Status Scan(uint64_t limit, uint64_t* entries, uint64_t* bytes) override {
    *entries = 0;
    *bytes = 0;
    if (bucket_ == nullptr) return absl::FailedPreconditionError("no read transaction");
    btree::Cursor c = bucket_->NewCursor();
    uint64_t n = 0, b = 0;
    for (c.First(); c.Valid() && (limit == 0 || n < limit); c.Next()) {
      ++n;
      b += c.key().size() + c.value().size();
    }
    *entries = n;
    *bytes = b;
    return c.status();
  }

 private:
  btree::DB* db_;
  std::unique_ptr<btree::Tx> tx_;
  btree::Bucket* bucket_ = nullptr;
};

class RevkvEngine : public Engine {
 public:
  ~RevkvEngine() override { Close(); }

  std::string_view name() const override { return "revkv"; }
  std::string Description() const override {
    return "revkv btree, " + std::to_string(btree::kDefaultPageSize) +
           " B pages, durable commits, bucket \"bench\"";
  }

  absl::Status Open(const std::string& dir) override {
    Close();
    absl::StatusOr<std::unique_ptr<btree::DB>> db = btree::DB::Open(dir + "/revkv.db");
    if (!db.ok()) return db.status();
    db_ = *std::move(db);
    return db_->Update([](btree::Tx& tx) -> absl::Status {
      return tx.CreateBucketIfNotExists(kBucket).status();
    });
  }

  void Close() override { db_.reset(); }

  absl::Status PutBatch(const std::vector<std::string_view>& keys,
                        const std::vector<std::string_view>& values) override {
    absl::StatusOr<std::unique_ptr<btree::Tx>> tx = db_->Begin(true);
    if (!tx.ok()) return tx.status();
    absl::StatusOr<btree::Bucket*> b = (*tx)->GetBucket(kBucket);
    if (!b.ok()) return b.status();
    for (size_t i = 0; i < keys.size(); ++i) {
      if (absl::Status s = (*b)->Put(keys[i], values[i]); !s.ok()) return s;  // rolls back
    }
    return (*tx)->Commit();
  }

  std::unique_ptr<Reader> NewReader() override {
    return std::make_unique<RevkvReader>(db_.get());
  }

  uint64_t FileBytes() override { return db_ == nullptr ? 0 : db_->FileSize(); }

 private:
  std::unique_ptr<btree::DB> db_;
};

}  // namespace

std::unique_ptr<Engine> NewRevkvEngine() { return std::make_unique<RevkvEngine>(); }

}  // namespace revkv::bench
