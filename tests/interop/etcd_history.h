// Test helper: a seeded random etcd history written through etcdctl to a
// real etcd 3.4 -- puts, deletes (single, range, prefix), txns with compares,
// lease grants, puts under leases, lease revokes, compactions -- and what
// etcd answered about it at the end (hashkv and a full get at chosen
// revisions), for comparing a revkv import against.
//
// Thread-safety: not thread-safe.
#ifndef REVKV_TESTS_INTEROP_ETCD_HISTORY_H_
#define REVKV_TESTS_INTEROP_ETCD_HISTORY_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tests/cmd/etcd_server.h"

namespace revkv::interop::etcd::testing {

struct EtcdHistory {
  int64_t revision = 1;         // etcd's current revision at the end
  int64_t compact_revision = 0;  // the last compaction's (0: none)
  int64_t leases_granted = 0;
  int64_t ops_failed = 0;        // etcdctl calls that failed (compactions of the past, ...)
  // Retained revisions checked, and etcd's normalised answers at each.
  std::vector<int64_t> revisions;
  std::map<int64_t, std::string> hashkv;  // -w json endpoint hashkv --rev=R (R > compacted)
  std::map<int64_t, std::string> get;     // -w json get "" --prefix --rev=R
};

// Writes `ops` random operations (seeded) to `etcd`, then records its
// answers at the current revision, the compacted one and up to `sample`
// other retained revisions. False (with *error) if etcd misbehaved.
bool WriteRandomHistory(revkv::testing::EtcdServer& etcd, uint64_t seed, int ops, int sample,
                        EtcdHistory* out, std::string* error);

// The same queries against a revkv data directory (normalised the same way).
std::string RevkvHashKV(const std::string& dir, int64_t rev);
std::string RevkvGetAll(const std::string& dir, int64_t rev);

}  // namespace revkv::interop::etcd::testing

#endif  // REVKV_TESTS_INTEROP_ETCD_HISTORY_H_
