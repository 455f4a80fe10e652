// SpareSegment: the write-ahead log's next segment, made ahead of need on
// a thread of its own (etcd's filePipeline): a file of `bytes` zeros,
// fdatasynced, named DIR/spare-<n>.tmp. Take hands it over and starts the
// next one, so a log that rolls over pays a rename instead of zero-filling
// a whole segment while every writer waits for its answer.
//
// A spare never put in place is a `.tmp` file, which Wal::Open deletes.
//
// Thread-safety: Take and WaitReady from one thread at a time (the log's);
// the preparing thread is internal.
#ifndef REVKV_SERVER_WAL_SPARE_H_
#define REVKV_SERVER_WAL_SPARE_H_

#include <cstdint>
#include <stop_token>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "util/mutex.h"

namespace revkv::server {

class SpareSegment {
 public:
  // Starts making the first spare in `dir` (which must exist).
  SpareSegment(std::string dir, uint64_t bytes);
  // Stops the thread (a spare half made stays behind as a `.tmp` file) and
  // closes a spare nobody took.
  ~SpareSegment();
  SpareSegment(const SpareSegment&) = delete;
  SpareSegment& operator=(const SpareSegment&) = delete;

  struct File {
    int fd = -1;  // open for writing; the caller's to close
    std::string path;
  };
  // The spare, waiting for it if it is not ready; the error that kept it
  // from being made (that spare is not retried: the log fails).
  absl::StatusOr<File> Take() ABSL_LOCKS_EXCLUDED(mu_);
  // Blocks until a spare is ready or has failed (tests).
  void WaitReady() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Loop(std::stop_token stop) ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<int> Make(const std::string& path, std::stop_token stop) const;

  const std::string dir_;
  const uint64_t bytes_;
  // A leaf: the thread makes the file with it released.
  util::Mutex mu_;
  util::CondVar cv_;
  File ready_ ABSL_GUARDED_BY(mu_);  // fd -1: none ready
  absl::Status error_ ABSL_GUARDED_BY(mu_);
  bool wanted_ ABSL_GUARDED_BY(mu_) = true;  // the thread should make one
  std::jthread thread_;                       // last: started once all else is
};

}  // namespace revkv::server

#endif  // REVKV_SERVER_WAL_SPARE_H_
