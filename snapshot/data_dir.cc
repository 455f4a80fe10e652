#include "snapshot/data_dir.h"

#include "snapshot/file_util.h"

namespace revkv::snapshot {

std::string DataFilePath(const std::string& dir) { return dir + "/member/snap/db"; }

absl::StatusOr<std::unique_ptr<DataDir>> DataDir::Open(const std::string& dir,
                                                       const DataDirOptions& options) {
  auto d = std::unique_ptr<DataDir>(new DataDir(dir));
  if (absl::Status s = MkdirAll(dir + "/member/snap"); !s.ok()) return s;
  backend::BackendConfig config = backend::DefaultBackendConfig();
  config.path = DataFilePath(dir);
  // One invocation, one process: commit at Close (and by batch limit), not
  // on a timer.
  config.batch_interval = std::chrono::milliseconds(0);
  config.allow_rollback = options.allow_rollback;
  absl::StatusOr<std::unique_ptr<backend::Backend>> b = backend::Backend::Open(config);
  if (!b.ok()) return b.status();
  d->backend_ = std::move(*b);
  absl::StatusOr<std::unique_ptr<mvcc::Store>> st = mvcc::Store::Open(d->backend_.get());
  if (!st.ok()) return st.status();
  d->store_ = std::move(*st);
  return d;
}

std::vector<std::string> DataDir::OpenNotes() const {
  std::vector<std::string> notes;
  if (backend_ != nullptr && !backend_->open_note().empty()) {
    notes.push_back(backend_->open_note());
  }
  if (store_ != nullptr) {
    for (const absl::Status& w : store_->open_warnings()) {
      notes.push_back(std::string(w.message()) + " (the index was rebuilt from the key bucket)");
    }
  }
  return notes;
}

absl::Status DataDir::Close() {
  if (closed_) return absl::OkStatus();
  closed_ = true;
  absl::Status result;
  if (store_ != nullptr) {
    result.Update(store_->WaitCompaction());
    result.Update(store_->Close());
  }
  if (backend_ != nullptr) result.Update(backend_->Close());
  store_.reset();
  backend_.reset();
  return result;
}

}  // namespace revkv::snapshot
