// WatchableStore: etcd 3.4's watchable store (watchable_store.go) over one
// Store: it hears of every published write transaction (WriteObserver) and
// hands each watcher the events of its keys, per revision and in order,
// from its start revision on.
//
// Watchers live in one of three groups, as in etcd:
//   synced    owed nothing older than the store's revision; fed by the
//             writer at TxnWrite::End (non-blocking queue pushes only);
//   unsynced  starting in the past: a background thread reads their
//             revisions back from the store (Store::ReadEvents) in batches
//             of sync_batch_revs and moves them to synced once caught up;
//             one whose start revision is <= the compacted revision gets a
//             canceled response with compact_revision and is removed;
//   victims   their stream's queue was full: the pending response waits
//             with the watcher and is retried by the background thread
//             (woken when the consumer reads), then the watcher catches up
//             as unsynced. Meanwhile it collects the new events it is owed
//             into that response, within a budget of events per stream
//             (victim_events_per_stream); past it, or if it was set aside
//             behind the latest revision, it reads them back instead.
//
// A Store::Reload (a Raft snapshot installed in place) moves every watcher
// owed a revision, and every victim still collecting, to read the new data
// back as unsynced watchers do (etcd's watchableStore.Restore): a watcher
// whose start the new data compacted is cancelled with the compacted
// revision; the others go on without a gap.
//
// Differences from etcd: a watcher starting exactly at the compacted
// revision is canceled too (etcd 3.4 cancels below it only, and may then
// miss a delete at that revision, whose tombstone compaction removed);
// prev_kv is read when the consumer takes the response (watch_stream.h);
// a victim collects events (etcd's waits and reads them all back).
//
// Lifetime: made by Create (shared: streams keep it alive). It installs
// itself as the store's observer; Close (or Store::Close) detaches it,
// stops its thread and closes every stream. Close it before the store is
// destroyed.
//
// Thread-safety: thread-safe.
#ifndef REVKV_MVCC_WATCHABLE_STORE_H_
#define REVKV_MVCC_WATCHABLE_STORE_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "mvcc/event.h"
#include "mvcc/store.h"
#include "mvcc/watch_stream.h"
#include "mvcc/watcher_group.h"
#include "util/close_gate.h"
#include "util/mutex.h"

namespace revkv::mvcc {

struct WatchableStoreOptions {
  // Responses a stream holds (etcd's chanBufLen is 128: on two cores a
  // consumer off-CPU for one scheduler slice misses more than that, and a
  // watcher set aside costs far more than a queued response).
  size_t stream_queue = 8192;
  // How long a consumer that has just been handed a response waits for the
  // next one without being woken by each push (watch_stream.h: wake-up
  // coalescing); zero: every push to an empty queue wakes it.
  std::chrono::microseconds consumer_linger{500};
  int64_t sync_batch_revs = 10000;  // revisions read back per catch-up round
  size_t max_watchers_per_sync = 512;  // unsynced watchers per round (etcd's)
  // How often set-aside watchers are retried when no read wakes the loop.
  std::chrono::milliseconds victim_retry{10};
  // Events a stream's set-aside watchers may collect while they wait (then
  // they catch up from the store instead).
  size_t victim_events_per_stream = 4096;
};

class WatchableStore final : public WriteObserver,
                             public std::enable_shared_from_this<WatchableStore> {
 public:
  static std::shared_ptr<WatchableStore> Create(Store* store,
                                                const WatchableStoreOptions& options = {});
  ~WatchableStore() override;

  // A new stream; after Close, a closed one (Watch answers ErrClosed).
  std::unique_ptr<WatchStream> NewStream();
  // Stops the background thread, closes every stream (their Next returns
  // nullopt) and detaches from the store. Idempotent.
  void Close() ABSL_LOCKS_EXCLUDED(mu_);

  struct Stats {
    size_t synced = 0, unsynced = 0, victims = 0;
  };
  Stats stats() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  friend class WatchStream;
  WatchableStore(Store* store, const WatchableStoreOptions& options);

  void OnPublished(int64_t rev, std::vector<Event>* changes) override ABSL_LOCKS_EXCLUDED(mu_);
  void WillWrite(std::string_view key) override ABSL_LOCKS_EXCLUDED(mu_);
  void Wrote(std::string_view key) override ABSL_LOCKS_EXCLUDED(mu_);
  void OnStoreClose() override;
  void OnReloaded(int64_t rev) override ABSL_LOCKS_EXCLUDED(mu_);

  // Registers w (its key, filters, stream, id set) from opts.start_rev.
  void AddLocked(Watcher* w, int64_t start_rev) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Takes w out of its group; the caller destroys it.
  void RemoveLocked(Watcher* w) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Removes w from its stream too, destroying it.
  void DestroyLocked(Watcher* w) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ToUnsyncedLocked(Watcher* w) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ToVictimLocked(Watcher* w, WatchResponse r) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Pushes r to w's stream or sets w aside with it; then w is owed from
  // upto + 1.
  void SendLocked(Watcher* w, WatchResponse r, int64_t upto) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int64_t ProgressRevLocked(const Watcher* w) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Wakes the background loop (a stream with victims was read).
  void Kick() ABSL_LOCKS_EXCLUDED(mu_);

  void Loop() ABSL_LOCKS_EXCLUDED(mu_);
  // One round each; true if something moved.
  bool RetryVictimsLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool SyncRoundLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Store* const store_;  // used only until closed_ (then the store may go)
  const WatchableStoreOptions options_;

  // Lock order: after Store::write_mu_ (OnPublished runs under it), before
  // each WatchStream::mu_ and the store's rev_mu_ and views (mvcc/README.md).
  util::Mutex mu_;
  util::CondVar cv_;  // the background loop's wake-up
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool store_closed_ ABSL_GUARDED_BY(mu_) = false;
  bool kicked_ ABSL_GUARDED_BY(mu_) = false;
  // The last revision OnPublished handed over: synced watchers have been
  // sent (or hold as victims) every event up to it.
  int64_t last_notified_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t next_uid_ ABSL_GUARDED_BY(mu_) = 1;
  size_t count_ ABSL_GUARDED_BY(mu_) = 0;  // watchers in all groups
  WatcherGroup synced_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint64_t, Watcher*> unsynced_ ABSL_GUARDED_BY(mu_);
  struct Victim {
    Watcher* w;
    WatchResponse pending;
    // Still collecting new events into `pending` (in victim_group_).
    bool open = false;
  };
  // Victims still collecting, by key.
  WatcherGroup victim_group_ ABSL_GUARDED_BY(mu_);
  // Appends what each open victim is owed of revision `rev`, or closes it
  // (it then catches up from the store) when its stream's budget is spent.
  void CollectForVictimsLocked(int64_t rev, const std::vector<Event>& changes)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Ends w's victimhood bookkeeping (group, budget); the caller erases it.
  void DropVictimLocked(Watcher* w, Victim& v) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::flat_hash_map<uint64_t, Victim> victims_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<WatchStream*> streams_ ABSL_GUARDED_BY(mu_);
  // Streams with set-aside watchers (their victim_order_ is not empty).
  absl::flat_hash_set<WatchStream*> victim_streams_ ABSL_GUARDED_BY(mu_);

  // Held by a consumer reading prev_kv from the store; Close shuts it
  // before the store may go.
  util::CloseGate reads_;
  std::thread loop_;
};

}  // namespace revkv::mvcc

#endif  // REVKV_MVCC_WATCHABLE_STORE_H_
