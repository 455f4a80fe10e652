#include "kvstore/revkv_watch.h"

#include <algorithm>

#include "kvstore/errors.h"
#include "mvcc/errors.h"

namespace revkv::kvstore {
namespace {

KVPair ToPair(const mvcc::Event& e, size_t key_offset) {
  KVPair p{e.kv.key.substr(std::min(key_offset, e.kv.key.size())), "",
           uint64_t(e.kv.mod_revision)};
  if (e.type == mvcc::Event::Type::kPut) p.value = e.kv.value;
  return p;
}

}  // namespace

bool WatchFeed::Take(bool block, std::optional<mvcc::WatchResponse>* out) {
  while (!ended_) {
    std::optional<mvcc::WatchResponse> r = block ? stream_->Next(stop_) : stream_->TryNext();
    if (!r.has_value()) {
      if (!block && !stop_.stop_requested()) return true;  // nothing yet
      ended_ = true;  // stopped, or the stream closed (the store closed)
      break;
    }
    if (r->canceled) {
      ended_ = true;
      status_ = mvcc::ErrCompacted();
      break;
    }
    if (r->events.empty()) {  // progress: everything up to r->revision given
      seen_ = std::max(seen_, r->revision);
      if (!block) continue;
      return true;
    }
    seen_ = std::max(seen_, r->events.back().kv.mod_revision);
    *out = std::move(r);
    return true;
  }
  return false;
}

std::optional<mvcc::WatchResponse> WatchFeed::Next(bool block) {
  while (true) {
    std::optional<mvcc::WatchResponse> r;
    if (!Take(block, &r)) return std::nullopt;
    if (r.has_value() || !block) return r;
  }
}

template <typename Apply>
absl::Status WatchFeed::CatchUp(int64_t rev, Apply apply) {
  // What is queued first; then, while short of rev, ask for progress: a
  // synced watcher answers at once with the revision it is complete to
  // (which trails the store's by at most the write being published), one
  // set aside first gets its pending events (we just made room).
  while (true) {
    std::optional<mvcc::WatchResponse> r;
    while (Take(/*block=*/false, &r) && r.has_value()) {
      apply(*r);
      r.reset();
    }
    if (ended_) return status_.ok() ? ErrStoreClosed() : status_;
    if (seen_ >= rev) return absl::OkStatus();
    if (absl::Status s = stream_->RequestProgress(id_); !s.ok()) {
      ended_ = true;
      return ErrStoreClosed();
    }
    if (!Take(/*block=*/true, &r)) return status_.ok() ? ErrStoreClosed() : status_;
    if (r.has_value()) apply(*r);
  }
}

RevkvKeyWatch::RevkvKeyWatch(WatchFeed feed, std::optional<KVPair> first, size_t key_offset)
    : feed_(std::move(feed)), key_offset_(key_offset) {
  if (first.has_value()) ready_.push_back(*std::move(first));
}

std::optional<KVPair> RevkvKeyWatch::Next() {
  while (ready_.empty()) {
    std::optional<mvcc::WatchResponse> r = feed_.Next(/*block=*/true);
    if (!r.has_value()) return std::nullopt;
    for (const mvcc::Event& e : r->events) ready_.push_back(ToPair(e, key_offset_));
  }
  KVPair p = std::move(ready_.front());
  ready_.pop_front();
  return p;
}

RevkvTreeWatch::RevkvTreeWatch(WatchFeed feed, DB* db, std::vector<KVPair> first,
                               size_t key_offset)
    : feed_(std::move(feed)), db_(db), key_offset_(key_offset) {
  for (KVPair& p : first) current_.emplace(p.key, std::move(p));
}

std::vector<KVPair> RevkvTreeWatch::Listing() const {
  std::vector<KVPair> out;
  out.reserve(current_.size());
  for (const auto& [key, pair] : current_) out.push_back(pair);
  return out;
}

void RevkvTreeWatch::Queue(const mvcc::WatchResponse& r) {
  int64_t rev = 0;
  for (const mvcc::Event& e : r.events) {
    if (pending_.empty() || e.kv.mod_revision != rev) pending_.emplace_back();
    rev = e.kv.mod_revision;
    pending_.back().push_back(
        TreeChange{ToPair(e, key_offset_), e.type == mvcc::Event::Type::kDelete});
  }
}

void RevkvTreeWatch::Apply(const std::vector<TreeChange>& changes) {
  for (const TreeChange& c : changes) {
    if (c.deleted) {
      current_.erase(c.pair.key);
    } else {
      current_[c.pair.key] = c.pair;
    }
  }
}

std::optional<std::vector<KVPair>> RevkvTreeWatch::Next() {
  if (!first_returned_) {
    first_returned_ = true;
    return Listing();
  }
  while (pending_.empty()) {
    std::optional<mvcc::WatchResponse> r = feed_.Next(/*block=*/true);
    if (!r.has_value()) return std::nullopt;
    Queue(*r);
  }
  Apply(pending_.front());
  pending_.pop_front();
  return Listing();
}

absl::StatusOr<std::vector<TreeChange>> RevkvTreeWatch::CatchUp() {
  first_returned_ = true;
  absl::Status s =
      feed_.CatchUp(db_->Rev(), [this](const mvcc::WatchResponse& r) { Queue(r); });
  if (!s.ok()) return s;
  std::vector<TreeChange> out;
  for (std::vector<TreeChange>& changes : pending_) {
    Apply(changes);
    for (TreeChange& c : changes) out.push_back(std::move(c));
  }
  pending_.clear();
  return out;
}

}  // namespace revkv::kvstore
