// Statistics of a btree file and of its buckets. Plain values.
#ifndef REVKV_BTREE_STATS_H_
#define REVKV_BTREE_STATS_H_

#include <cstdint>
#include <map>
#include <string>

namespace revkv::btree {

// Page and key counts of one bucket's tree (nested buckets not included).
struct BucketStats {
  uint64_t key_count = 0;       // entries that are not buckets
  uint64_t bucket_count = 0;    // nested buckets directly inside
  uint64_t branch_pages = 0;    // pages of branch nodes (spans counted whole)
  uint64_t leaf_pages = 0;
  uint64_t overflow_pages = 0;  // pages holding large values
  uint64_t depth = 0;           // levels, 1 for a lone leaf
  uint64_t bytes_in_use = 0;    // bytes of the pages above
};

// Counters of committed transactions since open.
struct TxCounters {
  uint64_t read_tx_started = 0;
  uint64_t write_tx_committed = 0;
  uint64_t write_tx_rolled_back = 0;
  uint64_t pages_written = 0;
  uint64_t bytes_written = 0;
  uint64_t syncs = 0;
  uint64_t remaps = 0;
  // Spans whose checksum was computed on read: each once per allocation
  // (see verified_pages.h), plus every span of each Check.
  uint64_t spans_verified = 0;
};

// One problem a check found: what, where, and which keys it may affect.
struct CheckProblem {
  enum Kind {
    kDamaged,      // a span fails verification (checksum, header)
    kStructure,    // a verified page's content is inconsistent
    kUnaccounted,  // pages neither reachable nor free
    kMeta,         // a damaged meta page (open took the other)
    kNewestCommit, // a page the newest commit wrote is damaged
  };
  static const char* KindName(Kind kind);  // "damaged", "structure", ...

  Kind kind = kDamaged;
  int64_t page = -1;  // first page of the span concerned, -1 if none
  // With `keyed`, the keys of `bucket` ('/'-joined path, "" for the catalog
  // of buckets) the problem may lose: [first_key, end_key), an empty
  // end_key meaning no upper bound.
  bool keyed = false;
  std::string bucket;
  std::string first_key;
  std::string end_key;
  std::string message;
};

struct DBStats {
  uint32_t page_size = 0;
  uint64_t txid = 0;            // of the snapshot measured
  uint64_t file_bytes = 0;      // size of the file
  uint64_t high_water_pages = 0;  // pages below the high-water mark
  uint64_t branch_pages = 0;    // over every bucket
  uint64_t leaf_pages = 0;
  uint64_t overflow_pages = 0;
  uint64_t free_pages = 0;      // reusable now
  uint64_t pending_pages = 0;   // freed, waiting for older readers to end
  uint64_t freelist_pages = 0;
  uint64_t meta_pages = 2;
  uint64_t bytes_in_use = 0;    // (high-water - free - pending) * page_size
  uint64_t max_depth = 0;
  uint64_t open_read_txs = 0;
  // Stats of every bucket, by path: nested names joined with '/'.
  std::map<std::string, BucketStats> buckets;
  TxCounters counters;
};

}  // namespace revkv::btree

#endif  // REVKV_BTREE_STATS_H_
