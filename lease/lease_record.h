// A lease as the "lease" bucket keeps it, in etcd 3.4's layout: the key is
// the lease id as 8 bytes big-endian, the value the protobuf
// leasepb.Lease{int64 ID = 1; int64 TTL = 2; int64 RemainingTTL = 3}.
// Encoded by hand, as mvcc/key_value.cc encodes mvccpb.KeyValue, so that
// bbolt files stay interchangeable with etcd's.
//
// Thread-safety: pure functions.
#ifndef REVKV_LEASE_LEASE_RECORD_H_
#define REVKV_LEASE_LEASE_RECORD_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace revkv::lease {

inline constexpr char kLeaseBucket[] = "lease";

struct LeaseRecord {
  int64_t id = 0;
  int64_t ttl = 0;            // seconds, as granted (after the minimum)
  int64_t remaining_ttl = 0;  // seconds; etcd's checkpoint, 0 when none
};

// The bucket key of lease `id`.
std::string EncodeLeaseKey(int64_t id);
std::string EncodeLeaseRecord(const LeaseRecord& r);

// Decodes and verifies one bucket entry: the key is 8 bytes, the value a
// well-formed leasepb.Lease whose ID is the key's, with a positive TTL and a
// remaining TTL in [0, TTL]. DataLoss (IsBadLeaseRecord) naming the bucket,
// the key and the fault otherwise.
absl::Status DecodeLeaseRecord(std::string_view key, std::string_view value, LeaseRecord* out);

}  // namespace revkv::lease

#endif  // REVKV_LEASE_LEASE_RECORD_H_
