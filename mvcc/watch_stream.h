// WatchStream: one consumer's watches and their responses (etcd's
// mvcc.WatchStream), made by WatchableStore::NewStream.
//
// Responses wait in a queue bounded at WatchableStoreOptions::stream_queue
// responses (etcd's chanBufLen). The store never waits for a consumer: a
// watcher whose response does not fit is set aside with it (a "victim") and
// retried by the store's background thread once the consumer reads, so a
// slow consumer costs memory bounded by its queue plus one pending response
// per watcher, and delays only itself.
//
// Wake-up coalescing: a consumer that finds the queue empty right after it
// was handed a response ("hot") waits up to WatchableStoreOptions::
// consumer_linger without being woken by each push -- only a queue half
// full wakes it -- then, if nothing came, waits until the next push wakes
// it ("cold"). A sporadic event is handed over at once; under a stream of
// events the writer pays one wake-up per half queue instead of one per
// push, and an event waits at most the linger.
//
// prev_kv is read when the consumer takes the response (Next/TryNext), at
// mod_revision - 1 (as etcd's server does), outside every store lock; it is
// left absent if that revision is compacted by then.
//
// Thread-safety: thread-safe. Any thread may call any method; Next may be
// called by several threads (each response goes to one).
#ifndef REVKV_MVCC_WATCH_STREAM_H_
#define REVKV_MVCC_WATCH_STREAM_H_

#include <atomic>
#include <deque>
#include <memory>
#include <optional>
#include <stop_token>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "mvcc/event.h"
#include "mvcc/watcher_group.h"
#include "util/mutex.h"

namespace revkv::mvcc {

class WatchableStore;

class WatchStream {
 public:
  WatchStream(const WatchStream&) = delete;
  WatchStream& operator=(const WatchStream&) = delete;
  ~WatchStream();  // Close()

  // Watches `key` (end empty), [key, end), or every key >= key (end "\0").
  // Returns an id unique in this stream: opts.id, or with kAutoWatchId the
  // lowest unused id from a counter that only goes up (etcd's). Errors:
  // InvalidArgument for an empty key, end <= key, or a negative start_rev;
  // AlreadyExists when opts.id is in use; ErrClosed after Close or once the
  // watchable store closed.
  absl::StatusOr<WatchId> Watch(std::string_view key, std::string_view end,
                                const WatchOptions& opts);
  // Removes the watcher; responses already queued stay. NotFound if unknown.
  absl::Status Cancel(WatchId id);
  // Queues a response without events carrying the revision up to which the
  // watcher has been sent everything, if the watcher is synced (etcd:
  // otherwise, or if the queue is full, nothing is sent: the responses on
  // their way carry revisions). NotFound if unknown; ErrClosed when closed.
  absl::Status RequestProgress(WatchId id);

  // Blocks until a response is ready; nullopt once the stream is closed,
  // or when `stop` is requested and nothing is queued.
  std::optional<WatchResponse> Next(std::stop_token stop = {});
  // Waits as Next, then takes every queued response, at most `max` (at
  // least one), in order, under one lock: for a consumer keeping up with a
  // fast writer. Empty once the stream is closed, or when `stop` is
  // requested and nothing is queued.
  std::vector<WatchResponse> NextBatch(size_t max, std::stop_token stop = {});
  // Never blocks: a queued response, or nullopt.
  std::optional<WatchResponse> TryNext();
  // Cancels every watcher and drops queued responses; Next returns nullopt.
  // Idempotent.
  void Close();

 private:
  friend class WatchableStore;
  friend class WatchStreamPeer;  // tests: the consumers' wait states
  struct Queued {
    WatchResponse response;
    bool prev_kv = false;
  };

  explicit WatchStream(std::shared_ptr<WatchableStore> owner);
  // Queues r unless the queue is full; true if queued or if the stream is
  // closed (then it is dropped). Never blocks on the consumer.
  bool TryPush(WatchResponse&& r, bool prev_kv) ABSL_LOCKS_EXCLUDED(mu_);
  // Marks the stream closed (its owner closed or it closed itself).
  void Shut() ABSL_LOCKS_EXCLUDED(mu_);
  // Waits (lingering when hot) until a response is queued: false if the
  // stream closed or `stop` was requested first.
  bool AwaitLocked(const std::stop_token& stop) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Kicks the retry loop if it should, and reads prev_kv; `left`: queued
  // responses after q (SIZE_MAX: do not kick).
  std::optional<WatchResponse> Finish(Queued q, size_t left);

  const std::shared_ptr<WatchableStore> keep_;  // outlives the stream
  WatchableStore* const ws_;

  util::Mutex mu_;  // after WatchableStore::mu_ (mvcc/README.md)
  util::CondVar cv_;
  std::deque<Queued> queue_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  // Consumers waiting until a push wakes them, and those lingering (woken
  // only by a half-full queue or their deadline).
  int waiting_ ABSL_GUARDED_BY(mu_) = 0;
  int lingering_ ABSL_GUARDED_BY(mu_) = 0;
  // A response was handed over since the last linger that found nothing.
  bool hot_ ABSL_GUARDED_BY(mu_) = false;

  // The stream's watchers; guarded by the watchable store's lock.
  absl::flat_hash_map<WatchId, std::unique_ptr<Watcher>> watchers_;
  WatchId next_id_ = 0;
  bool detached_ = false;  // no longer in the watchable store
  // Its set-aside watchers' uids in the order they were set aside (some may
  // be gone: skipped), so a retry pushes in order and stops at the first
  // that does not fit.
  std::deque<uint64_t> victim_order_;
  // Events its set-aside watchers hold (bounded: WatchableStore's budget).
  size_t victim_events_ = 0;
  // Watchers of this stream set aside: a read that frees room wakes the
  // store's retry loop.
  std::atomic<int> victims_{0};
  std::atomic<bool> kick_sent_{false};  // cleared when the loop retries
};

}  // namespace revkv::mvcc

#endif  // REVKV_MVCC_WATCH_STREAM_H_
