#include "backend/backend.h"

#include <stdlib.h>

#include <filesystem>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace revkv::backend {

Backend::Backend(const BackendConfig& config)
    : config_(config),
      batch_(new BatchTx(this)),
      open_reads_(std::make_shared<std::atomic<int64_t>>(0)) {}

btree::Options Backend::BtreeOptions() const {
  btree::Options o;
  o.page_size = config_.page_size;
  o.create_if_missing = !config_.read_only;
  o.read_only = config_.read_only;
  o.no_sync = config_.no_sync;
  o.allow_rollback = config_.allow_rollback;
  o.initial_mmap_size = config_.initial_mmap_size;
  o.env = config_.env;
  return o;
}

absl::StatusOr<std::unique_ptr<Backend>> Backend::Open(const BackendConfig& config) {
  if (config.path.empty()) return absl::InvalidArgumentError("backend: empty path");
  std::unique_ptr<Backend> b(new Backend(config));
  // A defrag that crashed before its rename left an incomplete copy.
  const std::string tmp = config.path + ".defrag";
  if (!config.read_only && b->env()->FileExists(tmp)) {
    if (absl::Status s = b->env()->RemoveFile(tmp); !s.ok()) return s;
  }
  absl::StatusOr<std::unique_ptr<btree::DB>> db = btree::DB::Open(config.path, b->BtreeOptions());
  if (!db.ok()) return db.status();
  b->open_note_ = (*db)->open_note();
  {
    util::AdaptiveMutexLock l(b->view_mu_);  // no other thread has b yet
    b->db_ = std::shared_ptr<btree::DB>(std::move(*db));
  }
  if (config.batch_interval.count() > 0 && !config.read_only) {
    b->batch_->StartCommitter();
    b->committer_ = std::thread([p = b.get()] {
      p->batch_->CommitterLoop(p->config_.batch_interval);
    });
  }
  return b;
}

Backend::~Backend() {
  Close().IgnoreError();
  if (!owned_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(owned_dir_, ec);
  }
}

void Backend::Publish(WriteBuffer* buffer) {
  const bool recording = recording_.load(std::memory_order_acquire);
  SegmentStack base;
  {
    util::AdaptiveMutexLock l(view_mu_);
    if (batch_->failed_.load(std::memory_order_acquire)) {
      buffer->Clear();  // its batch will never commit
      return;
    }
    // The cheap path: grow the newest segment in place while no reader has
    // it. (While defrag records, every write must reach its log.)
    Segment* top = recording ? nullptr : read_buffer_.MutableTop();
    if (top != nullptr && buffer->AbsorbInto(top)) return;
    base = read_buffer_;
  }
  std::shared_ptr<const Segment> segment = buffer->Freeze();
  // The push, and the merges it brings (up to half the buffered writes),
  // are computed on a copy of the stack outside view_mu_, so that views
  // never wait for a merge. Only this writer pushes; if the committer sealed
  // or dropped segments meanwhile, the push is done again under the lock.
  SegmentStack next = base;
  next.Push(segment);
  {
    util::AdaptiveMutexLock l(view_mu_);
    if (batch_->failed_.load(std::memory_order_acquire)) return;
    if (!read_buffer_.ReplaceIfUnchanged(base, &next)) read_buffer_.Push(segment);
    // The defrag log holds this very segment: it must never change.
    if (recording) segment->shared = true;
  }
  util::MutexLock l(log_mu_);
  if (recording) defrag_log_.Push(std::move(segment));
}

std::vector<std::shared_ptr<const Segment>> Backend::SealReadBuffer() {
  util::AdaptiveMutexLock l(view_mu_);
  return read_buffer_.Seal();
}

absl::Status Backend::WriterSnapshot(
    std::shared_ptr<SharedReadTx>* snapshot,
    std::shared_ptr<const std::vector<std::shared_ptr<const Segment>>>* segments) {
  util::AdaptiveMutexLock l(view_mu_);
  if (absl::Status s = EnsureSharedRead(); !s.ok()) return s;
  *snapshot = shared_read_;
  *segments = read_buffer_.shared_segments();
  return absl::OkStatus();
}

void Backend::DropCommitted(size_t n) {
  std::shared_ptr<SharedReadTx> old_read;
  SegmentStack old;  // what no view holds is freed after the lock
  util::AdaptiveMutexLock l(view_mu_);
  old = read_buffer_;
  read_buffer_.DropSealed(n);
  std::swap(old_read, shared_read_);
}

std::shared_ptr<btree::DB> Backend::CurrentDb() {
  util::AdaptiveMutexLock l(view_mu_);
  return db_;
}

void Backend::FailReadBuffer(std::atomic<bool>* failed) {
  SegmentStack old;
  std::shared_ptr<SharedReadTx> old_read;
  {
    util::AdaptiveMutexLock l(view_mu_);
    std::swap(old, read_buffer_);
    std::swap(old_read, shared_read_);
    failed->store(true, std::memory_order_release);
  }
  // What no view holds is freed here, outside the lock.
}

