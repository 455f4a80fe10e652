// Tx: a read or write transaction over a DB.
//
// A read transaction sees the snapshot of the last commit before it began.
// Keys and values it returns are views into the file's mapping and stay valid
// until the transaction ends. A write transaction sees its own changes; views
// it returns stay valid until it ends, unless the key is changed or deleted.
//
// Thread-safety: not thread-safe; use a Tx from one thread at a time. Many
// read transactions may run concurrently in different threads. One read
// transaction may also be read from several threads at once, through Bucket
// pointers obtained beforehand (Get, Range, cursors change nothing); its
// bucket lookups (GetBucket), which cache, need one thread at a time.
#ifndef REVKV_BTREE_TX_H_
#define REVKV_BTREE_TX_H_

#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "btree/arena.h"
#include "btree/bucket.h"
#include "btree/env.h"
#include "btree/options.h"
#include "btree/page.h"
#include "btree/stats.h"

namespace revkv::btree {

class DB;
namespace internal {
class Checker;
struct TreeWalk;
}  // namespace internal

class Tx {
 public:
  // Rolls back if still open.
  ~Tx();
  Tx(const Tx&) = delete;
  Tx& operator=(const Tx&) = delete;

  // For a read transaction, the txid of its snapshot; for a write
  // transaction, the txid its commit will have.
  txid_t id() const { return meta_.txid; }
  bool writable() const { return writable_; }
  DB* db() const { return db_; }

  // The catalog: the bucket holding the top-level buckets.
  Bucket& root() { return *root_; }
  // Shorthands for the catalog's bucket operations.
  absl::StatusOr<Bucket*> GetBucket(std::string_view name) { return root_->GetBucket(name); }
  absl::StatusOr<Bucket*> CreateBucket(std::string_view name) { return root_->CreateBucket(name); }
  absl::StatusOr<Bucket*> CreateBucketIfNotExists(std::string_view name) {
    return root_->CreateBucketIfNotExists(name);
  }
  absl::Status DeleteBucket(std::string_view name) { return root_->DeleteBucket(name); }
  // Names of the top-level buckets, in order.
  absl::StatusOr<std::vector<std::string>> ListBuckets();

  // Makes the changes durable (see DB). After an error the transaction is
  // rolled back and the file holds the previous commit.
  absl::Status Commit();
  // Discards the changes (a no-op for a read transaction except ending it).
  void Rollback();

  // Structural check of this snapshot: every page reachable exactly once or
  // free, keys ordered within and across pages, branch keys bounding their
  // children, checksums valid. Returns every problem found.
  std::vector<std::string> Check();
  // The same problems with their page, kind and the keys they may affect.
  std::vector<CheckProblem> CheckProblems();

  // Writes a consistent copy of this snapshot as a complete database file.
  // Writers may continue meanwhile. Every page the snapshot uses is verified
  // first: a damaged page fails the copy with DataLoss, never copied on.
  absl::Status WriteTo(std::ostream& out);
  // Writes the live data of this snapshot into a new dense file at `path`
  // (which must not exist); on error, a damaged page included, nothing is
  // left at `path`.
  absl::Status CompactTo(const std::string& path, const Options& options = {});
  // Bytes WriteTo writes: the high-water mark of this snapshot.
  uint64_t Size() const { return meta_.high_water * uint64_t{page_size_}; }
  uint32_t page_size() const { return page_size_; }

 private:
  friend class DB;
  friend class Bucket;
  friend class Cursor;
  friend class Node;
  friend class internal::Checker;
  friend struct internal::TreeWalk;

  Tx(DB* db, bool writable);
  void End();

  // The span of pages starting at `id`, checked against the snapshot and,
  // unless verified since its allocation (or `reverify`), its checksum.
  // Damage is DataLoss naming the file and page (see DamagedPageError).
  absl::StatusOr<const char*> Span(pgid_t id, PageKind kind, uint32_t* pages,
                                   bool reverify = false);
  // DataLoss for damaged page `id`; it also fails a write transaction.
  absl::Status Damaged(pgid_t id, std::string_view what);
  // Loads, and so verifies, every span this snapshot uses.
  absl::Status VerifyReachable();
  // A validated leaf or branch page.
  absl::StatusOr<NodeView> NodePage(pgid_t id);
  // Asks the CPU to start loading the first `bytes` of page `id` if it is
  // mapped; no effect otherwise, and nothing is validated.
  void Prefetch(pgid_t id, size_t bytes) const;
  // Asks the CPU to load the keys a binary search of leaf or branch page
  // `id` probes in its first `levels` steps. Unvalidated: it only reads
  // within the mapping, and a page that is not a node is skipped.
  void PrefetchProbes(pgid_t id, int levels) const;

  // Write-transaction allocation. Allocated spans go to dirty buffers that
  // Commit writes; WriteSpan writes one at once (large values).
  absl::StatusOr<pgid_t> Allocate(uint64_t pages);
  void Free(pgid_t id, uint64_t pages);
  char* NewDirtySpan(pgid_t id, uint64_t pages);
  // Writes a large value's overflow span at once (not buffered until commit).
  absl::Status WriteOverflow(pgid_t id, uint64_t pages, std::string_view value);
  absl::Status FlushDirty();
  absl::Status WriteFreelist();
  // Whether the meta lists the spans this commit wrote (see page.h).
  bool ListsCommit() const;
  absl::Status WriteMeta();
  absl::Status CommitInternal(bool* wrote);
  // Grows the file to at least `bytes` and the mapping with it.
  absl::Status Grow(uint64_t bytes);
  std::string_view Copy(std::string_view bytes) { return arena_.Copy(bytes); }

  DB* db_;
  bool writable_;
  bool open_ = true;
  uint32_t page_size_;
  MetaBody meta_{};
  // The first damage a write transaction met: Commit returns it.
  absl::Status failed_;
  std::shared_ptr<const Mapping> mapping_;
  std::vector<std::shared_ptr<const Mapping>> old_mappings_;
  std::unique_ptr<Bucket> root_;
  Arena arena_;

  struct DirtySpan {
    pgid_t id;
    uint64_t pages;
    char* buf;  // in arena_
  };
  std::vector<DirtySpan> dirty_;
  std::vector<FreeExtent> allocated_;  // for rollback
  // The spans this transaction wrote, with their checksums, up to one more
  // than kMaxCommitList: the meta's commit list when there are few enough
  // (see page.h).
  std::vector<CommitListEntry> written_;
  bool wrote_overflow_ = false;
  pgid_t start_high_water_ = 0;
};

}  // namespace revkv::btree

#endif  // REVKV_BTREE_TX_H_
