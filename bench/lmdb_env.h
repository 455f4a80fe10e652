// Shared by the two LMDB wrappers (lmdb_engine.cc, lmdb_target.cc): opening
// an environment the way both benchmark it, and LMDB's errors as Status.
//
// Thread-safety: the functions are stateless; LMDB's own rules apply to the
// handles.
#ifndef REVKV_BENCH_LMDB_ENV_H_
#define REVKV_BENCH_LMDB_ENV_H_

#include <lmdb.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace revkv::bench {

// The map both wrappers reserve: far above any benchmark's data.
inline constexpr size_t kLmdbMapSize = size_t{64} << 30;

// An error naming the LMDB call and its message.
absl::Status LmdbError(const char* what, int rc);

inline MDB_val LmdbVal(std::string_view s) {
  return MDB_val{s.size(), const_cast<char*>(s.data())};
}

// Opens an environment in directory `dir` with a kLmdbMapSize map, LMDB's
// default durability, `flags` (e.g. MDB_NOTLS) and `max_readers`, and the
// named database "bench" in it (created if missing). On failure nothing is
// left open.
absl::Status OpenLmdb(const std::string& dir, unsigned flags, unsigned max_readers,
                      MDB_env** env, MDB_dbi* dbi);

}  // namespace revkv::bench

#endif  // REVKV_BENCH_LMDB_ENV_H_
