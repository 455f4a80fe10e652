#include "raft/proposer.h"

#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "server/errors.h"

namespace revkv::cluster {
// One proposal: raft's request, and the answer its caller waits for (or
// the callback it is answered through).
struct RaftProposer::Call {
  struct raft_apply req {};
  std::string entry;
  // Holds the call while raft holds `req` (the loop thread's).
  std::shared_ptr<Call> self;

  // ProposeAsync's caller: answered through it instead, with the index
  // (set before the call is posted, then only Finish touches it).
  RaftProposer::DoneAt on_done;

  util::Mutex mu;
  util::CondVar cv;
  bool done ABSL_GUARDED_BY(mu) = false;
  uint64_t index ABSL_GUARDED_BY(mu) = 0;  // raft's, once raft_apply took it
  absl::StatusOr<server::ApplyResult> result ABSL_GUARDED_BY(mu) =
      absl::UnknownError("raft: unanswered");

  void Finish(absl::StatusOr<server::ApplyResult> r) ABSL_LOCKS_EXCLUDED(mu) {
    if (on_done) {
      // On the loop thread, after raft_apply set the index (or before
      // raft took the entry: 0); nothing else writes it then.
      uint64_t at = 0;
      {
        util::MutexLock l(mu);
        at = index;
      }
      std::move(on_done)(std::move(r), at);
      return;
    }
    util::MutexLock l(mu);
    result = std::move(r);
    done = true;
    cv.NotifyAll();
  }
};

namespace {

using Call = RaftProposer::Call;

absl::Status FromRaft(int rv) {
  switch (rv) {
    case RAFT_NOTLEADER:
      return server::ErrNotLeader();
    case RAFT_LEADERSHIPLOST:
      return server::ErrLeaderChanged();
    case RAFT_SHUTDOWN:
      return server::ErrStopped();
    default:
      return absl::InternalError(absl::StrCat("raft: ", raft_strerror(rv)));
  }
}

// raft's callback, on the loop thread, right after the Fsm applied the
// entry (status 0) or when raft gave it up.
void OnApplied(struct raft_apply* req, int status, void* result) {
  Call* call = static_cast<Call*>(req->data);
  std::shared_ptr<Call> keep = std::move(call->self);
  call->Finish(status == 0 ? Fsm::TakeResult(result) : FromRaft(status));
}

}  // namespace

absl::StatusOr<server::ApplyResult> RaftProposer::Propose(revkvpb::InternalRequest req,
                                                          uint64_t* index) {
  if (index != nullptr) *index = 0;
  auto call = std::make_shared<Call>();
  if (absl::Status s = Submit(call, std::move(req)); !s.ok()) return s;
  util::MutexLock l(call->mu);
  // Answered by OnApplied, or by raft_close failing what raft holds.
  while (!call->done) call->cv.Wait(call->mu);
  if (index != nullptr) *index = call->index;
  return std::move(call->result);
}

void RaftProposer::ProposeAsync(revkvpb::InternalRequest req, Done done) {
  ProposeAsync(std::move(req),
               DoneAt([done = std::move(done)](absl::StatusOr<server::ApplyResult> r,
                                               uint64_t) mutable { std::move(done)(std::move(r)); }));
}

void RaftProposer::ProposeAsync(revkvpb::InternalRequest req, DoneAt done) {
  auto call = std::make_shared<Call>();
  call->on_done = std::move(done);
  if (absl::Status s = Submit(call, std::move(req)); !s.ok()) std::move(call->on_done)(s, 0);
}

absl::Status RaftProposer::Submit(const std::shared_ptr<Call>& call, revkvpb::InternalRequest req) {
  {
    util::MutexLock l(mu_);
    // Unique across members (etcd's ids carry the member too).
    req.mutable_header()->set_id((node_->id() << 40) | ++next_id_);
  }
  std::string bytes;
  if (!req.SerializeToString(&bytes)) {
    return absl::InternalError("raft: a request does not serialize");
  }
  // etcd checks the serialized request, header included (not our framing).
  if (int64_t(bytes.size()) > max_request_bytes_) return server::ErrRequestTooLarge();
  call->entry = EncodeEntry(bytes);

  std::optional<revkvpb::MemberChangeRequest> change;
  if (req.has_member_change()) change = req.member_change();
  const bool posted = node_->Post([this, call, change = std::move(change)](raft* r) {
    if (raft_state(r) != RAFT_LEADER) {
      call->Finish(server::ErrNotLeader());
      return;
    }
    if (check_ && change.has_value()) {
      if (absl::Status s = check_(r, *change); !s.ok()) {
        call->Finish(std::move(s));
        return;
      }
    }
    raft_buffer buf;
    buf.len = call->entry.size();
    buf.base = raft_malloc(buf.len);
    if (buf.base == nullptr) {
      call->Finish(absl::ResourceExhaustedError("raft: out of memory"));
      return;
    }
    std::memcpy(buf.base, call->entry.data(), buf.len);
    call->req.data = call.get();
    call->self = call;
    if (int rv = raft_apply(r, &call->req, &buf, 1, &OnApplied); rv != 0) {
      raft_free(buf.base);  // still ours when raft_apply fails
      call->self.reset();
      call->Finish(FromRaft(rv));
      return;
    }
    // raft_apply set the index; the callback runs later on this thread.
    util::MutexLock l(call->mu);
    call->index = call->req.index;
  });
  if (!posted) return server::ErrStopped();
  return absl::OkStatus();
}

}  // namespace revkv::cluster
