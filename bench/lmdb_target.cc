// The LMDB KvTarget: an environment directory with a 64 GiB map and LMDB's
// default durability (two fdatasyncs per commit, as revkv's btree), keys in
// the named database "bench". The writer keeps one write transaction open and
// commits it by the commit rule of kv_target.h. Readers begin and abort a
// read-only transaction per Get/Range (each thread's reader slot is reused:
// no MDB_NOTLS), as a server answering requests would.
#include <lmdb.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "bench/lmdb_env.h"
#include "bench/kv_target.h"
#include "bench/progress.h"
#include "bench/sysinfo.h"

namespace revkv::bench {
namespace {

constexpr uint64_t kIntervalNs = 100'000'000;

class LmdbTarget : public KvTarget {
 public:
  explicit LmdbTarget(uint64_t batch) : batch_(batch) {}
  ~LmdbTarget() override { Close().IgnoreError(); }

  std::string_view name() const override { return "lmdb"; }
  std::string Description() const override {
    return std::string(mdb_version(nullptr, nullptr, nullptr)) +
           ", 64 GiB map, one write txn committed every " + std::to_string(batch_) +
           " puts or 100 ms, durable; a read txn per get/range";
  }

  absl::Status Open(const std::string& dir) override {
    if (absl::Status s = Close(); !s.ok()) return s;
    if (absl::Status s = OpenLmdb(dir, 0, 512, &env_, &dbi_); !s.ok()) {
      env_ = nullptr;
      return s;
    }
    path_ = dir + "/data.mdb";
    return absl::OkStatus();
  }

  absl::Status Close() override {
    if (env_ == nullptr) return absl::OkStatus();
    absl::Status s = Flush();
    mdb_env_close(env_);
    env_ = nullptr;
    return s;
  }

  absl::Status Put(std::string_view key, std::string_view value) override {
    if (wtxn_ == nullptr) {
      int rc = mdb_txn_begin(env_, nullptr, 0, &wtxn_);
      if (rc != 0) {
        wtxn_ = nullptr;
        return LmdbError("mdb_txn_begin", rc);
      }
      txn_start_ns_ = MonotonicNs();
      pending_ = 0;
    }
    MDB_val k = LmdbVal(key), v = LmdbVal(value);
    int rc = mdb_put(wtxn_, dbi_, &k, &v, 0);
    if (rc != 0) {
      mdb_txn_abort(wtxn_);
      wtxn_ = nullptr;
      return LmdbError("mdb_put", rc);
    }
    if (++pending_ >= batch_ || MonotonicNs() - txn_start_ns_ >= kIntervalNs) return Flush();
    return absl::OkStatus();
  }

  absl::Status Flush() override {
    if (wtxn_ == nullptr) return absl::OkStatus();
    int rc = mdb_txn_commit(wtxn_);
    wtxn_ = nullptr;
    if (rc != 0) return LmdbError("mdb_txn_commit", rc);
    return absl::OkStatus();
  }

  absl::Status Get(std::string_view key, size_t* value_bytes) override {
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
    if (rc != 0) return LmdbError("mdb_txn_begin(rdonly)", rc);
    MDB_val k = LmdbVal(key), v;
    rc = mdb_get(txn, dbi_, &k, &v);
    if (rc == 0) *value_bytes = v.mv_size;
    mdb_txn_abort(txn);
    if (rc == MDB_NOTFOUND) return absl::NotFoundError("key not found");
    if (rc != 0) return LmdbError("mdb_get", rc);
    return absl::OkStatus();
  }

  absl::Status Range(std::string_view start, std::string_view end, uint64_t limit,
                     uint64_t* count) override {
    *count = 0;
    MDB_txn* txn = nullptr;
    int rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn);
    if (rc != 0) return LmdbError("mdb_txn_begin(rdonly)", rc);
    MDB_cursor* cur = nullptr;
    rc = mdb_cursor_open(txn, dbi_, &cur);
    if (rc != 0) {
      mdb_txn_abort(txn);
      return LmdbError("mdb_cursor_open", rc);
    }
    std::vector<std::pair<std::string, std::string>> out;
    MDB_val k = LmdbVal(start), v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
      std::string_view key(static_cast<const char*>(k.mv_data), k.mv_size);
      if (!end.empty() && key >= end) break;
      if (limit != 0 && out.size() >= limit) break;
      out.emplace_back(std::string(key), std::string(static_cast<const char*>(v.mv_data), v.mv_size));
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    if (rc != 0 && rc != MDB_NOTFOUND) return LmdbError("mdb_cursor_get", rc);
    *count = out.size();
    return absl::OkStatus();
  }

  uint64_t FileBytes() override { return FileSize(path_); }

 private:
  uint64_t batch_;
  MDB_env* env_ = nullptr;
  MDB_dbi dbi_ = 0;
  MDB_txn* wtxn_ = nullptr;
  uint64_t txn_start_ns_ = 0;
  uint64_t pending_ = 0;
  std::string path_;
};

}  // namespace

std::unique_ptr<KvTarget> NewLmdbTarget(uint64_t batch) { return std::make_unique<LmdbTarget>(batch); }

}  // namespace revkv::bench
