// Watch's plain values: an event, a watch's options, a response (etcd 3.4's
// mvccpb.Event and mvcc.WatchResponse).
//
// Thread-safety: plain values.
#ifndef REVKV_MVCC_EVENT_H_
#define REVKV_MVCC_EVENT_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "mvcc/key_value.h"

namespace revkv::mvcc {

struct Event {
  enum class Type { kPut, kDelete };
  Type type = Type::kPut;
  KeyValue kv;                      // DELETE: key and mod_revision only
  std::optional<KeyValue> prev_kv;  // when the watch asked and it is readable

  bool operator==(const Event&) const = default;
};

using WatchId = int64_t;
// etcd's AutoWatchID: the stream picks the id.
inline constexpr WatchId kAutoWatchId = 0;

struct WatchOptions {
  int64_t start_rev = 0;  // 0: from the next revision
  bool no_put = false;
  bool no_delete = false;
  bool prev_kv = false;
  // The id to give the watcher (etcd 3.4 lets clients choose; any value but
  // kAutoWatchId, negative ones too, is taken as given).
  WatchId id = kAutoWatchId;
};

struct WatchResponse {
  WatchId id = 0;
  int64_t revision = 0;          // the store's revision when the response was made
  int64_t compact_revision = 0;  // with canceled: the watcher's start_rev was compacted
  bool canceled = false;         // the watcher is gone (compaction)
  std::vector<Event> events;     // in revision order; empty for progress/cancel
};

}  // namespace revkv::mvcc

#endif  // REVKV_MVCC_EVENT_H_
