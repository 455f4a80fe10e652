// The revkv KvTarget: mvcc::Store over a backend::Backend in "revkv.db" with
// etcd's defaults (100 ms batch interval, durable commits) and the batch limit
// set to --batch.
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "backend/backend.h"
#include "bench/kv_target.h"
#include "bench/open_store.h"
#include "bench/sysinfo.h"
#include "mvcc/store.h"

namespace revkv::bench {
namespace {

class StoreTarget : public KvTarget {
 public:
  explicit StoreTarget(uint64_t batch) : batch_(batch) {}
  ~StoreTarget() override { Close().IgnoreError(); }

  std::string_view name() const override { return "revkv"; }
  std::string Description() const override {
    return "mvcc::Store over the backend: each put its own revision, commits every " +
           std::to_string(batch_) + " puts or 100 ms, durable (fsync)";
  }

  absl::Status Open(const std::string& dir) override {
    if (absl::Status s = Close(); !s.ok()) return s;
    backend::BackendConfig cfg = backend::DefaultBackendConfig();
    cfg.path = dir + "/revkv.db";
    cfg.batch_limit = static_cast<int64_t>(batch_);
    path_ = cfg.path;
    absl::StatusOr<StoreHandle> h = OpenStore(cfg);
    if (!h.ok()) return h.status();
    h_ = *std::move(h);
    return absl::OkStatus();
  }

  absl::Status Close() override { return h_.Close(); }

  absl::Status Put(std::string_view key, std::string_view value) override {
    return h_.store->Put(key, value).status();
  }

  absl::Status Flush() override { return h_.backend->ForceCommit(); }

  absl::Status Get(std::string_view key, size_t* value_bytes) override {
    absl::StatusOr<mvcc::RangeResult> r = h_.store->Range(key, "", {});
    if (!r.ok()) return r.status();
    if (r->kvs.empty()) return absl::NotFoundError("key not found");
    *value_bytes = r->kvs[0].value.size();
    return absl::OkStatus();
  }

  absl::Status Range(std::string_view start, std::string_view end, uint64_t limit,
                     uint64_t* count) override {
    mvcc::RangeOptions o;
    o.limit = static_cast<int64_t>(limit);
    absl::StatusOr<mvcc::RangeResult> r = h_.store->Range(start, end, o);
    if (!r.ok()) return r.status();
    *count = r->kvs.size();
    return absl::OkStatus();
  }

  uint64_t FileBytes() override { return FileSize(path_); }

  mvcc::Store* store() override { return h_.store.get(); }

 private:
  uint64_t batch_;
  std::string path_;
  StoreHandle h_;
};

}  // namespace

std::unique_ptr<KvTarget> NewRevkvStoreTarget(uint64_t batch) {
  return std::make_unique<StoreTarget>(batch);
}

}  // namespace revkv::bench
