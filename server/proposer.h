// Proposer: where a validated write enters the log. Propose serializes the
// request into one entry (revkvpb.InternalRequest), refuses one larger than
// the request limit (etcd: "etcdserver: request is too large"), and returns
// the entry's apply result once the entry is durable and applied.
//
// LocalProposer is step 12's single-member log, etcd's order on one
// member: a log thread takes every entry proposed since its last round,
// appends them to the write-ahead log (wal.h) with one fdatasync (group
// commit: concurrent proposals share it), applies them in index order
// through the Applier, then answers each. The backend commits lazily (its
// own batching); the Applier records each entry's index as the store's
// consistent index, saved in the same backend commit as the entry's writes,
// and Open replays the log entries the backend lacks. A Raft proposer
// (step 13) replaces it: the replicated log takes the WAL's place, and the
// same Applier applies the same entry bytes once committed.
//
// A log write that fails fails every proposal from then on (the log's
// state is unknown; etcd stops).
//
// ProposeAsync answers through a callback instead, so no thread waits for
// the fsync: the gRPC callback service (kv_service.h) keeps hundreds of
// calls in flight on a few threads. LocalProposer's log thread calls each
// proposal's callback itself, one at a time, after the round that applied
// it, and wakes nobody else (a shared condition variable would wake every
// waiting proposer on each round).
//
// Thread-safety: thread-safe (Propose, ProposeAsync from any number of
// threads).
#ifndef REVKV_SERVER_PROPOSER_H_
#define REVKV_SERVER_PROPOSER_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "revkv/db.h"
#include "server/applier.h"
#include "server/proto/raft_internal.pb.h"
#include "server/wal.h"
#include "util/mutex.h"

namespace revkv::server {

class Proposer {
 public:
  // Called exactly once with a proposal's answer.
  using Done = absl::AnyInvocable<void(absl::StatusOr<ApplyResult>) &&>;

  virtual ~Proposer() = default;
  // `req` must have passed validate.h's checks.
  virtual absl::StatusOr<ApplyResult> Propose(revkvpb::InternalRequest req) = 0;
  // Proposes `req` and calls `done` with the answer Propose would return,
  // on any thread, possibly before ProposeAsync returns. `done` must not
  // block or propose. The default calls Propose on the caller's thread.
  virtual void ProposeAsync(revkvpb::InternalRequest req, Done done) {
    std::move(done)(Propose(std::move(req)));
  }
  // Whether ProposeAsync returns without waiting for the answer.
  virtual bool answers_async() const { return false; }
  // The last index appended to the log (etcd's raft index).
  virtual uint64_t last_index() const = 0;
};

class LocalProposer : public Proposer {
 public:
  // Opens the log in `wal_dir`, applies the entries it holds past the
  // applier's index (those a crash kept from the backend), and starts the
  // log thread. Neither `db` nor `applier` is owned; both must outlive the
  // proposer. Entries bigger than max_request_bytes are refused.
  static absl::StatusOr<std::unique_ptr<LocalProposer>> Open(revkv::DB* db, Applier* applier,
                                                             const std::string& wal_dir,
                                                             int64_t max_request_bytes,
                                                             const WalOptions& wal_options = {});
  // Answers the proposals queued, then stops the log thread.
  ~LocalProposer() override;

  absl::StatusOr<ApplyResult> Propose(revkvpb::InternalRequest req) override;
  // `done` runs on the log thread (or on the caller's, for a proposal
  // refused before it was queued).
  void ProposeAsync(revkvpb::InternalRequest req, Done done) override;
  bool answers_async() const override { return true; }
  uint64_t last_index() const override;
  // How many log entries Open applied (those the backend lacked).
  uint64_t replayed() const { return replayed_; }

 private:
  struct Pending {
    uint64_t index = 0;
    std::string entry;
    absl::StatusOr<ApplyResult> result;
    Done done;
  };
  LocalProposer(revkv::DB* db, Applier* applier, std::unique_ptr<Wal> wal,
                int64_t max_request_bytes);
  void Loop() ABSL_LOCKS_EXCLUDED(mu_);
  // Logs, syncs and applies `batch` (index order); fills their results.
  void Round(const std::deque<std::unique_ptr<Pending>>& batch) ABSL_LOCKS_EXCLUDED(mu_);

  revkv::DB* db_;
  Applier* applier_;
  const int64_t max_request_bytes_;
  std::unique_ptr<Wal> wal_;  // the log thread's alone
  uint64_t replayed_ = 0;     // set by Open

  // util::Mutex (std::mutex), not absl::Mutex: TSan sees through it.
  // A leaf: nothing is called while it is held.
  mutable util::Mutex mu_;
  util::CondVar work_;  // the log thread: proposals queued, or stopping
  std::deque<std::unique_ptr<Pending>> queue_ ABSL_GUARDED_BY(mu_);
  uint64_t last_index_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status failed_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace revkv::server

#endif  // REVKV_SERVER_PROPOSER_H_
