// The watchable store: groups, the writer's notification, the background
// catch-up and victim retry (etcd's watchable_store.go).
#include "mvcc/watchable_store.h"

#include <algorithm>
#include <utility>

namespace revkv::mvcc {

std::shared_ptr<WatchableStore> WatchableStore::Create(Store* store,
                                                       const WatchableStoreOptions& options) {
  std::shared_ptr<WatchableStore> ws(new WatchableStore(store, options));
  {
    util::MutexLock l(ws->mu_);
    ws->last_notified_ = store->Rev();
  }
  store->SetObserver(ws.get());
  ws->loop_ = std::thread([p = ws.get()] { p->Loop(); });
  return ws;
}

WatchableStore::WatchableStore(Store* store, const WatchableStoreOptions& options)
    : store_(store), options_(options) {}

WatchableStore::~WatchableStore() { Close(); }

std::unique_ptr<WatchStream> WatchableStore::NewStream() {
  std::unique_ptr<WatchStream> s(new WatchStream(shared_from_this()));
  bool closed;
  {
    util::MutexLock l(mu_);
    closed = closed_;
    if (closed) {
      s->detached_ = true;
    } else {
      streams_.insert(s.get());
    }
  }
  if (closed) s->Shut();
  return s;
}

void WatchableStore::Close() {
  std::vector<WatchStream*> streams;
  bool detach;
  {
    util::MutexLock l(mu_);
    if (closed_) return;
    closed_ = true;
    detach = !store_closed_;
    synced_ = WatcherGroup();
    unsynced_.clear();
    victims_.clear();
    victim_streams_.clear();
    victim_group_ = WatcherGroup();
    count_ = 0;
    for (WatchStream* s : streams_) {
      s->watchers_.clear();  // no group refers to them any more
      s->detached_ = true;
      s->victims_ = 0;
      streams.push_back(s);
    }
    streams_.clear();
    // A stream's destructor detaches under mu_, so each is alive here; it
    // is shut under mu_ for the same reason.
    for (WatchStream* s : streams) s->Shut();
  }
  cv_.NotifyAll();
  if (loop_.joinable()) loop_.join();
  reads_.Close();  // no consumer reads the store from here on
  if (detach) {
    store_->SetObserver(nullptr);
    store_->SetWatched(false);
  }
}

void WatchableStore::OnStoreClose() {
  {
    util::MutexLock l(mu_);
    store_closed_ = true;
  }
  Close();
}

WatchableStore::Stats WatchableStore::stats() {
  util::MutexLock l(mu_);
  return Stats{synced_.size(), unsynced_.size(), victims_.size()};
}

void WatchableStore::AddLocked(Watcher* w, int64_t start_rev) {
  w->uid = next_uid_++;
  // Set before the revision is read: a write transaction that began before
  // then either sees it at End or published a revision this read sees.
  if (count_++ == 0) store_->SetWatched(true);
  const int64_t cur = store_->Rev();
  if (start_rev == 0 || start_rev > cur) {
    w->min_rev = std::max(cur + 1, start_rev);
    w->state = Watcher::State::kSynced;
    synced_.Add(w);
    return;
  }
  w->min_rev = start_rev;
  w->state = Watcher::State::kUnsynced;
  unsynced_.emplace(w->uid, w);
  cv_.NotifyAll();
}

void WatchableStore::RemoveLocked(Watcher* w) {
  switch (w->state) {
    case Watcher::State::kSynced:
      synced_.Remove(w);
      break;
    case Watcher::State::kUnsynced:
      unsynced_.erase(w->uid);
      break;
    case Watcher::State::kVictim:
      if (auto it = victims_.find(w->uid); it != victims_.end()) DropVictimLocked(w, it->second);
      victims_.erase(w->uid);
      w->stream->victims_--;
      break;
  }
  if (--count_ == 0) store_->SetWatched(false);
}

void WatchableStore::DestroyLocked(Watcher* w) {
  RemoveLocked(w);
  w->stream->watchers_.erase(w->id);  // destroys w
}

void WatchableStore::ToUnsyncedLocked(Watcher* w) {
  if (w->state == Watcher::State::kSynced) synced_.Remove(w);
  if (w->state == Watcher::State::kVictim) {
    if (auto it = victims_.find(w->uid); it != victims_.end()) DropVictimLocked(w, it->second);
    victims_.erase(w->uid);
    w->stream->victims_--;
  }
  w->state = Watcher::State::kUnsynced;
  unsynced_.emplace(w->uid, w);
  cv_.NotifyAll();
}

void WatchableStore::ToVictimLocked(Watcher* w, WatchResponse r) {
  if (w->state == Watcher::State::kSynced) synced_.Remove(w);
  if (w->state == Watcher::State::kUnsynced) unsynced_.erase(w->uid);
  w->state = Watcher::State::kVictim;
  WatchStream* s = w->stream;
  s->victim_events_ += r.events.size();
  // It may collect only if it holds every event of every published
  // revision: a catch-up batch that ends earlier leaves a gap only a read of
  // the store fills. (Not last_notified_: revisions written while nobody
  // watched were published without a notification.)
  const bool open = w->min_rev > store_->Rev() &&
                    s->victim_events_ < options_.victim_events_per_stream;
  if (open) victim_group_.Add(w);
  victims_.emplace(w->uid, Victim{w, std::move(r), open});
  w->stream->victims_++;
  w->stream->victim_order_.push_back(w->uid);
  victim_streams_.insert(w->stream);
  cv_.NotifyAll();
}

void WatchableStore::DropVictimLocked(Watcher* w, Victim& v) {
  if (v.open) victim_group_.Remove(w);
  v.open = false;
  w->stream->victim_events_ -= v.pending.events.size();
}

void WatchableStore::CollectForVictimsLocked(int64_t rev, const std::vector<Event>& changes) {
  std::vector<std::pair<Watcher*, std::vector<const Event*>>> owed;
  absl::flat_hash_map<Watcher*, size_t> slot;
  for (const Event& e : changes) {
    victim_group_.ForEachCovering(e.kv.key, [&](Watcher* w) {
      if (w->min_rev > rev || !w->Wants(e)) return;
      auto [it, inserted] = slot.try_emplace(w, owed.size());
      if (inserted) owed.emplace_back(w, std::vector<const Event*>());
      owed[it->second].second.push_back(&e);
    });
  }
  for (auto& [w, evs] : owed) {
    Victim& v = victims_.at(w->uid);
    WatchStream* s = w->stream;
    if (s->victim_events_ + evs.size() > options_.victim_events_per_stream) {
      // Out of budget: from here on it reads back from the store.
      victim_group_.Remove(w);
      v.open = false;
      continue;
    }
    for (const Event* e : evs) v.pending.events.push_back(*e);
    s->victim_events_ += evs.size();
    v.pending.revision = rev;
    w->min_rev = rev + 1;
  }
}

void WatchableStore::SendLocked(Watcher* w, WatchResponse r, int64_t upto) {
  w->min_rev = upto + 1;
  if (!w->stream->TryPush(std::move(r), w->prev_kv)) {
    // TryPush leaves r intact when it refuses it.
    ToVictimLocked(w, std::move(r));
  }
}

void WatchableStore::OnPublished(int64_t rev, std::vector<Event>* changes) {
  util::MutexLock l(mu_);
  if (closed_) return;
  last_notified_ = rev;
  if (changes == nullptr && !victim_group_.empty()) {
    // Nothing to collect: the open victims read it back later.
    std::vector<Watcher*> open;
    victim_group_.ForEach([&](Watcher* w) { open.push_back(w); });
    for (Watcher* w : open) {
      victim_group_.Remove(w);
      victims_.at(w->uid).open = false;
    }
  }
  // Victims first: a watcher set aside below, in this revision, already
  // holds its events.
  if (changes != nullptr && !victim_group_.empty()) CollectForVictimsLocked(rev, *changes);
  if (synced_.empty()) return;
  if (changes == nullptr) {
    // Written while nobody watched: whoever is owed it reads it back.
    std::vector<Watcher*> owed;
    synced_.ForEach([&](Watcher* w) {
      if (w->min_rev <= rev) owed.push_back(w);
    });
    for (Watcher* w : owed) {
      w->min_rev = std::max(w->min_rev, rev);
      ToUnsyncedLocked(w);
    }
    return;
  }
  if (changes->size() == 1) {
    // The common case: one event, at most one response per watcher.
    Event& e = (*changes)[0];
    Watcher* first = nullptr;  // the common case: one watcher
    std::vector<Watcher*> more;
    synced_.ForEachCovering(e.kv.key, [&](Watcher* w) {
      if (w->min_rev > rev || !w->Wants(e)) return;
      if (first == nullptr) {
        first = w;
      } else {
        more.push_back(w);
      }
    });
    for (Watcher* w : more) SendLocked(w, WatchResponse{w->id, rev, 0, false, {e}}, rev);
    if (first != nullptr) {
      // The last one takes the transaction's copy (it is done with it).
      WatchResponse r{first->id, rev, 0, false, {}};
      r.events.push_back(std::move(e));
      SendLocked(first, std::move(r), rev);
    }
    return;
  }
  std::vector<std::pair<Watcher*, std::vector<Event>>> out;
  absl::flat_hash_map<Watcher*, size_t> slot;
  for (const Event& e : *changes) {
    synced_.ForEachCovering(e.kv.key, [&](Watcher* w) {
      if (w->min_rev > rev || !w->Wants(e)) return;
      auto [it, inserted] = slot.try_emplace(w, out.size());
      if (inserted) out.emplace_back(w, std::vector<Event>());
      out[it->second].second.push_back(e);
    });
  }
  for (auto& [w, evs] : out) SendLocked(w, WatchResponse{w->id, rev, 0, false, std::move(evs)}, rev);
}

void WatchableStore::WillWrite(std::string_view key) {
  const void* p;
  {
    util::MutexLock l(mu_);
    p = synced_.SlotAddress(key);
  }
  // After the unlock: the address may be stale by now, and a prefetch of
  // it is still harmless.
  if (p != nullptr) __builtin_prefetch(p);
}

void WatchableStore::Wrote(std::string_view key) {
  const void* p;
  {
    util::MutexLock l(mu_);
    p = synced_.FirstPointWatcher(key);
  }
  if (p != nullptr) __builtin_prefetch(p);
}

void WatchableStore::OnReloaded(int64_t rev) {
  util::MutexLock l(mu_);
  if (closed_) return;
  const int64_t handed = last_notified_;
  last_notified_ = std::max(last_notified_, rev);
  // The revisions the new data brought were never published: every watcher
  // owed one reads it back from the store (etcd moves its synced watchers
  // to unsynced at a restore), and one whose start the new data compacted
  // is cancelled there with the compacted revision.
  std::vector<Watcher*> open;
  victim_group_.ForEach([&](Watcher* w) { open.push_back(w); });
  for (Watcher* w : open) {
    victim_group_.Remove(w);
    victims_.at(w->uid).open = false;
  }
  std::vector<Watcher*> owed;
  synced_.ForEach([&](Watcher* w) {
    if (w->min_rev <= rev) owed.push_back(w);
  });
  for (Watcher* w : owed) {
    w->min_rev = std::max(w->min_rev, handed + 1);
    ToUnsyncedLocked(w);
  }
}

int64_t WatchableStore::ProgressRevLocked(const Watcher* w) const {
  return std::max(last_notified_, w->min_rev - 1);
}

void WatchableStore::Kick() {
  util::MutexLock l(mu_);
  kicked_ = true;
  cv_.NotifyAll();
}

void WatchableStore::Loop() {
  util::MutexLock l(mu_);
  while (!closed_) {
    bool moved = false;
    kicked_ = false;
    if (!victims_.empty()) moved |= RetryVictimsLocked();
    if (closed_) break;
    if (!unsynced_.empty()) moved |= SyncRoundLocked();
    if (closed_ || kicked_ || (moved && !unsynced_.empty())) continue;
    if (victims_.empty() && unsynced_.empty()) {
      cv_.Wait(mu_);
    } else {
      // A full queue with nobody reading is retried now and then; a read
      // wakes the loop at once (Kick).
      cv_.WaitUntil(mu_, std::chrono::steady_clock::now() + options_.victim_retry);
    }
  }
}

bool WatchableStore::RetryVictimsLocked() {
  // Per stream, in the order they were set aside, until one does not fit:
  // the cost is what moves, not how many wait.
  bool moved = false;
  std::vector<WatchStream*> emptied;
  for (WatchStream* s : victim_streams_) {
    s->kick_sent_.store(false, std::memory_order_relaxed);
    while (!s->victim_order_.empty()) {
      auto it = victims_.find(s->victim_order_.front());
      if (it == victims_.end()) {  // cancelled, or retried already
        s->victim_order_.pop_front();
        continue;
      }
      Victim& v = it->second;
      const size_t held = v.pending.events.size();
      if (!s->TryPush(std::move(v.pending), v.w->prev_kv)) break;
      s->victim_order_.pop_front();
      // Pushed: its budget share is free, and it no longer collects.
      if (v.open) victim_group_.Remove(v.w);
      v.open = false;
      s->victim_events_ -= held;
      v.pending.events.clear();  // dropped, if the stream had closed
      ToUnsyncedLocked(v.w);
      moved = true;
    }
    if (s->victim_order_.empty()) emptied.push_back(s);
  }
  for (WatchStream* s : emptied) victim_streams_.erase(s);
  return moved;
}

bool WatchableStore::SyncRoundLocked() {
  const int64_t cur = store_->Rev();
  const int64_t compact = store_->CompactRev();
  bool moved = false;
  std::vector<Watcher*> chosen, cancel, caught_up;
  for (auto& [uid, w] : unsynced_) {
    if (chosen.size() + cancel.size() + caught_up.size() >= options_.max_watchers_per_sync) break;
    if (compact > 0 && w->min_rev <= compact) {
      cancel.push_back(w);
    } else if (w->min_rev > cur) {
      caught_up.push_back(w);
    } else {
      chosen.push_back(w);
    }
  }
  for (Watcher* w : cancel) {
    WatchResponse r{w->id, cur, compact, true, {}};
    if (w->stream->TryPush(std::move(r), false)) {
      DestroyLocked(w);
      moved = true;
    }
  }
  for (Watcher* w : caught_up) {
    // Every revision up to cur is published; OnPublished has handed over
    // none past it, and those still to come are past w's min_rev - 1.
    unsynced_.erase(w->uid);
    w->state = Watcher::State::kSynced;
    synced_.Add(w);
    moved = true;
  }
  if (chosen.empty()) return moved;
  int64_t from = INT64_MAX;
  for (Watcher* w : chosen) from = std::min(from, w->min_rev);
  const int64_t to = std::min(cur, from + options_.sync_batch_revs - 1);
  std::vector<uint64_t> uids;
  for (Watcher* w : chosen) uids.push_back(w->uid);

  // The bulk of the read without the lock: writers go on notifying.
  std::vector<Event> events;
  mu_.Unlock();
  absl::Status s = store_->ReadEvents(from, to, &events);
  mu_.Lock();
  if (closed_) return true;
  if (!s.ok()) return IsCompacted(s);  // the next round cancels who is cut
  // Revisions handed to synced watchers meanwhile: read under the lock, so
  // that none is handed over before these watchers join (a short read).
  int64_t upto = to;
  if (to == cur && last_notified_ > cur) {
    if (store_->ReadEvents(cur + 1, last_notified_, &events).ok()) upto = last_notified_;
  }
  const bool at_end = upto == std::max(cur, last_notified_);

  WatcherGroup group;
  std::vector<Watcher*> live;
  for (uint64_t uid : uids) {
    auto it = unsynced_.find(uid);
    if (it == unsynced_.end()) continue;  // cancelled meanwhile
    group.Add(it->second);
    live.push_back(it->second);
  }
  absl::flat_hash_map<Watcher*, std::vector<Event>> out;
  if (live.size() == 1) {
    // One watcher (a catch-up of its own): its events move, not copied.
    Watcher* w = live[0];
    std::vector<Event>& mine = out[w];
    for (Event& e : events) {
      if (e.kv.mod_revision >= w->min_rev && w->Wants(e)) mine.push_back(std::move(e));
    }
    if (mine.empty()) out.clear();
    events.clear();
  }
  for (const Event& e : events) {
    group.ForEachCovering(e.kv.key, [&](Watcher* w) {
      if (e.kv.mod_revision >= w->min_rev && w->Wants(e)) out[w].push_back(e);
    });
  }
  for (Watcher* w : live) group.Remove(w);
  for (Watcher* w : live) {
    // Past this batch (a lower one set `from`): nothing read is its.
    if (w->min_rev > upto) continue;
    auto it = out.find(w);
    if (it != out.end()) {
      SendLocked(w, WatchResponse{w->id, upto, 0, false, std::move(it->second)}, upto);
      if (w->state == Watcher::State::kVictim) continue;
    } else {
      w->min_rev = upto + 1;
    }
    if (at_end) {
      unsynced_.erase(w->uid);
      w->state = Watcher::State::kSynced;
      synced_.Add(w);
    }
  }
  return true;
}

}  // namespace revkv::mvcc
