// IndexPeer: the tests' way to Index's one-step entry points, which the
// store never calls (it puts in two steps and restores in bulk).
#ifndef REVKV_TESTS_MVCC_INDEX_PEER_H_
#define REVKV_TESTS_MVCC_INDEX_PEER_H_

#include <string_view>

#include "mvcc/index.h"

namespace revkv::mvcc {

class IndexPeer {
 public:
  static void Put(Index& idx, std::string_view key, Revision rev) { idx.Put(key, rev); }
  static void RestoreRecord(Index& idx, std::string_view key, Revision rev, bool tombstone,
                            int64_t create_revision, int64_t version) {
    idx.RestoreRecord(key, rev, tombstone, create_revision, version);
  }
};

}  // namespace revkv::mvcc

#endif  // REVKV_TESTS_MVCC_INDEX_PEER_H_
