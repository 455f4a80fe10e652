// DB: one btree database file, after bbolt and LMDB.
//
// A file holds named buckets of ordered keys and values. Transactions are
// either one writer at a time or any number of readers; each reader sees the
// snapshot of the last commit before it began, for as long as it lives, and
// never waits for the writer (nor the writer for it).
//
// Growth: reads go through a read-only shared mapping that reserves address
// space beyond the file's end. When the file outgrows it, a larger mapping is
// made; the old one stays alive until the last transaction using it ends, so
// a remap never waits for readers. Pages freed by a commit are reused only
// once no reader that could see them is left.
//
// Durability: Commit writes the new pages, fdatasyncs, then writes the meta
// page into the older of the two meta slots and fdatasyncs again, so the pages
// a durable meta points to are durable too. A crash at any instant leaves the
// last acknowledged commit (or, if the crash hit before acknowledgement, the
// one before it): a torn meta fails its checksum and open takes the other.
//
// Damage: nothing read from the file is used unverified. Open verifies both
// metas and the pages the newest commit wrote (listed in its meta, see
// page.h); every other span is verified before a transaction first uses it
// (see verified_pages.h). A damaged meta page makes open take the other one
// and say so in open_note(); a damaged page of the newest commit fails open
// with DataLoss unless Options::allow_rollback, and damage met later fails
// the operation that met it with DataLoss naming the file and page. Nothing
// is answered from a page that fails verification.
//
// Exclusive writer: a read-write open takes an exclusive flock on the file and
// fails at once if another handle, in any process, holds it.
//
// Thread-safety: DB is thread-safe. A Tx is used by one thread at a time (it
// may move between threads); a Tx must end (Commit, Rollback or destruction)
// before the DB is destroyed.
#ifndef REVKV_BTREE_DB_H_
#define REVKV_BTREE_DB_H_

#include <atomic>
#include <condition_variable>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "btree/env.h"
#include "btree/arena.h"
#include "btree/freelist.h"
#include "btree/options.h"
#include "btree/page.h"
#include "btree/stats.h"
#include "btree/tx.h"
#include "btree/verified_pages.h"

namespace revkv::btree {

// Whether `s` is Open's DataLoss for a damaged newest commit, which
// Options::allow_rollback would open by rolling back to the commit before.
bool IsNewestCommitDamaged(const absl::Status& s);

struct SpaceUsage {
  uint64_t high_water_bytes = 0;
  uint64_t in_use_bytes = 0;  // <= high_water_bytes
};

class DB {
 public:
  // Opens (or creates, per options) the database file at `path`.
  static absl::StatusOr<std::unique_ptr<DB>> Open(const std::string& path,
                                                  const Options& options = {});
  // Closes the file. All transactions must have ended.
  ~DB();
  DB(const DB&) = delete;
  DB& operator=(const DB&) = delete;

  // Starts a transaction. A writable one waits while another writer is open.
  absl::StatusOr<std::unique_ptr<Tx>> Begin(bool writable);

  // Runs fn in a write transaction and commits it if fn returns OK, else
  // rolls it back and returns fn's error.
  absl::Status Update(const std::function<absl::Status(Tx&)>& fn);
  // Runs fn in a read transaction.
  absl::Status View(const std::function<absl::Status(Tx&)>& fn);

  // Full structural check of the latest snapshot (see Tx::Check). Returns
  // DataLoss listing the problems, which are also stored in *problems.
  absl::Status Check(std::vector<std::string>* problems = nullptr);

  // Page and bucket statistics of the latest snapshot, plus counters.
  absl::StatusOr<DBStats> Stats();

  // Writes the live data of the latest snapshot into a new dense file at
  // `path` (which must not exist). Writers may continue meanwhile. To know
  // which commit was copied, use Tx::CompactTo on a read transaction.
  absl::Status CompactTo(const std::string& path, const Options& options = {});

