// Test-only: a tiny bbolt 1.3 file writer, to build files with what real
// etcd files rarely show (nested and inline buckets, overflow values, deep
// trees, a synced freelist with the 0xFFFF count escape, other page sizes)
// and to damage them precisely. It writes what bbolt's layout allows, in
// one pass: pages in order from page 2, trees bottom-up, no history.
//
// Thread-safety: plain values and pure functions.
#ifndef REVKV_TESTS_INTEROP_BOLT_WRITER_H_
#define REVKV_TESTS_INTEROP_BOLT_WRITER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace revkv::interop::etcd::testing {

// A bucket's contents: plain entries and nested buckets, keys unique.
struct TestBucket {
  std::map<std::string, std::string> values;
  std::map<std::string, TestBucket> buckets;
  uint64_t sequence = 0;
};

struct WriterOptions {
  uint32_t page_size = 4096;
  // Write small buckets without sub-buckets inline in their parent's leaf,
  // as bbolt does for buckets under a quarter page.
  bool inline_small = true;
  // Most entries per leaf or branch page (forces deep trees in small tests);
  // 0: as many as fit.
  int max_per_page = 0;
  // Free pages to add after the data, listed in a freelist page; -1: sync
  // no freelist (etcd's NoFreelistSync: the metas say 2^64-1).
  int64_t free_pages = -1;
  uint64_t txid = 7;
};

// Where the writer put things, for tests that damage them.
struct WriterLayout {
  uint64_t root_page = 0;
  uint64_t freelist_page = 0;  // 0: none
  uint64_t high_water = 0;
  std::vector<uint64_t> leaf_pages;    // every leaf page written, in order
  std::vector<uint64_t> branch_pages;  // every branch page written
};

// The whole file; both metas describe the same commit (txid and txid - 1).
std::string WriteBoltFile(const TestBucket& root, const WriterOptions& options,
                          WriterLayout* layout = nullptr);

}  // namespace revkv::interop::etcd::testing

#endif  // REVKV_TESTS_INTEROP_BOLT_WRITER_H_
