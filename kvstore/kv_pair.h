// KVPair: libkv's {Key, Value, LastIndex} tuple.
//
// last_index is the key's mod revision in the mvcc store: it changes with
// every write of the key, increases across all keys, and is what AtomicPut
// and AtomicDelete compare. Plain value; copy freely.
#ifndef REVKV_KVSTORE_KV_PAIR_H_
#define REVKV_KVSTORE_KV_PAIR_H_

#include <cstdint>
#include <string>

namespace revkv::kvstore {

struct KVPair {
  std::string key;    // without the bucket
  std::string value;
  uint64_t last_index = 0;

  bool operator==(const KVPair&) const = default;
};

}  // namespace revkv::kvstore

#endif  // REVKV_KVSTORE_KV_PAIR_H_