  const std::string& path() const { return path_; }
  uint32_t page_size() const { return page_size_; }
  bool read_only() const { return options_.read_only; }
  // Read transactions open now.
  int OpenReadTxs();
  // Length of the file in bytes: the high-water mark plus the room the file
  // was grown by ahead of it (commits grow it at least 1 MiB at a time). One
  // fstat; 0 if that fails.
  uint64_t FileSize();
  // Bytes below the high-water mark as of the last commit: every page ever
  // allocated, free ones included (bbolt's Tx.Size, which etcd reports as
  // the database's size). Grows by whole pages as commits allocate past it;
  // only a copy into a new file (CompactTo, so a defrag) lowers it. O(1).
  uint64_t HighWaterBytes();
  // The high-water mark and the bytes in use (the high-water mark less free
  // and pending pages) as of one commit: two separate reads could straddle
  // a commit and show more in use than below the mark. O(1).
  SpaceUsage Space();
  // Transaction id of the last commit.
  txid_t LastTxid();
  // A commit that failed to write or sync poisons the DB: every later write
  // transaction fails with this error (the file keeps its last good commit).
  absl::Status Poisoned();
  // Empty, or what open set aside and why: a damaged or torn meta page (the
  // other one was opened), or under Options::allow_rollback a damaged newest
  // commit (the one before it was opened: the newest is lost).
  const std::string& open_note() const { return open_note_; }

 private:
  friend class Tx;
  friend class Bucket;

  DB(std::string path, const Options& options);
  // Creates a new, empty database file at path_, complete or not at all:
  // built under a temporary name and linked into place.
  absl::Status Create();
  absl::Status LoadMeta();
  // OK when every span in the commit list of meta `page` holds what its
  // commit wrote; else DataLoss naming the first that does not.
  absl::Status VerifyCommitList(const char* page, const MetaBody& meta);
  // Picks between the two decoded metas (see LoadMeta).
  absl::Status ChooseMeta(const char* page0, const MetaBody& m0, absl::Status s0,
                          const char* page1, const MetaBody& m1, absl::Status s1);
  absl::Status LoadFreelist();
  // Makes the mapping cover `bytes` (writer only); returns the current one.
  absl::StatusOr<std::shared_ptr<const Mapping>> EnsureMapped(uint64_t bytes);
  void Poison(const absl::Status& s);

  // Reader registry: begin/end of read transactions.
  void RegisterReader(txid_t* txid, MetaBody* meta,
                      std::shared_ptr<const Mapping>* mapping);
  void UnregisterReader(txid_t txid);
  // Writer gate.
  absl::Status AcquireWriter(MetaBody* meta,
                             std::shared_ptr<const Mapping>* mapping);
  void ReleaseWriter();
  void Publish(const MetaBody& meta);
  // Refreshes the freelist figures Stats reports (writer only).
  void PublishFreeCounts();

  std::string path_;
  Options options_;
  Env* env_;
  uint32_t page_size_ = 0;
  std::unique_ptr<File> file_;
  uint64_t file_size_ = 0;  // guarded by the writer gate after open
  std::string open_note_;  // set by open only
  VerifiedPages verified_;
  std::atomic<uint64_t> spans_verified_{0};  // reported in TxCounters

  // Guards meta_, mapping_, readers_, counters_.
  std::mutex mu_;
  MetaBody meta_{};
  std::shared_ptr<const Mapping> mapping_;
  std::map<txid_t, int> readers_;  // open readers by snapshot txid
  TxCounters counters_;
  uint64_t free_pages_ = 0;     // as of the last commit
  uint64_t pending_pages_ = 0;
  absl::Status poisoned_;

  // The writer gate: one write transaction at a time, releasable from any
  // thread (a write tx may be committed by another thread than began it).
  std::mutex writer_mu_;
  std::condition_variable writer_cv_;
  bool writer_active_ = false;

  Freelist freelist_;  // owned by the active writer
  std::string freelist_encoding_;  // owned by the active writer; reused
};

}  // namespace revkv::btree

#endif  // REVKV_BTREE_DB_H_
