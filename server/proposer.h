// Proposer: where a validated write enters the log. Propose serializes the
// request into one entry (revkvpb.InternalRequest), refuses one larger than
// the request limit (etcd: "etcdserver: request is too large"), and returns
// the entry's apply result once the entry is durable.
//
// LocalProposer is step 12's single-member log: it assigns the next index,
// applies the entry at once through the Applier (entries apply in index
// order), then makes it durable with DB::Sync() before answering --
// concurrent proposals share one commit (the DB's group commit). A Raft
// proposer (step 13) replaces it: it appends the same entry bytes to the
// replicated log, and the same Applier applies them once committed.
//
// Thread-safety: thread-safe (Propose from any number of threads).
#ifndef REVKV_SERVER_PROPOSER_H_
#define REVKV_SERVER_PROPOSER_H_

#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "revkv/db.h"
#include "server/applier.h"
#include "server/proto/raft_internal.pb.h"
#include "util/mutex.h"

namespace revkv::server {

class Proposer {
 public:
  virtual ~Proposer() = default;
  // `req` must have passed validate.h's checks.
  virtual absl::StatusOr<ApplyResult> Propose(revkvpb::InternalRequest req) = 0;
  // The last index appended to the log (etcd's raft index).
  virtual uint64_t last_index() const = 0;
};

class LocalProposer : public Proposer {
 public:
  // Neither is owned; both must outlive the proposer. Entries bigger than
  // max_request_bytes are refused.
  LocalProposer(revkv::DB* db, Applier* applier, int64_t max_request_bytes);

  absl::StatusOr<ApplyResult> Propose(revkvpb::InternalRequest req) override;
  uint64_t last_index() const override;

 private:
  revkv::DB* db_;
  Applier* applier_;
  const int64_t max_request_bytes_;
  // Held while an entry gets its index and is applied, so entries apply in
  // index order; released before the Sync so that proposals behind it apply
  // and share the commit.
  // util::Mutex (std::mutex), not absl::Mutex: TSan sees through it.
  mutable util::Mutex mu_;
  uint64_t last_index_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace revkv::server

#endif  // REVKV_SERVER_PROPOSER_H_
