#include "server/proposer.h"

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
  Pending p;
  {
    util::MutexLock l(mu_);
    if (!failed_.ok()) return failed_;
    if (stopping_) return absl::UnavailableError("server: stopping");
    req.mutable_header()->set_id(next_id_++);
    if (!req.SerializeToString(&p.entry)) {
      return absl::InternalError("server: a request does not serialize");
    }
    // etcd checks the size of the serialized entry, header included.
    if (int64_t(p.entry.size()) > max_request_bytes_) return ErrRequestTooLarge();
    p.index = ++last_index_;
    queue_.push_back(&p);
  }
  work_.NotifyOne();
  util::MutexLock l(mu_);
  while (!p.done) done_.Wait(mu_);
  return std::move(p.result);
}

void LocalProposer::Loop() {
  for (;;) {
    std::deque<Pending*> batch;
    {
      util::MutexLock l(mu_);
      while (queue_.empty() && !stopping_) work_.Wait(mu_);
      if (queue_.empty()) return;  // stopping, and every proposal answered
      batch.swap(queue_);
    }
    Round(batch);
    {
      util::MutexLock l(mu_);
      for (Pending* p : batch) p->done = true;
    }
    done_.NotifyAll();
  }
}

void LocalProposer::Round(const std::deque<Pending*>& batch) {
  absl::Status logged;
  for (Pending* p : batch) {
    if (logged = wal_->Append(p->index, p->entry); !logged.ok()) break;
  }
  if (logged.ok()) logged = wal_->Sync();
  if (!logged.ok()) {
    util::MutexLock l(mu_);
    if (failed_.ok()) failed_ = logged;
    for (Pending* p : batch) p->result = failed_;
    return;
  }
  for (Pending* p : batch) p->result = applier_->Apply(p->index, p->entry);
  if (wal_->segment_count() > 1) {
    // Segments the backend holds entirely are no longer needed.
    if (absl::Status s = wal_->Release(uint64_t(db_->store()->SavedConsistentIndex())); !s.ok()) {
      util::MutexLock l(mu_);
      if (failed_.ok()) failed_ = s;
    }
  }
}

}  // namespace revkv::server
