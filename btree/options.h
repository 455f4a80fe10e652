// Options of a btree database file.
#ifndef REVKV_BTREE_OPTIONS_H_
#define REVKV_BTREE_OPTIONS_H_

#include <cstdint>

namespace revkv::btree {

class Env;

inline constexpr uint32_t kMinPageSize = 4096;
inline constexpr uint32_t kMaxPageSize = 65536;
inline constexpr uint32_t kDefaultPageSize = 4096;
inline constexpr size_t kMaxKeySize = 32768;
inline constexpr uint64_t kMaxValueSize = (uint64_t{1} << 32) - 1;  // 4 GiB - 1

struct Options {
  // Page size for a new file: a power of two in [4 KiB, 64 KiB]. An existing
  // file keeps the page size recorded in it.
  uint32_t page_size = kDefaultPageSize;
  // Create the file if it does not exist.
  bool create_if_missing = true;
  // Open read-only with a shared lock; write transactions fail.
  bool read_only = false;
  // Skip fdatasync at commit (bulk loads, tests): a crash may lose commits
  // that were acknowledged, but never leaves a file that fails to open.
  bool no_sync = false;
  // Open the previous commit when the newest one is damaged (a page it
  // wrote fails verification) instead of failing with DataLoss: the newest
  // commit is lost, and DB::open_note() says so. Like bbolt's surgery and
  // etcdutl, a deliberate choice of the user, never a default.
  bool allow_rollback = false;
  // Address space reserved for the read-only mapping at open (grows as
  // needed without waiting for readers). 0 picks a default.
  uint64_t initial_mmap_size = 0;
  // File layer; nullptr means Env::Default(). Not owned.
  Env* env = nullptr;
};

}  // namespace revkv::btree

#endif  // REVKV_BTREE_OPTIONS_H_
