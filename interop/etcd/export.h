// The way back: `revkv snapshot save --format etcd FILE` writes a store as
// an etcd 3.4 snapshot -- a bbolt file (bolt_writer.h) then the SHA-256 of
// it, as `etcdctl snapshot save` writes one -- that `etcdctl snapshot
// restore` accepts and a restored etcd serves with the same HashKV.
//
// What goes into it: the `key` bucket byte for byte, the `meta` bucket's
// consistent_index and compaction revisions, and the `lease` and `alarm`
// buckets if the store has them (an import from etcd keeps them). revkv's
// own buckets (its index checkpoint) stay behind.
//
// The file is written as "<path>.part", fsynced and renamed into place.
//
// Thread-safety: may run while other threads use the store (it reads a
// backend snapshot).
#ifndef REVKV_INTEROP_ETCD_EXPORT_H_
#define REVKV_INTEROP_ETCD_EXPORT_H_

#include <string>

#include "absl/status/status.h"
#include "mvcc/store.h"

namespace revkv::interop::etcd {

absl::Status SaveEtcdSnapshot(mvcc::Store* store, const std::string& path);

}  // namespace revkv::interop::etcd

#endif  // REVKV_INTEROP_ETCD_EXPORT_H_
