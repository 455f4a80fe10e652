#include "mvcc/etcd_hash.h"

#include "mvcc/key_order_base.h"
#include "mvcc/store.h"

namespace revkv::mvcc {

bool IsEtcdHashIgnored(std::string_view bucket, std::string_view key) {
  if (bucket == kMetaBucket && key == kConsistentIndexKey) return true;  // etcd's own ignore
  return bucket == kIndexBucket || IsBaseData(bucket, key);
}

}  // namespace revkv::mvcc
