// WatchStream: watch registration and the consumer's side of the queue.
#include "mvcc/watch_stream.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <utility>

#include "mvcc/errors.h"
#include "mvcc/watchable_store.h"

namespace revkv::mvcc {
namespace {

bool IsUnboundedEnd(std::string_view end) { return end.size() == 1 && end[0] == '\0'; }

}  // namespace

WatchStream::WatchStream(std::shared_ptr<WatchableStore> owner)
    : keep_(std::move(owner)), ws_(keep_.get()) {}

WatchStream::~WatchStream() { Close(); }

absl::StatusOr<WatchId> WatchStream::Watch(std::string_view key, std::string_view end,
                                           const WatchOptions& opts) {
  if (key.empty()) return absl::InvalidArgumentError(kEmptyKeyMessage);
  const bool unbounded = IsUnboundedEnd(end);
  if (!end.empty() && !unbounded && end <= key) {
    return absl::InvalidArgumentError("mvcc: watch range end must be greater than its key");
  }
  if (opts.start_rev < 0) {
    return absl::InvalidArgumentError("mvcc: watch start revision must not be negative");
  }
  auto w = std::make_unique<Watcher>();
  w->key = CompactKey(key);
  if (!unbounded) w->end = std::string(end);
  w->unbounded = unbounded;
  w->no_put = opts.no_put;
  w->no_delete = opts.no_delete;
  w->prev_kv = opts.prev_kv;
  w->stream = this;
  util::MutexLock l(ws_->mu_);
  if (detached_) return ErrClosed();
  if (opts.id != kAutoWatchId) {
    if (watchers_.contains(opts.id)) {
      return absl::AlreadyExistsError("mvcc: duplicate watch ID provided on the WatchStream");
    }
    w->id = opts.id;
  } else {
    // Skips ids a client chose.
    while (watchers_.contains(next_id_)) ++next_id_;
    w->id = next_id_++;
  }
  Watcher* p = w.get();
  watchers_.emplace(p->id, std::move(w));
  ws_->AddLocked(p, opts.start_rev);
  return p->id;
}

absl::Status WatchStream::Cancel(WatchId id) {
  util::MutexLock l(ws_->mu_);
  if (detached_) return ErrClosed();
  auto it = watchers_.find(id);
  if (it == watchers_.end()) return absl::NotFoundError("mvcc: no such watch id");
  ws_->DestroyLocked(it->second.get());
  return absl::OkStatus();
}

absl::Status WatchStream::RequestProgress(WatchId id) {
  util::MutexLock l(ws_->mu_);
  if (detached_) return ErrClosed();
  auto it = watchers_.find(id);
  if (it == watchers_.end()) return absl::NotFoundError("mvcc: no such watch id");
  const Watcher* w = it->second.get();
  if (w->state != Watcher::State::kSynced) return absl::OkStatus();
  WatchResponse r{id, ws_->ProgressRevLocked(w), 0, false, {}};
  TryPush(std::move(r), false);  // full: responses on their way say as much
  return absl::OkStatus();
}

bool WatchStream::TryPush(WatchResponse&& r, bool prev_kv) {
  bool wake;
  {
    util::MutexLock l(mu_);
    if (closed_) return true;
    const size_t cap = ws_->options_.stream_queue;
    if (queue_.size() >= cap) return false;
    queue_.push_back(Queued{std::move(r), prev_kv});
    // A consumer waits only on an empty queue (and rechecks under mu_), so
    // only the first push wakes a waiting one; a lingering one only once
    // the queue is half full: the writer pays one wake-up per batch the
    // consumer takes, not one per response.
    wake = (waiting_ > 0 && queue_.size() == 1) ||
           (lingering_ > 0 && queue_.size() == std::max<size_t>(1, cap / 2));
  }
  if (wake) cv_.NotifyOne();
  return true;
}

void WatchStream::Shut() {
  {
    util::MutexLock l(mu_);
    closed_ = true;
    queue_.clear();
  }
  cv_.NotifyAll();
}

void WatchStream::Close() {
  {
    util::MutexLock l(ws_->mu_);
    if (!detached_) {
      detached_ = true;
      for (auto& [id, w] : watchers_) ws_->RemoveLocked(w.get());
      watchers_.clear();
      victim_order_.clear();
      ws_->streams_.erase(this);
      ws_->victim_streams_.erase(this);
    }
  }
  Shut();
}

bool WatchStream::AwaitLocked(const std::stop_token& stop) {
  const auto linger = ws_->options_.consumer_linger;
  while (!closed_ && queue_.empty() && !stop.stop_requested()) {
    if (hot_ && linger.count() > 0) {
      ++lingering_;
      cv_.WaitUntil(mu_, std::chrono::steady_clock::now() + linger);
      --lingering_;
      if (queue_.empty()) hot_ = false;  // nothing came: pushes wake it
    } else {
      ++waiting_;
      cv_.Wait(mu_);
      --waiting_;
    }
  }
  if (closed_ || queue_.empty()) return false;
  hot_ = true;
  return true;
}

std::optional<WatchResponse> WatchStream::Next(std::stop_token stop) {
  size_t left;
  std::stop_callback wake(stop, [this] {
    { util::MutexLock l(mu_); }  // the waiter is waiting or sees the stop
    cv_.NotifyAll();
  });
  Queued q;
  {
    util::MutexLock l(mu_);
    if (!AwaitLocked(stop)) return std::nullopt;
    q = std::move(queue_.front());
    queue_.pop_front();
    left = queue_.size();
  }
  // Pushes wake one consumer per batch: pass the wake-up on to another.
  if (left > 0) cv_.NotifyOne();
  return Finish(std::move(q), left);
}

std::vector<WatchResponse> WatchStream::NextBatch(size_t max, std::stop_token stop) {
  std::stop_callback wake(stop, [this] {
    { util::MutexLock l(mu_); }
    cv_.NotifyAll();
  });
  std::deque<Queued> taken;
  size_t left;
  {
    util::MutexLock l(mu_);
    if (!AwaitLocked(stop)) return {};
    const size_t n = std::min(std::max<size_t>(max, 1), queue_.size());
    if (n == queue_.size()) {
      // All of it: a writer's push then waits for a swap at most, never
      // long enough to sleep on mu_.
      taken.swap(queue_);
    } else {
      for (size_t i = 0; i < n; ++i) {
        taken.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    left = queue_.size();
  }
  if (left > 0) cv_.NotifyOne();
  std::vector<WatchResponse> out;
  out.reserve(taken.size());
  for (Queued& q : taken) {
    out.push_back(*Finish(std::move(q), left));
    left = SIZE_MAX;  // one kick check for the batch
  }
  return out;
}

std::optional<WatchResponse> WatchStream::TryNext() {
  Queued q;
  size_t left;
  {
    util::MutexLock l(mu_);
    if (closed_ || queue_.empty()) return std::nullopt;
    q = std::move(queue_.front());
    queue_.pop_front();
    left = queue_.size();
  }
  return Finish(std::move(q), left);
}

std::optional<WatchResponse> WatchStream::Finish(Queued q, size_t left) {
  // Set-aside watchers wait for room: wake the retry loop once the queue
  // is half empty, once until it has retried.
  if (left != SIZE_MAX && left <= ws_->options_.stream_queue / 2 && victims_.load(std::memory_order_relaxed) > 0 &&
      !kick_sent_.exchange(true)) {
    ws_->Kick();
  }
  if (q.prev_kv && !q.response.events.empty()) {
    util::CloseGate::Pass pass(ws_->reads_);
    if (pass.ok()) {
      for (Event& e : q.response.events) {
        if (e.kv.mod_revision <= 1) continue;
        absl::StatusOr<RangeResult> r =
            ws_->store_->Range(e.kv.key, "", RangeOptions{.rev = e.kv.mod_revision - 1});
        if (r.ok() && !r->kvs.empty()) e.prev_kv = std::move(r->kvs[0]);
      }
    }
  }
  return std::move(q.response);
}

}  // namespace revkv::mvcc
