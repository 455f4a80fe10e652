#include "tests/btree/fault_env.h"

#include <utility>

#include "absl/strings/str_format.h"

namespace revkv::btree {

const char* FaultOpName(FaultOp op) {
  switch (op) {
    case FaultOp::kWrite:
      return "WriteAt";
    case FaultOp::kSync:
      return "Sync";
    case FaultOp::kRead:
      return "ReadAt";
    case FaultOp::kTruncate:
      return "Truncate";
  }
  return "?";
}

class FaultEnv::FaultFile : public File {
 public:
  FaultFile(FaultEnv* env, std::string path, std::unique_ptr<File> inner)
      : env_(env), path_(std::move(path)), inner_(std::move(inner)) {}

  absl::Status ReadAt(uint64_t offset, size_t n, char* buf) override {
    if (absl::Status s = env_->Before(FaultOp::kRead, path_); !s.ok()) return s;
    return inner_->ReadAt(offset, n, buf);
  }
  absl::Status WriteAt(uint64_t offset, std::string_view data) override {
    if (absl::Status s = env_->Before(FaultOp::kWrite, path_); !s.ok()) return s;
    const size_t n = env_->BytesToPersist(data.size());
    if (n == 0) return absl::OkStatus();
    return inner_->WriteAt(offset, data.substr(0, n));
  }
  absl::Status Sync() override {
    env_->MaybeHoldSync();
    if (absl::Status s = env_->Before(FaultOp::kSync, path_); !s.ok()) return s;
    return inner_->Sync();
  }
  absl::Status Truncate(uint64_t size) override {
    if (absl::Status s = env_->Before(FaultOp::kTruncate, path_); !s.ok()) return s;
    return inner_->Truncate(size);
  }
  absl::StatusOr<uint64_t> Size() override { return inner_->Size(); }
  absl::StatusOr<std::shared_ptr<const Mapping>> Map(size_t length) override {
    return inner_->Map(length);
  }
  absl::Status Lock(bool exclusive) override { return inner_->Lock(exclusive); }

 private:
  FaultEnv* const env_;
  const std::string path_;
  const std::unique_ptr<File> inner_;
};

FaultEnv::FaultEnv(Env* base) : base_(base != nullptr ? base : Env::Default()) {}
FaultEnv::~FaultEnv() = default;

absl::StatusOr<std::unique_ptr<File>> FaultEnv::OpenFile(
    const std::string& path, const OpenFileOptions& options) {
  absl::StatusOr<std::unique_ptr<File>> inner = base_->OpenFile(path, options);
  if (!inner.ok()) return inner.status();
  return std::unique_ptr<File>(
      std::make_unique<FaultFile>(this, path, *std::move(inner)));
}

absl::Status FaultEnv::RenameFile(const std::string& from, const std::string& to) {
  return base_->RenameFile(from, to);
}
absl::Status FaultEnv::LinkFile(const std::string& from, const std::string& to) {
  if (dropping_writes()) return absl::OkStatus();  // lost with the power, like a write
  return base_->LinkFile(from, to);
}
absl::Status FaultEnv::RemoveFile(const std::string& path) {
  return base_->RemoveFile(path);
}
bool FaultEnv::FileExists(const std::string& path) { return base_->FileExists(path); }
absl::Status FaultEnv::SyncDir(const std::string& dir) { return base_->SyncDir(dir); }

void FaultEnv::HoldSyncs() {
  std::lock_guard l(mu_);
  hold_syncs_ = true;
}

void FaultEnv::WaitForHeldSync() {
  std::unique_lock l(mu_);
  hold_cv_.wait(l, [&] { return held_ > 0; });
}

void FaultEnv::ReleaseSyncs() {
  std::lock_guard l(mu_);
  hold_syncs_ = false;
  hold_cv_.notify_all();
}

void FaultEnv::MaybeHoldSync() {
  std::unique_lock l(mu_);
  if (!hold_syncs_) return;
  held_++;
  hold_cv_.notify_all();
  hold_cv_.wait(l, [&] { return !hold_syncs_; });
  held_--;
}

void FaultEnv::FailNth(FaultOp op, uint64_t n) {
  std::lock_guard<std::mutex> l(mu_);
  ops_[int(op)].countdown = n;
}

void FaultEnv::FailAll(FaultOp op) {
  std::lock_guard<std::mutex> l(mu_);
  ops_[int(op)].fail_all = true;
}

void FaultEnv::FailAllFromNow() {
  std::lock_guard<std::mutex> l(mu_);
  for (OpState& o : ops_) o.fail_all = true;
}

void FaultEnv::ClearFaults() {
  std::lock_guard<std::mutex> l(mu_);
  for (OpState& o : ops_) {
    o.countdown = 0;
    o.fail_all = false;
  }
}

void FaultEnv::StopPersistingAfterWrites(uint64_t n) {
  std::lock_guard<std::mutex> l(mu_);
  limit_writes_ = true;
  writes_left_ = n;
}

void FaultEnv::ResumePersisting() {
  std::lock_guard<std::mutex> l(mu_);
  limit_writes_ = false;
  writes_left_ = 0;
}

void FaultEnv::DropNthWrite(uint64_t n) {
  std::lock_guard<std::mutex> l(mu_);
  drop_countdown_ = n;
}

void FaultEnv::TearNthWrite(uint64_t n) {
  std::lock_guard<std::mutex> l(mu_);
  tear_countdown_ = n;
}

bool FaultEnv::dropping_writes() const {
  std::lock_guard<std::mutex> l(mu_);
  return limit_writes_ && writes_left_ == 0;
}

uint64_t FaultEnv::Count(FaultOp op) const {
  std::lock_guard<std::mutex> l(mu_);
  return ops_[int(op)].seen;
}

uint64_t FaultEnv::dropped_writes() const {
  std::lock_guard<std::mutex> l(mu_);
  return dropped_;
}

uint64_t FaultEnv::injected_failures() const {
  std::lock_guard<std::mutex> l(mu_);
  return injected_;
}

void FaultEnv::ResetCounters() {
  std::lock_guard<std::mutex> l(mu_);
  for (OpState& o : ops_) o.seen = 0;
  dropped_ = 0;
  injected_ = 0;
}

absl::Status FaultEnv::Before(FaultOp op, const std::string& path) {
  std::lock_guard<std::mutex> l(mu_);
  OpState& o = ops_[int(op)];
  ++o.seen;
  bool fail = o.fail_all;
  if (o.countdown > 0 && --o.countdown == 0) fail = true;
  if (!fail) return absl::OkStatus();
  ++injected_;
  return absl::InternalError(absl::StrFormat("fault_env: injected %s failure (%s)",
                                             FaultOpName(op), path));
}

size_t FaultEnv::BytesToPersist(size_t n) {
  std::lock_guard<std::mutex> l(mu_);
  if (drop_countdown_ > 0 && --drop_countdown_ == 0) {
    ++dropped_;
    return 0;
  }
  if (tear_countdown_ > 0 && --tear_countdown_ == 0) return n / 2;
  if (!limit_writes_) return n;
  if (writes_left_ > 0) {
    --writes_left_;
    return n;
  }
  ++dropped_;
  return 0;
}

}  // namespace revkv::btree
