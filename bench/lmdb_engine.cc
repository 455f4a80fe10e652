// The LMDB engine: an environment directory (data.mdb + lock.mdb) with a
// 64 GiB map, MDB_NOTLS so read transactions are not tied to threads, and
// LMDB's default durability (no MDB_NOSYNC / MDB_NOMETASYNC / MDB_WRITEMAP):
// mdb_txn_commit writes the pages, fdatasyncs, writes the meta page and
// fdatasyncs again, as revkv's btree does. Keys live in the named database
// "bench". Puts use plain mdb_put (no MDB_APPEND), as a user would.
#include <lmdb.h>
#include <sys/stat.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "bench/lmdb_env.h"
#include "bench/engine.h"

namespace revkv::bench {
namespace {


class LmdbReader : public Reader {
 public:
  LmdbReader(MDB_env* env, MDB_dbi dbi) : env_(env), dbi_(dbi) {}
  ~LmdbReader() override { End(); }

  absl::Status Begin() override {
    End();
    int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn_);
    if (rc != 0) {
      txn_ = nullptr;
      return LmdbError("mdb_txn_begin(rdonly)", rc);
    }
    return absl::OkStatus();
  }

  void End() override {
    if (txn_ != nullptr) {
      mdb_txn_abort(txn_);
      txn_ = nullptr;
    }
  }

  absl::Status Get(std::string_view key, std::string_view* value) override {
    if (txn_ == nullptr) return absl::FailedPreconditionError("no read transaction");
    MDB_val k = LmdbVal(key), v;
    int rc = mdb_get(txn_, dbi_, &k, &v);
    if (rc == MDB_NOTFOUND) return absl::NotFoundError("key not found");
    if (rc != 0) return LmdbError("mdb_get", rc);
    *value = std::string_view(static_cast<const char*>(v.mv_data), v.mv_size);
    return absl::OkStatus();
  }

  absl::Status Scan(uint64_t limit, uint64_t* entries, uint64_t* bytes) override {
    *entries = 0;
    *bytes = 0;
    if (txn_ == nullptr) return absl::FailedPreconditionError("no read transaction");
    MDB_cursor* cur = nullptr;
    int rc = mdb_cursor_open(txn_, dbi_, &cur);
    if (rc != 0) return LmdbError("mdb_cursor_open", rc);
    MDB_val k, v;
    uint64_t n = 0, b = 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && (limit == 0 || n < limit);
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
      ++n;
      b += k.mv_size + v.mv_size;
    }
    mdb_cursor_close(cur);
    *entries = n;
    *bytes = b;
    if (rc != 0 && rc != MDB_NOTFOUND) return LmdbError("mdb_cursor_get", rc);
    return absl::OkStatus();
  }

 private:
  MDB_env* env_;
  MDB_dbi dbi_;
  MDB_txn* txn_ = nullptr;
};

class LmdbEngine : public Engine {
 public:
  ~LmdbEngine() override { Close(); }

  std::string_view name() const override { return "lmdb"; }
  std::string Description() const override {
    return std::string(mdb_version(nullptr, nullptr, nullptr)) +
           ", 64 GiB map, MDB_NOTLS, durable commits, named db \"bench\"";
  }

  absl::Status Open(const std::string& dir) override {
    Close();
    if (absl::Status s = OpenLmdb(dir, MDB_NOTLS, 256, &env_, &dbi_); !s.ok()) {
      env_ = nullptr;
      return s;
    }
    path_ = dir + "/data.mdb";
    return absl::OkStatus();
  }

  void Close() override {
    if (env_ != nullptr) {
      mdb_env_close(env_);
      env_ = nullptr;
    }
  }

  absl::Status PutBatch(const std::vector<std::string_view>& keys,
                        const std::vector<std::string_view>& values) override {
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(env_, nullptr, 0, &txn);
    if (rc != 0) return LmdbError("mdb_txn_begin", rc);
    for (size_t i = 0; i < keys.size(); ++i) {
      MDB_val k = LmdbVal(keys[i]), v = LmdbVal(values[i]);
      rc = mdb_put(txn, dbi_, &k, &v, 0);
      if (rc != 0) {
        mdb_txn_abort(txn);
        return LmdbError("mdb_put", rc);
      }
    }
    rc = mdb_txn_commit(txn);
    if (rc != 0) return LmdbError("mdb_txn_commit", rc);
    return absl::OkStatus();
  }

  std::unique_ptr<Reader> NewReader() override {
    return std::make_unique<LmdbReader>(env_, dbi_);
  }

  uint64_t FileBytes() override {
    struct stat st;
    if (::stat(path_.c_str(), &st) != 0) return 0;
    return static_cast<uint64_t>(st.st_size);
  }

 private:
  MDB_env* env_ = nullptr;
  MDB_dbi dbi_ = 0;
  std::string path_;
};

}  // namespace

std::unique_ptr<Engine> NewLmdbEngine() { return std::make_unique<LmdbEngine>(); }

}  // namespace revkv::bench
