// FaultEnv: an Env for tests that fails chosen file operations or stops
// persisting writes, after LevelDB's SpecialEnv and FaultInjectionTestEnv.
//
// It wraps another Env (by default Env::Default()). Files it opens wrap the
// inner Env's files: ReadAt, WriteAt, Sync and Truncate pass through the
// fault logic below (File's default WriteAtV, kept here, makes each piece of a
// vectored write one WriteAt, so faults and power loss can split it); Size, Map and Lock are forwarded untouched. Env-level
// calls (RenameFile, LinkFile, RemoveFile, FileExists, SyncDir) are forwarded untouched,
// but for LinkFile during a power loss (below).
//
// Faults, per operation kind (FaultOp):
//   FailNth(op, n)  the n-th next operation of that kind, counting from now
//                   (1 = the very next one), fails once with an InternalError
//                   whose message starts "fault_env: injected <Op> failure".
//   FailAll(op)     every operation of that kind fails from now on.
//   ClearFaults()   disarms both.
// A failed operation does not reach the inner file.
//
// Power loss: after StopPersistingAfterWrites(n), the next n WriteAt calls
// reach the file and every one after them is silently dropped: it returns OK
// but the bytes never reach the file, as writes lost when the power went out.
// Sync, Truncate and reads keep working (Truncate must reach the file, or the
// btree's mapping of the grown file would fault); a LinkFile is dropped too
// (it returns OK, no link is made). ResumePersisting() ends it.
// Unlike a real power loss the process keeps running and reads the file as it
// is, without the dropped writes: check the result by reopening the file with
// another Env, not through the handle that was writing.
//
// Reordered power loss: DropNthWrite(n) silently drops only the n-th next
// WriteAt (1 = the very next one) while later ones land, as a disk that
// persisted a later write but not an earlier one before the power went out;
// TearNthWrite(n) lets only the first half of its bytes land (a torn page).
//
// Holding syncs: after HoldSyncs(), every Sync waits (inside the call, before
// reaching the file) until ReleaseSyncs(); WaitForHeldSync() returns once one
// is waiting. For tests of what must not wait behind a commit's fsync.
//
// Counters count operations seen since construction or ResetCounters(),
// failed and dropped ones included.
//
// Thread-safety: thread-safe. The FaultEnv must outlive the files it opened.
#ifndef REVKV_TESTS_BTREE_FAULT_ENV_H_
#define REVKV_TESTS_BTREE_FAULT_ENV_H_

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "btree/env.h"

namespace revkv::btree {

enum class FaultOp { kWrite = 0, kSync = 1, kRead = 2, kTruncate = 3 };

// "WriteAt", "Sync", "ReadAt" or "Truncate".
const char* FaultOpName(FaultOp op);

class FaultEnv : public Env {
 public:
  explicit FaultEnv(Env* base = Env::Default());
  ~FaultEnv() override;
  FaultEnv(const FaultEnv&) = delete;
  FaultEnv& operator=(const FaultEnv&) = delete;

  // Env.
  absl::StatusOr<std::unique_ptr<File>> OpenFile(
      const std::string& path, const OpenFileOptions& options) override;
  absl::Status RenameFile(const std::string& from, const std::string& to) override;
  absl::Status LinkFile(const std::string& from, const std::string& to) override;
  absl::Status RemoveFile(const std::string& path) override;
  bool FileExists(const std::string& path) override;
  absl::Status SyncDir(const std::string& dir) override;

  // Faults.
  void FailNth(FaultOp op, uint64_t n);
  void FailNthWrite(uint64_t n) { FailNth(FaultOp::kWrite, n); }
  void FailNthSync(uint64_t n) { FailNth(FaultOp::kSync, n); }
  void FailNthRead(uint64_t n) { FailNth(FaultOp::kRead, n); }
  void FailNthTruncate(uint64_t n) { FailNth(FaultOp::kTruncate, n); }
  void FailAll(FaultOp op);
  // FailAll for every kind.
  void FailAllFromNow();
  void ClearFaults();

  // Power loss.
  void StopPersistingAfterWrites(uint64_t n);
  void ResumePersisting();
  void DropNthWrite(uint64_t n);
  void TearNthWrite(uint64_t n);
  // Whether writes are being dropped now.
  bool dropping_writes() const;

  // Holding syncs.
  void HoldSyncs();
  void WaitForHeldSync();
  void ReleaseSyncs();

  // Counters.
  uint64_t writes() const { return Count(FaultOp::kWrite); }
  uint64_t syncs() const { return Count(FaultOp::kSync); }
  uint64_t reads() const { return Count(FaultOp::kRead); }
  uint64_t truncates() const { return Count(FaultOp::kTruncate); }
  uint64_t dropped_writes() const;
  uint64_t injected_failures() const;
  void ResetCounters();

 private:
  class FaultFile;
  struct OpState {
    uint64_t seen = 0;
    uint64_t countdown = 0;  // 0: no Nth fault armed
    bool fail_all = false;
  };

  uint64_t Count(FaultOp op) const;
  // Counts an operation on `path` and returns the injected error, if any.
  absl::Status Before(FaultOp op, const std::string& path);
  // For a WriteAt that passed Before: how many of its `n` bytes reach the
  // file (n, n / 2 or 0).
  size_t BytesToPersist(size_t n);
  // Waits while syncs are held.
  void MaybeHoldSync();

  Env* const base_;
  mutable std::mutex mu_;
  OpState ops_[4];
  bool limit_writes_ = false;
  uint64_t writes_left_ = 0;
  uint64_t drop_countdown_ = 0;  // 0: none armed
  uint64_t tear_countdown_ = 0;
  uint64_t dropped_ = 0;
  uint64_t injected_ = 0;
  std::condition_variable hold_cv_;
  bool hold_syncs_ = false;
  int held_ = 0;  // syncs waiting now
};

}  // namespace revkv::btree

#endif  // REVKV_TESTS_BTREE_FAULT_ENV_H_
