#include "server/proposer.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/errors.h"

namespace revkv::server {

absl::StatusOr<std::unique_ptr<LocalProposer>> LocalProposer::Open(
    revkv::DB* db, Applier* applier, const std::string& wal_dir, int64_t max_request_bytes,
    const WalOptions& wal_options) {
  std::vector<WalEntry> unapplied;
  absl::StatusOr<std::unique_ptr<Wal>> wal =
      Wal::Open(wal_dir, applier->applied_index(), &unapplied, wal_options);
  if (!wal.ok()) return wal.status();
  for (const WalEntry& e : unapplied) {
    // The answers went (or never went) to clients before the crash; only
    // the effects matter now. A damaged entry stops the start (a write
    // refused under the CORRUPT alarm is DataLoss too, but only an answer).
    absl::StatusOr<ApplyResult> r = applier->Apply(e.index, e.data);
    if (!r.ok() && r.status().code() == absl::StatusCode::kDataLoss &&
        !IsEtcdError(r.status(), "corrupt")) {
      return r.status();
    }
  }
  std::unique_ptr<LocalProposer> p(
      new LocalProposer(db, applier, std::move(*wal), max_request_bytes));
  p->replayed_ = unapplied.size();
  p->thread_ = std::thread([raw = p.get()] { raw->Loop(); });
  return p;
}

LocalProposer::LocalProposer(revkv::DB* db, Applier* applier, std::unique_ptr<Wal> wal,
                             int64_t max_request_bytes)
    : db_(db),
      applier_(applier),
      max_request_bytes_(max_request_bytes),
      wal_(std::move(wal)),
      last_index_(wal_->last_index()) {}

LocalProposer::~LocalProposer() {
  {
    util::MutexLock l(mu_);
    stopping_ = true;
  }
  work_.NotifyAll();
  if (thread_.joinable()) thread_.join();
}

uint64_t LocalProposer::last_index() const {
  util::MutexLock l(mu_);
  return last_index_;
}

absl::StatusOr<ApplyResult> LocalProposer::Propose(revkvpb::InternalRequest req) {
  // The caller's own mutex and condition variable: the log thread wakes
  // this caller alone.
  struct Waiter {
    util::Mutex mu;
    util::CondVar cv;
    std::optional<absl::StatusOr<ApplyResult>> result ABSL_GUARDED_BY(mu);
  } w;
  ProposeAsync(std::move(req), [&w](absl::StatusOr<ApplyResult> r) {
    util::MutexLock l(w.mu);
    w.result = std::move(r);
    w.cv.NotifyOne();  // under w.mu: once it is released, w may be gone
  });
  util::MutexLock l(w.mu);
  while (!w.result.has_value()) w.cv.Wait(w.mu);
  return std::move(*w.result);
}

void LocalProposer::ProposeAsync(revkvpb::InternalRequest req, Done done) {
  auto p = std::make_unique<Pending>();
  {
    util::MutexLock l(mu_);
    absl::Status refused = failed_;
    if (refused.ok() && stopping_) refused = absl::UnavailableError("server: stopping");
    req.mutable_header()->set_id(next_id_++);
    if (refused.ok() && !req.SerializeToString(&p->entry)) {
      refused = absl::InternalError("server: a request does not serialize");
    }
    // etcd checks the size of the serialized entry, header included.
    if (refused.ok() && int64_t(p->entry.size()) > max_request_bytes_) {
      refused = ErrRequestTooLarge();
    }
    if (refused.ok()) {
      p->index = ++last_index_;
      p->done = std::move(done);
      queue_.push_back(std::move(p));
    } else {
      p->result = std::move(refused);
    }
  }
  if (p != nullptr) {
    std::move(done)(std::move(p->result));
    return;
  }
  work_.NotifyOne();
}

void LocalProposer::Loop() {
  for (;;) {
    std::deque<std::unique_ptr<Pending>> batch;
    {
      util::MutexLock l(mu_);
      while (queue_.empty() && !stopping_) work_.Wait(mu_);
      if (queue_.empty()) return;  // stopping, and every proposal answered
      batch.swap(queue_);
    }
    Round(batch);
    for (std::unique_ptr<Pending>& p : batch) std::move(p->done)(std::move(p->result));
  }
}

void LocalProposer::Round(const std::deque<std::unique_ptr<Pending>>& batch) {
  absl::Status logged;
  for (const std::unique_ptr<Pending>& p : batch) {
    if (logged = wal_->Append(p->index, p->entry); !logged.ok()) break;
  }
  if (logged.ok()) logged = wal_->Sync();
  if (!logged.ok()) {
    util::MutexLock l(mu_);
    if (failed_.ok()) failed_ = logged;
    for (const std::unique_ptr<Pending>& p : batch) p->result = failed_;
    return;
  }
  for (const std::unique_ptr<Pending>& p : batch) p->result = applier_->Apply(p->index, p->entry);
  if (wal_->segment_count() > 1) {
    // Segments the backend holds entirely are no longer needed.
    if (absl::Status s = wal_->Release(uint64_t(db_->store()->SavedConsistentIndex())); !s.ok()) {
      util::MutexLock l(mu_);
      if (failed_.ok()) failed_ = s;
    }
  }
}

}  // namespace revkv::server
