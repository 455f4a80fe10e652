#include "server/watch_session.h"

#include <string>
#include <utility>

#include "google/protobuf/io/coded_stream.h"
#include "mvcc/errors.h"
#include "server/convert.h"

namespace revkv::server {
namespace {

void ToProto(mvcc::Event&& e, mvccpb::Event* out) {
  out->set_type(e.type == mvcc::Event::Type::kPut ? mvccpb::Event::PUT : mvccpb::Event::DELETE);
  server::ToProto(e.kv, out->mutable_kv());
  if (e.prev_kv.has_value()) server::ToProto(*e.prev_kv, out->mutable_prev_kv());
}

// Bytes one event adds to a response: tag, length, message.
size_t EventFieldBytes(const mvccpb::Event& e) {
  const size_t n = e.ByteSizeLong();
  return 1 + google::protobuf::io::CodedOutputStream::VarintSize64(n) + n;
}

}  // namespace

std::vector<etcdserverpb::WatchResponse> Fragment(etcdserverpb::WatchResponse&& r,
                                                  int64_t max_bytes) {
  std::vector<etcdserverpb::WatchResponse> out;
  if (int64_t(r.ByteSizeLong()) < max_bytes || r.events_size() < 2) {
    out.push_back(std::move(r));
    return out;
  }
  etcdserverpb::WatchResponse base = r;
  base.clear_events();
  base.set_fragment(true);
  const size_t base_bytes = base.ByteSizeLong();
  const int n = r.events_size();
  for (int i = 0; i < n;) {
    etcdserverpb::WatchResponse cur = base;
    size_t bytes = base_bytes;
    // At least one event each, however big: a single event cannot split.
    while (i < n) {
      const size_t add = EventFieldBytes(r.events(i));
      if (cur.events_size() > 0 && int64_t(bytes + add) >= max_bytes) break;
      cur.add_events()->Swap(r.mutable_events(i));
      bytes += add;
      ++i;
    }
    if (i == n) cur.set_fragment(false);
    out.push_back(std::move(cur));
  }
  return out;
}

WatchSession::WatchSession(revkv::DB* db, const Member* member, int64_t max_request_bytes,
                           WatchTransport* transport)
    : db_(db),
      member_(member),
      max_request_bytes_(max_request_bytes),
      transport_(transport),
      stream_(db->NewWatchStream()) {}

WatchSession::~WatchSession() {
  stream_->Close();
  if (sender_.joinable()) {
    sender_.request_stop();
    sender_.join();
  }
}

void WatchSession::Run() {
  sender_ = std::jthread([this](std::stop_token st) { SendLoop(st); });
  etcdserverpb::WatchRequest req;
  while (!stopped_.load() && transport_->Read(&req)) {
    if (!Handle(req)) break;
    req.Clear();
  }
  // The sender may be blocked in Next or in Write: stop both.
  sender_.request_stop();
  stream_->Close();
  sender_.join();
}

void WatchSession::Stop() {
  stopped_.store(true);
  transport_->Cancel();
  stream_->Close();
}

void WatchSession::Tick() {
  util::MutexLock l(mu_);
  for (auto& [id, quiet] : quiet_) {
    // Only a watcher that sent nothing since the last tick: events carry
    // the revision already.
    if (quiet) stream_->RequestProgress(id).IgnoreError();
    quiet = true;
  }
}

bool WatchSession::Handle(const etcdserverpb::WatchRequest& req) {
  switch (req.request_union_case()) {
    case etcdserverpb::WatchRequest::kCreateRequest:
      return Create(req.create_request());
    case etcdserverpb::WatchRequest::kCancelRequest: {
      const mvcc::WatchId id = req.cancel_request().watch_id();
      util::MutexLock w(write_mu_);
      absl::Status s = stream_->Cancel(id);
      if (mvcc::IsClosed(s)) return false;
      if (!s.ok()) return true;  // unknown id: etcd answers nothing
      {
        util::MutexLock l(mu_);
        quiet_.erase(id);
        fragment_.erase(id);
      }
      etcdserverpb::WatchResponse r;
      member_->Stamp(r.mutable_header(), db_->Rev());
      r.set_watch_id(id);
      r.set_canceled(true);
      return transport_->Write(r);
    }
    case etcdserverpb::WatchRequest::kProgressRequest: {
      // Not tied to a watcher: the client hands it to all of them.
      etcdserverpb::WatchResponse r;
      member_->Stamp(r.mutable_header(), db_->Rev());
      r.set_watch_id(-1);
      util::MutexLock w(write_mu_);
      return transport_->Write(r);
    }
    default:
      return true;  // etcd ignores what it does not know, the stream goes on
  }
}

bool WatchSession::Create(const etcdserverpb::WatchCreateRequest& c) {
  // etcd's forms: no key is "\0" (the smallest key); range_end "\0" is
  // every key >= key (the mvcc stream's form too); none is one key.
  std::string key = c.key().empty() ? std::string(1, '\0') : c.key();
  const std::string& end = c.range_end();
  mvcc::WatchOptions opts;
  opts.prev_kv = c.prev_kv();
  opts.id = c.watch_id();
  for (int f : c.filters()) {
    if (f == etcdserverpb::WatchCreateRequest::NOPUT) opts.no_put = true;
    if (f == etcdserverpb::WatchCreateRequest::NODELETE) opts.no_delete = true;
  }
  util::MutexLock w(write_mu_);
  // The header's revision; the watcher starts right after it unless told,
  // so a client resuming from the header misses nothing.
  const int64_t rev = db_->Rev();
  opts.start_rev = c.start_revision() != 0 ? c.start_revision() : rev + 1;
  etcdserverpb::WatchResponse r;
  member_->Stamp(r.mutable_header(), rev);
  r.set_created(true);
  const bool unbounded = end.size() == 1 && end[0] == '\0';
  absl::StatusOr<mvcc::WatchId> id;
  if (!end.empty() && !unbounded && key >= end) {
    id = absl::InvalidArgumentError(kWatcherRangeEmpty);
  } else {
    id = stream_->Watch(key, end, opts);
  }
  if (!id.ok()) {
    if (mvcc::IsClosed(id.status())) return false;
    r.set_watch_id(-1);
    r.set_canceled(true);
    r.set_cancel_reason(std::string(id.status().message()));
    return transport_->Write(r);
  }
  {
    util::MutexLock l(mu_);
    if (c.progress_notify()) quiet_[*id] = true;
    if (c.fragment()) fragment_.insert(*id);
  }
  r.set_watch_id(*id);
  return transport_->Write(r);
}

void WatchSession::SendLoop(std::stop_token stop) {
  while (std::optional<mvcc::WatchResponse> m = stream_->Next(stop)) {
    etcdserverpb::WatchResponse r;
    member_->Stamp(r.mutable_header(), m->revision);
    r.set_watch_id(m->id);
    r.set_compact_revision(m->compact_revision);
    r.set_canceled(m->canceled);
    for (mvcc::Event& e : m->events) ToProto(std::move(e), r.add_events());
    // write_mu_ first: Create holds it from the watcher's creation until its
    // flags are set, so a response to a watcher just created sees them.
    util::MutexLock w(write_mu_);
    bool fragment;
    {
      util::MutexLock l(mu_);
      fragment = fragment_.contains(m->id);
      if (auto it = quiet_.find(m->id); it != quiet_.end() && !m->events.empty()) {
        it->second = false;  // this response says how far it got
      }
      if (m->canceled) {
        quiet_.erase(m->id);
        fragment_.erase(m->id);
      }
    }
    if (!Send(std::move(r), fragment)) {
      transport_->Cancel();  // the client is gone: end the reader too
      return;
    }
  }
}

bool WatchSession::Send(etcdserverpb::WatchResponse&& r, bool fragment) {
  if (!fragment) return transport_->Write(r);
  for (const etcdserverpb::WatchResponse& part : Fragment(std::move(r), max_request_bytes_)) {
    if (!transport_->Write(part)) return false;
  }
  return true;
}

}  // namespace revkv::server
