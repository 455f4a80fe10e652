#include "server/proposer.h"

#include <string>

#include "server/errors.h"

namespace revkv::server {

LocalProposer::LocalProposer(revkv::DB* db, Applier* applier, int64_t max_request_bytes)
    : db_(db),
      applier_(applier),
      max_request_bytes_(max_request_bytes),
      last_index_(applier->applied_index()) {}

uint64_t LocalProposer::last_index() const {
  util::MutexLock l(mu_);
  return last_index_;
}

absl::StatusOr<ApplyResult> LocalProposer::Propose(revkvpb::InternalRequest req) {
  absl::StatusOr<ApplyResult> result;
  {
    util::MutexLock l(mu_);
    req.mutable_header()->set_id(next_id_++);
    std::string entry;
    if (!req.SerializeToString(&entry)) {
      return absl::InternalError("server: a request does not serialize");
    }
    // etcd checks the size of the serialized entry, header included.
    if (int64_t(entry.size()) > max_request_bytes_) return ErrRequestTooLarge();
    const uint64_t index = last_index_ + 1;
    result = applier_->Apply(index, entry);
    last_index_ = index;
  }
  // The entry's durability is the acknowledgement point: concurrent
  // proposers' Syncs share one commit.
  if (absl::Status s = db_->Sync(); !s.ok()) return s;
  return result;
}

}  // namespace revkv::server