absl::Status Backend::EnsureSharedRead() {
  if (db_ == nullptr) return absl::FailedPreconditionError("backend: closed");
  if (shared_read_ != nullptr) return absl::OkStatus();
  // The snapshot of the last commit, which the read buffer overlays (or,
  // between a commit and its DropCommitted, a newer one that already holds
  // the batch's writes: the merge reads the same).
  absl::StatusOr<std::unique_ptr<btree::Tx>> tx = db_->Begin(false);
  if (!tx.ok()) return tx.status();
  shared_read_ = std::make_shared<SharedReadTx>(db_, *std::move(tx));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ConcurrentReadTx>> Backend::NewConcurrentReadTx() {
  // Only pointers are copied under view_mu_; the view is built after it.
  std::shared_ptr<SharedReadTx> tx;
  std::shared_ptr<const std::vector<std::shared_ptr<const Segment>>> segments;
  {
    util::AdaptiveMutexLock l(view_mu_);
    if (absl::Status s = EnsureSharedRead(); !s.ok()) return s;
    read_buffer_.MarkShared();  // the view holds them now: they must not change
    tx = shared_read_;
    segments = read_buffer_.shared_segments();
  }
  return std::unique_ptr<ConcurrentReadTx>(
      new ConcurrentReadTx(std::move(tx), std::move(segments), open_reads_));
}

absl::StatusOr<std::unique_ptr<Snapshot>> Backend::NewSnapshot() {
  util::MutexLock l(batch_->mu_);
  if (absl::Status s = batch_->CheckWritable(); !s.ok()) return s;
  if (absl::Status s = batch_->SyncLocked(); !s.ok()) return s;
  // The BatchTx lock keeps the file from changing (Defrag swaps it under it).
  std::shared_ptr<btree::DB> db = CurrentDb();
  absl::StatusOr<std::unique_ptr<btree::Tx>> tx = db->Begin(false);
  if (!tx.ok()) return tx.status();
  return std::unique_ptr<Snapshot>(new Snapshot(std::move(db), *std::move(tx)));
}

uint64_t Backend::Size() {
  util::AdaptiveMutexLock l(view_mu_);
  return db_ != nullptr ? db_->HighWaterBytes() : 0;
}

absl::StatusOr<DbSizes> Backend::Sizes() {
  std::shared_ptr<btree::DB> db = CurrentDb();
  if (db == nullptr) return absl::FailedPreconditionError("backend: closed");
  const btree::SpaceUsage u = db->Space();
  return DbSizes{.size = u.high_water_bytes, .in_use = u.in_use_bytes};
}

uint64_t Backend::FileSize() {
  std::shared_ptr<btree::DB> db = CurrentDb();  // the fstat runs outside view_mu_
  return db != nullptr ? db->FileSize() : 0;
}

btree::txid_t Backend::LastTxid() {
  util::AdaptiveMutexLock l(view_mu_);
  return db_ != nullptr ? db_->LastTxid() : 0;
}

absl::Status Backend::ForceCommit() { return batch_->Commit(); }

absl::Status Backend::Close() {
  util::MutexLock cl(close_mu_);
  if (closed_) return absl::OkStatus();
  closed_ = true;
  // The committer commits what is queued, then stops; the final commit
  // below runs here.
  batch_->StopCommitter();
  if (committer_.joinable()) committer_.join();
  util::MutexLock dl(defrag_mu_);
  absl::Status s = batch_->CommitAndStop();
  util::MutexLock bl(batch_->mu_);
  std::shared_ptr<SharedReadTx> old_read;  // freed after view_mu_
  {
    util::AdaptiveMutexLock vl(view_mu_);
    db_.reset();  // open views keep their own reference
    read_buffer_.Clear();
    std::swap(old_read, shared_read_);
  }
  return s;
}

absl::StatusOr<std::unique_ptr<Backend>> NewDefaultBackend(const std::string& path) {
  BackendConfig config = DefaultBackendConfig();
  config.path = path;
  return Backend::Open(config);
}

absl::StatusOr<std::unique_ptr<Backend>> NewTmpBackend(BackendConfig config) {
  std::string base;
  for (const char* var : {"TEST_TMPDIR", "TMPDIR"}) {
    if (const char* v = getenv(var); v != nullptr && *v != '\0') {
      base = v;
      break;
    }
  }
  if (base.empty()) base = "/tmp";
  std::string tmpl = base + "/revkv_backend_XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("backend: mkdtemp under ", base, " failed"));
  }
  std::string dir = buf.data();
  config.path = dir + "/db";
  absl::StatusOr<std::unique_ptr<Backend>> b = Backend::Open(config);
  if (!b.ok()) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    return b.status();
  }
  (*b)->owned_dir_ = dir;
  return b;
}

}  // namespace revkv::backend
