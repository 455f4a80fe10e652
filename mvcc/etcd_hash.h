// What Maintenance.Hash hashes: etcd 3.4's backend hash (Backend::EtcdHash)
// with the ignore set below, so that it is etcd's algorithm over etcd's
// data. Two members holding the same etcd-visible data answer the same hash
// whatever else their files hold.
//
// Left out:
//  - etcd's DefaultIgnores: the meta bucket's consistent_index (it moves
//    with every Raft entry, also those that change nothing);
//  - revkv's own data, which an etcd never holds and which members holding
//    the same records may hold differently: the index checkpoint bucket
//    (kIndexBucket, written at a clean close) and the key-ordered base
//    (IsBaseData: its buckets and its meta key).
// Everything else is hashed as etcd hashes it: key, meta's compaction
// revisions, lease, alarm, members (a cluster's member table)...
//
// Thread-safety: pure functions.
#ifndef REVKV_MVCC_ETCD_HASH_H_
#define REVKV_MVCC_ETCD_HASH_H_

#include <string_view>

namespace revkv::mvcc {

// Whether Maintenance.Hash skips (bucket, key); with the empty key, whether
// it skips the whole bucket (Backend::EtcdHash's convention).
bool IsEtcdHashIgnored(std::string_view bucket, std::string_view key);

}  // namespace revkv::mvcc

#endif  // REVKV_MVCC_ETCD_HASH_H_
