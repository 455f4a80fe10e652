// The libkv watches of RevkvStore over mvcc watch streams (kvstore/watch.h
// says what they promise).
//
// Each watch owns one mvcc::WatchStream with one watcher, started at the
// revision after the read that gave its first value, so nothing between the
// two is missed or repeated.
//
// Thread-safety: as kvstore/watch.h (one consumer).
#ifndef REVKV_KVSTORE_REVKV_WATCH_H_
#define REVKV_KVSTORE_REVKV_WATCH_H_

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kvstore/watch.h"
#include "mvcc/watch_stream.h"
#include "revkv/db.h"

namespace revkv::kvstore {

// One watcher's responses, in order, with the revision up to which it has
// been given everything.
class WatchFeed {
 public:
  WatchFeed(std::shared_ptr<mvcc::WatchStream> stream, mvcc::WatchId id, std::stop_token stop,
            int64_t seen)
      : stream_(std::move(stream)), id_(id), stop_(std::move(stop)), seen_(seen) {}

  // The next response with events (blocking, or not), nullopt if there is
  // none yet (block false) or the feed ended (see status()).
  std::optional<mvcc::WatchResponse> Next(bool block);
  // Blocks until the feed has been given every change up to revision rev,
  // handing each response with events to `apply`. The feed's error if it
  // ended first.
  template <typename Apply>
  absl::Status CatchUp(int64_t rev, Apply apply);

  bool ended() const { return ended_; }
  const absl::Status& status() const { return status_; }

 private:
  // Takes one response; false if the feed ended. Progress responses move
  // seen_ and are not returned.
  bool Take(bool block, std::optional<mvcc::WatchResponse>* out);

  std::shared_ptr<mvcc::WatchStream> stream_;
  mvcc::WatchId id_;
  std::stop_token stop_;
  int64_t seen_;
  bool ended_ = false;
  absl::Status status_;
};

class RevkvKeyWatch final : public KeyWatch {
 public:
  // key_offset: the bucket prefix's length, cut from the keys given out.
  RevkvKeyWatch(WatchFeed feed, std::optional<KVPair> first, size_t key_offset);
  std::optional<KVPair> Next() override;
  absl::Status status() const override { return feed_.status(); }

 private:
  WatchFeed feed_;
  std::deque<KVPair> ready_;
  const size_t key_offset_;
};

class RevkvTreeWatch final : public TreeWatch {
 public:
  RevkvTreeWatch(WatchFeed feed, DB* db, std::vector<KVPair> first, size_t key_offset);
  std::optional<std::vector<KVPair>> Next() override;
  absl::StatusOr<std::vector<TreeChange>> CatchUp() override;
  absl::Status status() const override { return feed_.status(); }

 private:
  // Queues the response's changes, one entry per revision.
  void Queue(const mvcc::WatchResponse& r);
  void Apply(const std::vector<TreeChange>& changes);
  std::vector<KVPair> Listing() const;

  WatchFeed feed_;
  DB* const db_;
  const size_t key_offset_;
  bool first_returned_ = false;
  std::map<std::string, KVPair> current_;  // as last handed out; no bucket
  std::deque<std::vector<TreeChange>> pending_;  // by revision
};

}  // namespace revkv::kvstore

#endif  // REVKV_KVSTORE_REVKV_WATCH_H_
