#include "raft/proposer.h"

#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
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
  if (req.has_member_change()) return SubmitChange(call, req.member_change());

  bool post;
  {
    util::MutexLock l(mu_);
    queue_.push_back(call);
    post = !drain_posted_;
    drain_posted_ = true;
  }
  if (post && !node_->Post([this](raft* r) { Drain(r); })) {
    // Stopping: nothing will drain the queue, so answer it here (this
    // call included: it is answered, not refused).
    std::vector<std::shared_ptr<Call>> left;
    {
      util::MutexLock l(mu_);
      left.swap(queue_);
      drain_posted_ = false;
    }
    for (const std::shared_ptr<Call>& c : left) c->Finish(server::ErrStopped());
  }
  return absl::OkStatus();
}

void RaftProposer::Drain(raft* r) {
  std::vector<std::shared_ptr<Call>> calls;
  {
    util::MutexLock l(mu_);
    calls.swap(queue_);
    drain_posted_ = false;
  }
  size_t begin = 0;
  while (begin < calls.size()) {
    // One raft_apply per batch of at most kMaxBatchEntries entries and
    // kMaxBatchBytes bytes (one at least): one log write and one
    // AppendEntries per follower for the lot.
    size_t end = begin, bytes = 0;
    while (end < calls.size() && end - begin < kMaxBatchEntries &&
           (end == begin || bytes + calls[end]->entry.size() <= kMaxBatchBytes)) {
      bytes += calls[end]->entry.size();
      ++end;
    }
    AppendBatch(r, absl::MakeSpan(calls).subspan(begin, end - begin));
    begin = end;
  }
  batches_.fetch_add(calls.empty() ? 0 : 1, std::memory_order_relaxed);
}

// A batch raft holds: raft's request (answered for the first entry only)
// and the calls, each awaited at its own index in the Fsm.
struct RaftProposer::Batch {
  struct raft_apply req {};
  Fsm* fsm = nullptr;
  std::vector<std::shared_ptr<Call>> calls;
};

void RaftProposer::AppendBatch(raft* r, absl::Span<const std::shared_ptr<Call>> calls) {
  if (raft_state(r) != RAFT_LEADER) {
    for (const std::shared_ptr<Call>& c : calls) c->Finish(server::ErrNotLeader());
    return;
  }
  std::vector<raft_buffer> bufs(calls.size());
  for (size_t i = 0; i < calls.size(); ++i) {
    bufs[i].len = calls[i]->entry.size();
    bufs[i].base = raft_malloc(bufs[i].len);
    if (bufs[i].base == nullptr) {
      for (size_t j = 0; j < i; ++j) raft_free(bufs[j].base);
      for (const std::shared_ptr<Call>& c : calls) {
        c->Finish(absl::ResourceExhaustedError("raft: out of memory"));
      }
      return;
    }
    std::memcpy(bufs[i].base, calls[i]->entry.data(), bufs[i].len);
  }
  auto batch = std::make_unique<Batch>();
  batch->fsm = node_->fsm();
  batch->calls.assign(calls.begin(), calls.end());
  batch->req.data = batch.get();
  // Awaited before raft holds them: an entry is applied only after its
  // log write, on a later turn of this loop, but the order costs nothing.
  const uint64_t first = raft_last_index(r) + 1;
  for (size_t i = 0; i < calls.size(); ++i) {
    Call* c = calls[i].get();
    {
      util::MutexLock l(c->mu);
      c->index = first + i;
    }
    batch->fsm->Await(first + i, c->entry, c,
                      [keep = calls[i]](absl::StatusOr<server::ApplyResult> result) {
                        keep->Finish(std::move(result));
                      });
  }
  auto on_batch = [](struct raft_apply* req, int status, void*) {
    std::unique_ptr<Batch> b(static_cast<Batch*>(req->data));
    if (status == 0) return;  // the first entry was applied: the Fsm answered it
    // raft gave the batch up (leadership lost, shutdown): answer those of
    // its entries not applied yet.
    for (size_t i = 0; i < b->calls.size(); ++i) {
      b->fsm->Cancel(req->index + i, b->calls[i].get(), FromRaft(status));
    }
  };
  const int rv = raft_apply(r, &batch->req, bufs.data(), unsigned(bufs.size()), on_batch);
  if (rv != 0) {
    for (raft_buffer& b : bufs) raft_free(b.base);  // still ours when raft_apply fails
    for (size_t i = 0; i < calls.size(); ++i) {
      {
        util::MutexLock l(calls[i]->mu);
        calls[i]->index = 0;
      }
      batch->fsm->Cancel(first + i, calls[i].get(), FromRaft(rv));
    }
    return;
  }
  entries_.fetch_add(calls.size(), std::memory_order_relaxed);
  batch.release();  // raft's until on_batch
}

absl::Status RaftProposer::SubmitChange(const std::shared_ptr<Call>& call,
                                        revkvpb::MemberChangeRequest change) {
  const bool posted = node_->Post([this, call, change = std::move(change)](raft* r) {
    if (raft_state(r) != RAFT_LEADER) {
      call->Finish(server::ErrNotLeader());
      return;
    }
    if (check_) {
      if (absl::Status s = check_(r, change); !s.ok()) {
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
