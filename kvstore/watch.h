// KeyWatch and TreeWatch: libkv's Watch and WatchTree channels, as objects
// with a blocking Next (docker/libkv: `Watch(key, stopCh) (<-chan *KVPair,
// error)` and `WatchTree(directory, stopCh) (<-chan []*KVPair, error)`).
//
// A watch is made by Store::Watch / Store::WatchTree with a std::stop_token
// (libkv's stopCh): requesting a stop ends it, and so do the store's Close
// and an error. Next returns nullopt once the watch has ended; status() then
// says why (OK for a stop or a close; ErrCompacted if the history it needed
// was compacted away; the store's error otherwise).
//
// Thread-safety: one consumer calls Next/CatchUp; the stop token may be
// requested from any thread, also while Next blocks.
#ifndef REVKV_KVSTORE_WATCH_H_
#define REVKV_KVSTORE_WATCH_H_

#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kvstore/kv_pair.h"

namespace revkv::kvstore {

class KeyWatch {
 public:
  virtual ~KeyWatch() = default;
  // The next pair, blocking until there is one: first the key's pair when
  // the watch began (if the key existed), then one per change of the key,
  // in revision order. A put gives the new pair; a delete gives the key with
  // an empty value and the deleting revision as last_index (as libkv's etcd
  // store does; Exists tells it from an empty value). nullopt: ended.
  virtual std::optional<KVPair> Next() = 0;
  // Why the watch ended (OK while it runs).
  virtual absl::Status status() const = 0;
};

// One change of a watched directory.
struct TreeChange {
  KVPair pair;  // a delete: the key, an empty value, the deleting revision
  bool deleted = false;

  bool operator==(const TreeChange&) const = default;
};

class TreeWatch {
 public:
  virtual ~TreeWatch() = default;
  // The next listing of the directory (every pair whose key starts with
  // it, in key order, as List), blocking until there is one: first the
  // listing when the watch began, then one after each revision that changed
  // a key in it. A listing may be empty (libkv's etcd store ended the watch
  // when the directory emptied; this one goes on). nullopt: ended.
  virtual std::optional<std::vector<KVPair>> Next() = 0;
  // Every change to the directory committed before the call and not yet
  // reflected in a listing or change handed out, in revision order, for a
  // caller that keeps its own copy (the datastore's cache). Blocks only for
  // the store's own delivery, never for another writer. An ended watch
  // gives its status() (ErrStoreClosed after a stop or a close).
  virtual absl::StatusOr<std::vector<TreeChange>> CatchUp() = 0;
  // Why the watch ended (OK while it runs).
  virtual absl::Status status() const = 0;
};

}  // namespace revkv::kvstore

#endif  // REVKV_KVSTORE_WATCH_H_
