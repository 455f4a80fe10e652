// DataDir: a revkv data directory, laid out like etcd's:
//
//   DIR/member/snap/db     the btree file holding the backend's buckets
//
// Open creates the directory and the file if needed (a fresh store is at
// revision 1), takes the file's exclusive lock (a second process fails at
// once), and restores the mvcc store. Close waits for background compaction,
// then commits with fsync: everything done before Close is durable after it.
//
// Thread-safety: the Backend and Store are thread-safe; Open/Close are not
// to be called concurrently on one DataDir.
#ifndef REVKV_SNAPSHOT_DATA_DIR_H_
#define REVKV_SNAPSHOT_DATA_DIR_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backend/backend.h"
#include "mvcc/store.h"

namespace revkv::snapshot {

// DIR/member/snap/db.
std::string DataFilePath(const std::string& dir);

struct DataDirOptions {
  // Open the commit before a damaged newest one (btree::Options::
  // allow_rollback): the CLI's --allow-rollback.
  bool allow_rollback = false;
};

class DataDir {
 public:
  static absl::StatusOr<std::unique_ptr<DataDir>> Open(const std::string& dir,
                                                       const DataDirOptions& options = {});
  ~DataDir() { Close().IgnoreError(); }

  mvcc::Store* store() { return store_.get(); }
  backend::Backend* backend() { return backend_.get(); }
  const std::string& dir() const { return dir_; }
  // What opening found and worked around, one line each, for the user: a
  // damaged meta page, a rolled-back commit, a rejected index checkpoint.
  // Empty for a healthy store.
  std::vector<std::string> OpenNotes() const;

  // Finishes compactions, closes the store and the backend (final fsynced
  // commit). Idempotent; returns the first error.
  absl::Status Close();

 private:
  explicit DataDir(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
  std::unique_ptr<backend::Backend> backend_;
  std::unique_ptr<mvcc::Store> store_;
  bool closed_ = false;
};

}  // namespace revkv::snapshot

#endif  // REVKV_SNAPSHOT_DATA_DIR_H_
