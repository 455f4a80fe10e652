// Store: the revision-indexed key-value store, with etcd v3.4's mvcc
// semantics to the revision (kvstore.go, kvstore_txn.go).
//
// Every change gets a revision {main, sub}: a write transaction takes the next
// main revision and numbers its changes 0, 1, ... as sub revisions. A fresh
// store is at revision 1. Records live in the backend's "key" bucket under
// their 17-byte revision key (18 with the tombstone mark) as protobuf
// mvccpb.KeyValue bytes; the in-memory Index maps keys to revisions.
//
// Reads never wait for a writer: a TxnRead pins the current revision and a
// ConcurrentReadTx of the backend. Compact(rev) compacts the index at once
// and deletes obsolete records in the background in batches of 10,000, each
// its own commit (etcd's scheduledCompactRev / finishedCompactRev protocol;
// an unfinished compaction resumes on open).
//
// The meta bucket's consistent_index counts the write transactions that
// changed something; as etcd 3.5 does, it is written once per backend
// commit (a pre-commit hook the store installs on its backend and removes at
// Close), not once per transaction. A Backend serves one Store at a time.
//
// Thread-safety: Store is thread-safe. Any number of TxnReads may be open; one
// TxnWrite at a time (Write waits). A TxnRead/TxnWrite is used by one thread.
#ifndef REVKV_MVCC_STORE_H_
#define REVKV_MVCC_STORE_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "backend/backend.h"
#include "backend/errors.h"
#include "util/mutex.h"
#include "mvcc/errors.h"
#include "mvcc/event.h"
#include "mvcc/index.h"
#include "mvcc/key_order_base.h"
#include "mvcc/key_value.h"
#include "mvcc/revision.h"

namespace revkv::mvcc {

inline constexpr char kKeyBucket[] = "key";
inline constexpr char kMetaBucket[] = "meta";
inline constexpr char kConsistentIndexKey[] = "consistent_index";
// The index checkpoint of a clean close (checkpoint.cc); revkv's own bucket.
inline constexpr char kIndexBucket[] = "revkv_index";
inline constexpr char kScheduledCompactKey[] = "scheduledCompactRev";
inline constexpr char kFinishedCompactKey[] = "finishedCompactRev";

struct RangeOptions {
  int64_t limit = 0;        // 0: no limit
  int64_t rev = 0;          // 0: the current revision
  bool count_only = false;  // count, return no kvs
};

struct RangeResult {
  std::vector<KeyValue> kvs;  // in key order, at most limit
  int64_t rev = 0;            // the store's current revision
  int64_t count = 0;          // every match, whatever the limit
};

struct HashResult {
  uint32_t hash = 0;
  int64_t rev = 0;          // current revision
  int64_t compact_rev = 0;  // -1 when never compacted
};

class Store;

// The store's lessor (lease/lessor.h; etcd's lease.Lessor that
// storeTxnWrite holds): asked whether a put may name its lease, and told of
// each key a write transaction puts or deletes, so that a key's lease
// attachment changes in the same transaction as the key. Called by the
// writer's thread with write_mu_ and the BatchTx lock held: it may take
// only locks below those (mvcc/README.md) and never starts a write.
class LeaseHook {
 public:
  virtual ~LeaseHook() = default;
  // OK, or the error refusing a put that names `lease` (0 included, if the
  // hook refuses it); nothing is written then.
  virtual absl::Status CheckPut(int64_t lease) = 0;
  // `key` was put with `lease` (0: none): it leaves its previous lease.
  virtual void OnPut(std::string_view key, int64_t lease) = 0;
  // `key` was deleted: it leaves its lease.
  virtual void OnDelete(std::string_view key) = 0;
};

// Told of every published write transaction, in revision order (the
// watchable store, watchable_store.h).
class WriteObserver {
 public:
  virtual ~WriteObserver() = default;
  // Called by TxnWrite::End with write_mu_ held (and no other store lock),
  // after revision `rev` is visible to reads. `changes` are its changes in
  // sub-revision order, or null when the transaction did not record them
  // (nobody watched when it began): the observer then reads them back
  // (Store::ReadEvents). Must not block on anything but short locks, and
  // may not call back into a write.
  virtual void OnPublished(int64_t rev, std::vector<Event>* changes) = 0;
  // Hints, with write_mu_ held, that a recording transaction is about to
  // write `key` (WillWrite) and has written it (Wrote): the observer may
  // start loading what OnPublished will touch for it. They change nothing.
  virtual void WillWrite(std::string_view key) {}
  virtual void Wrote(std::string_view key) {}
  // Store::Close has begun: stop using the store. Called without store locks.
  virtual void OnStoreClose() = 0;
  // Store::Reload replaced the data: the store is at revision `rev` now,
  // with none of the revisions after the last published one handed over
  // (they came with the new data). Called with write_mu_ held, after the
  // new state is readable, before any later write.
  virtual void OnReloaded(int64_t rev) = 0;
};

// A read transaction: a fixed revision and backend view (storeTxnRead).
class TxnRead {
 public:
  virtual ~TxnRead();
  // Keys in [key, end) as of opts.rev. end empty: the single key; end "\0":
  // every key >= key. Errors: ErrCompacted below the compacted revision,
  // ErrFutureRev above the current one.
  virtual absl::StatusOr<RangeResult> Range(std::string_view key, std::string_view end,
                                            const RangeOptions& opts);
  // The revision this transaction reads at (for a write: as seen inside it).
  virtual int64_t Rev() const { return rev_; }
  int64_t FirstRev() const { return first_rev_; }

 protected:
  friend class Store;
  // gen: the store's reload generation when the read began (BeginRead).
  TxnRead(Store* store, int64_t rev, int64_t first_rev, uint64_t gen);
  absl::StatusOr<RangeResult> RangeAt(std::string_view key, std::string_view end,
                                      int64_t cur_rev, const RangeOptions& opts);
  // Reads and decodes the record stored at `rev`; DataLoss if it is missing.
  virtual absl::Status ReadRecord(Revision rev, KeyValue* out) = 0;
  // ReadRecord for each of revs into out[i]; the default reads one by one.
  virtual absl::Status ReadRecords(absl::Span<const Revision> revs, KeyValue* out);
  // The view a read transaction reads from (null: a write transaction),
  // which a range may read from the key-ordered base.
  virtual backend::ConcurrentReadTx* view() { return nullptr; }
  // The records of a range's keys (revs in key order, keys in [start, end),
  // the last one `last` if a limit cut the range): from the key-ordered base
  // where it holds them, the rest by revision.
  absl::Status ReadRangeRecords(std::string_view start, std::string_view end,
                                std::string_view last, absl::Span<const Revision> revs,
                                KeyValue* out);

  Store* store_;
  int64_t rev_;
  int64_t first_rev_;
  uint64_t gen_;
};

// A write transaction (storeTxnWrite): its changes share main revision
// Rev()+1 with sub revisions in order; its reads see its own changes. End
// publishes them; destruction ends it.
class TxnWrite : public TxnRead {
 public:
  ~TxnWrite() override;
  absl::StatusOr<RangeResult> Range(std::string_view key, std::string_view end,
                                    const RangeOptions& opts) override;
  // Puts key; returns the revision the change will have.
  absl::StatusOr<int64_t> Put(std::string_view key, std::string_view value, int64_t lease = 0);
  // OK, or the error a Put naming `lease` would fail with (the store's
  // lessor asked now, inside this transaction): lets a caller refuse a
  // multi-op write before its first op, as Put itself cannot take back the
  // ops before it.
  absl::Status CheckLease(int64_t lease);
  // Deletes the keys in [key, end) (end as in Range); returns how many.
  absl::StatusOr<int64_t> DeleteRange(std::string_view key, std::string_view end);
  // The revision after the transaction: Rev(), plus one if it changed anything.
  int64_t Rev() const override { return rev_ + (changes_ > 0 ? 1 : 0); }
  // Publishes the changes (one new revision if there are any).
  absl::Status End();

 private:
  friend class Store;
  // keep_records false: the caller never reads in this transaction (a
  // single put), so its records need not be kept for reads.
  TxnWrite(Store* store, std::unique_lock<util::Mutex> write_lock, int64_t rev, int64_t first_rev,
           bool keep_records = true);
  // Its own records from own_records_, older ones from a view of the
  // writes before it. Not through the BatchTx: a read there sorts the whole
  // write buffer, so N reads among N writes would cost O(N^2).
  absl::Status ReadRecord(Revision rev, KeyValue* out) override;
  absl::Status Delete(std::string_view key);

  std::unique_lock<util::Mutex> write_lock_;
  backend::BatchTx* tx_;
  int64_t changes_ = 0;  // records written: the next one's sub revision
  bool ended_ = false;
  const bool keep_records_;
  std::vector<std::string> own_records_;  // by sub revision; "" for tombstones
  // Every write up to rev_ (all were published before this transaction
  // began: it holds write_mu_), taken at the first read of an older record.
  std::unique_ptr<backend::ConcurrentReadTx> before_;
  // Whether someone watched when the transaction began: then its changes
  // are recorded for the observer (a put's copy of its record); otherwise
  // not, and the observer reads them back if it needs them.
  const bool record_changes_;
  std::vector<Event> changes_for_watch_;
};

struct StoreOptions {
  // Records deleted per compaction batch (each batch is its own commit).
  int64_t compaction_batch = 10000;
  // Write the index into the backend at a clean close, so that the next open
  // loads it instead of rebuilding it from every record (checkpoint.cc).
  bool checkpoint_index = true;
  // Keep the key-ordered base (key_order_base.h) and read ranges from it.
  // A background thread rebuilds it when writes are quiet (at most 64
  // revisions in 20 ms) and at least max(base_min_changes, live keys / 8)
  // revisions came since the last build; false neither builds nor reads it.
  bool key_order_base = true;
  int64_t base_min_changes = 10000;
};

// The meta bucket's revision `name` (scheduledCompactRev or
// finishedCompactRev), -1 when absent. For the store's own files.
absl::StatusOr<int64_t> ReadMetaRevision(backend::BatchTx* tx, std::string_view name);

// Looks up the key bucket's records at revs through `view` in revision order
// (a range's revisions are scattered over the bucket; in order the lookups
// share the tree's upper levels and prefetch the leaves, GetSorted) and
// calls fn(i, record) for each revs[i], the record valid while the view is;
// stops at fn's first error. DataLoss when a record is missing.
absl::Status ReadRecordsByRevision(
    backend::ConcurrentReadTx& view, absl::Span<const Revision> revs,
    const std::function<absl::Status(size_t, std::string_view)>& fn);

class Store {
 public:
  // Opens the store over `b` (not owned; must outlive the store): creates the
  // buckets, loads the index checkpoint of a clean close if it still matches
  // the data or else rebuilds the index from the key bucket, restores the
  // current and compacted revisions, and resumes an unfinished compaction.
  static absl::StatusOr<std::unique_ptr<Store>> Open(backend::Backend* b,
                                                     const StoreOptions& options = {});
  // Waits for a running compaction batch, then closes. Open transactions
  // must have ended.
  ~Store();

  absl::StatusOr<std::unique_ptr<TxnRead>> Read();
  // Starts the write transaction, waiting for the current one to end.
  absl::StatusOr<std::unique_ptr<TxnWrite>> Write();

  // One-operation transactions.
  absl::StatusOr<RangeResult> Range(std::string_view key, std::string_view end,
                                    const RangeOptions& opts = {});
  absl::StatusOr<int64_t> Put(std::string_view key, std::string_view value, int64_t lease = 0);
  // Returns {deleted, revision after}.
  absl::StatusOr<std::pair<int64_t, int64_t>> DeleteRange(std::string_view key,
                                                          std::string_view end);

  // Compacts at rev: ErrCompacted if rev <= the compacted revision,
  // ErrFutureRev above the current one. The index is compacted before
  // returning; old records are deleted in the background (wait with
  // WaitCompaction).
  absl::Status Compact(int64_t rev);
  // Waits until every scheduled compaction has finished deleting.
  absl::Status WaitCompaction();

  // The changes of revisions [from, to] as watch events in revision order
  // (etcd's kvsToEvents: a DELETE carries its key and mod_revision), appended
  // to *out. ErrCompacted if from <= the compacted revision (some may be
  // gone), ErrFutureRev if to is past the current revision.
  absl::Status ReadEvents(int64_t from, int64_t to, std::vector<Event>* out);

  // The watch hook (watchable_store.h). SetObserver installs (or, with
  // null, removes) the one observer; it must stay alive until removed or
  // until the store is destroyed. SetWatched says whether anyone watches:
  // only then do write transactions record their changes.
  void SetObserver(WriteObserver* observer) ABSL_LOCKS_EXCLUDED(write_mu_);
  void SetWatched(bool watched) { watched_.store(watched, std::memory_order_seq_cst); }
  // Installs (or, with null, removes) the lessor that write transactions
  // consult and tell; it must stay alive until removed.
  void SetLeaseHook(LeaseHook* hook) ABSL_LOCKS_EXCLUDED(write_mu_);

  // etcd v3.4's HashKV (see hash.cc); rev 0 is the current revision.
  absl::StatusOr<HashResult> HashByRev(int64_t rev);

  int64_t Rev();
  // -1 when never compacted.
  int64_t CompactRev();
  // The consistent index as of the last write transaction, and as the last
  // backend commit saved it.
  int64_t ConsistentIndex();
  int64_t SavedConsistentIndex();
  // Raises the consistent index to `index` (never lowers it), saved with
  // the next commit: a log's applier numbers its entries (etcd's applied
  // Raft index), including those that change nothing. A write transaction
  // that changes something adds one (after SetApplyIndex, raises it to
  // that index instead).
  void RaiseConsistentIndex(int64_t index);
  // From now on, a write transaction that changes something raises the
  // consistent index to `index` instead of adding one, so the backend
  // commit holding its writes holds the index of the entry they came from:
  // a log whose applier sees gaps in its indexes (Raft's own entries, its
  // barriers and configuration changes, never reach the state machine)
  // calls it before applying each entry. Were it one more than the last
  // entry applied, a commit between the transaction and the applier's
  // RaiseConsistentIndex, then a crash, would have the restart apply the
  // entry again.
  void SetApplyIndex(int64_t index);
  Index& index() { return index_; }

  // Replaces the store's data with a later state of the same history (a
  // Raft leader's snapshot: etcd's kv.Restore). Holds off writers,
  // compactions and base rounds throughout; drops queued compactions of the
  // old data; calls replace() (which installs the new file:
  // Backend::ReplaceFile); rebuilds the index, the revisions and the
  // consistent index from the backend as Open does; then, writers still
  // held off, calls reloaded() (the lessor reloads there) and tells the
  // observer (OnReloaded). Resumes a compaction the new data had scheduled.
  //
  // Reads never answer from a mix of the two: one that began before and
  // ends after fails with ErrRestored (a read at the current revision
  // through Range retries instead), and one that begins meanwhile waits
  // for the reload to end. If replace() fails nothing changed; if the
  // rebuild fails the store has failed for good (writes and reads answer
  // the error).
  absl::Status Reload(const std::function<absl::Status()>& replace,
                      const std::function<absl::Status()>& reloaded)
      ABSL_LOCKS_EXCLUDED(compact_order_mu_, write_mu_, base_mu_);
  // Reloads that began (including a failed one).
  uint64_t reloads() const { return (reload_gen_.load(std::memory_order_acquire) + 1) / 2; }

  // The key-ordered base (key_order_base.h). RebuildKeyOrderBase runs one
  // rebuild round now in the caller's thread (rounds take turns with the
  // background one): OK once the base holds every key live at the revision
  // the round began at; ErrCompacted if a compaction passed that revision
  // (try again), DataLoss if the old base was found damaged (the next round
  // rebuilds from the records), FailedPrecondition if the base is off.
  absl::Status RebuildKeyOrderBase() ABSL_LOCKS_EXCLUDED(base_mu_);
  // Checks every entry of the current base against the key bucket: an entry
  // whose revision's record is still there must hold its key and bytes.
  // DataLoss naming the first mismatch, which also marks the base damaged
  // (so reads stop using it and the next round rebuilds it from the
  // records); OK when it holds.
  absl::Status VerifyKeyOrderBase() ABSL_LOCKS_EXCLUDED(base_mu_);
  KeyOrderBaseInfo key_order_base() const ABSL_LOCKS_EXCLUDED(base_stats_mu_);
  // Whether open loaded the index checkpoint of a clean close rather than
  // rebuilding the index from the key bucket.
  bool opened_from_checkpoint() const { return from_checkpoint_; }
  // What open found wrong but worked around, for the caller to report (the
  // library never prints): today an index checkpoint that failed
  // verification and was rebuilt from the records (IsCheckpointRejected).
  // Set by Open, unchanged after.
  const std::vector<absl::Status>& open_warnings() const { return open_warnings_; }
  backend::Backend* backend() { return backend_; }
  // Closes the store: later calls answer ErrClosed. Unless the store failed
  // or options say otherwise, writes the index checkpoint (a backend write;
  // it is durable once the backend commits, at its close at the latest) so
  // that the next Open skips rebuilding the index.
  absl::Status Close();

 private:
  friend class TxnRead;
  friend class TxnWrite;

  Store(backend::Backend* b, const StoreOptions& options);
  // Sets *scheduled to the compaction to resume, or -1.
  absl::Status Restore(int64_t* scheduled) ABSL_LOCKS_EXCLUDED(write_mu_);
  absl::Status RestoreLocked(int64_t* scheduled) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Reload's rebuild from the backend's new file: the old state's pieces
  // reset, then RestoreLocked.
  absl::Status Rebuild(int64_t* scheduled) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_, base_mu_);
  // The index checkpoint (checkpoint.cc): loads it if it describes the
  // state found at open (consistent index already read; the meta bucket's
  // compaction revisions given); writes one at a clean close.
  bool LoadCheckpoint(backend::ConcurrentReadTx& view, int64_t finished, int64_t scheduled)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::Status WriteCheckpoint() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Replays the key bucket's records after revision `rev` into the index;
  // returns the last one's main revision (rev if none).
  absl::StatusOr<int64_t> ReplayAfter(backend::ConcurrentReadTx& view, int64_t rev);
  absl::Status ScheduleCompaction(int64_t rev) ABSL_EXCLUSIVE_LOCKS_REQUIRED(compact_order_mu_);
  void CompactionLoop();
  // The key-ordered base (key_order_base.cc, key_order_rebuild.cc).
  absl::Status LoadBaseMeta(backend::BatchTx* tx);
  void BaseLoop();
  // One round; `background` gives it up when writes resume.
  absl::Status BaseRound(bool background) ABSL_EXCLUSIVE_LOCKS_REQUIRED(base_mu_);
  // Records damage found in the base: reads stop using it, and the next
  // round rebuilds it from the records.
  void ReportBaseDamage(const absl::Status& s) ABSL_LOCKS_EXCLUDED(base_stats_mu_);
  bool Stopping() ABSL_LOCKS_EXCLUDED(compact_mu_);
  absl::Status DeleteCompacted(int64_t rev, const RevisionSet& keep);
  absl::StatusOr<std::unique_ptr<backend::ConcurrentReadTx>> NewView();
  // Writes consistent_index_ to the meta bucket if it changed (the BatchTx
  // lock held).
  absl::Status SaveConsistentIndex(backend::BatchTx& tx);
  // A view holding every write up to the current revision (perhaps later
  // ones too), which it sets in *rev, and the compacted one in *first
  // (*first <= *rev); *gen is the reload generation it belongs to. Waits
  // for a reload in progress to end.
  absl::StatusOr<std::unique_ptr<backend::ConcurrentReadTx>> BeginRead(int64_t* rev,
                                                                       int64_t* first,
                                                                       uint64_t* gen);
  // OK if a read at rev begun in generation gen that ran until now answered
  // right: no reload came, no compaction passed rev and no commit failed.
  // ErrRestored, ErrCompacted or the commit error.
  absl::Status CheckReadable(int64_t rev, uint64_t gen);
  // Takes write_mu_ into *w and reads the revisions a write starts from.
  absl::Status BeginWrite(std::unique_lock<util::Mutex>* w, int64_t* rev, int64_t* first);
  // Marks the store failed after a backend write error: no more writes.
  void Fail(const absl::Status& s);

  struct CompactionJob {
    int64_t rev;
    RevisionSet keep;
  };

  backend::Backend* backend_;
  StoreOptions options_;
  Index index_;

  // The order of the store's locks is mvcc/README.md's table.
  util::Mutex compact_order_mu_ ABSL_ACQUIRED_BEFORE(write_mu_);
  util::Mutex write_mu_ ABSL_ACQUIRED_BEFORE(rev_mu_);  // one TxnWrite at a time, for its life
  // Serialises the changes of current_rev_, compact_main_rev_, closed_ and
  // failed_. Readers load the first three without it (BeginRead): a writer
  // publishes its writes before it makes their revision visible, and a
  // reader takes its view after it loads the revision, so the view holds
  // every write up to that revision.
  mutable util::AdaptiveMutex rev_mu_;  // short sections: spins before it sleeps
  std::atomic<int64_t> current_rev_{1};
  std::atomic<int64_t> compact_main_rev_{-1};
  // Write transactions that changed something, persisted by the backend's
  // pre-commit hook (SaveConsistentIndex) once per commit, as etcd 3.5
  // does, rather than by a meta write in each transaction.
  int64_t consistent_index_ = 0;        // guarded by the BatchTx lock
  int64_t saved_consistent_index_ = 0;  // in the btree transaction; same lock
  int64_t apply_index_ = 0;  // SetApplyIndex's (0: add one); same lock
  // What the checkpoint in the backend describes, if the store knows one.
  struct CheckpointId {
    int64_t finished = -2, scheduled = -2, rev = -1;
  };
  CheckpointId checkpoint_ ABSL_GUARDED_BY(write_mu_);
  WriteObserver* observer_ ABSL_GUARDED_BY(write_mu_) = nullptr;
  LeaseHook* lease_hook_ ABSL_GUARDED_BY(write_mu_) = nullptr;
  // Whether anyone watches (SetWatched). A write transaction reads it when it
  // begins and again at End after its revision is visible; a watcher is
  // registered after setting it and reads the current revision under
  // rev_mu_ after that, so either End sees it set or the watcher starts past
  // that transaction.
  std::atomic<bool> watched_{false};
  // Records in the key bucket after the checkpoint's revision: those open
  // replayed plus those written since.
  int64_t records_since_checkpoint_ ABSL_GUARDED_BY(write_mu_) = 0;
  int64_t records_replayed_ = 0;           // by the last ReplayAfter
  bool opened_ = false;            // Open succeeded: the index is whole
  bool from_checkpoint_ = false;
  std::vector<absl::Status> open_warnings_;  // written only by Open
  std::atomic<bool> closed_{false};  // changed under rev_mu_
  absl::Status failed_ ABSL_GUARDED_BY(rev_mu_);

  // The reload generation (a sequence count): odd while Reload swaps the
  // data (and for good after a failed one), even otherwise; readers load it
  // before their revision and view and check it after their read.
  std::atomic<uint64_t> reload_gen_{0};
  // Readers that find a reload in progress wait on reload_cv_ until
  // reloading_ is false. A leaf: nothing is taken under it.
  util::Mutex reload_mu_;
  util::CondVar reload_cv_;
  bool reloading_ ABSL_GUARDED_BY(reload_mu_) = false;

  // compact_order_mu_ (above) is held by Compact across scheduling, the
  // index's compaction and queueing its deletes, so compactions are totally
  // ordered; HashByRev and a current-revision read's last try hold it to
  // keep compactions out.

  // Background compaction: a FIFO of revisions whose records to delete.
  util::Mutex compact_mu_ ABSL_ACQUIRED_AFTER(rev_mu_);
  util::CondVar compact_cv_;
  std::deque<CompactionJob> compact_queue_ ABSL_GUARDED_BY(compact_mu_);
  bool compacting_ ABSL_GUARDED_BY(compact_mu_) = false;
  bool stop_ ABSL_GUARDED_BY(compact_mu_) = false;
  absl::Status compact_error_ ABSL_GUARDED_BY(compact_mu_);
  std::thread compactor_;

  // The key-ordered base. base_mu_ (lock table row 4a) lets one round run
  // at a time; readers load the atomics without it.
  util::Mutex base_mu_ ABSL_ACQUIRED_AFTER(write_mu_);
  std::atomic<uint64_t> base_gen_{0};  // 0: none; set after a round's last write is published
  std::atomic<int64_t> base_rev_{0};
  std::atomic<bool> base_damaged_{false};
  std::atomic<bool> base_off_{false};  // options, or a meta key open could not read
  std::atomic<int64_t> base_served_{0};
  mutable util::Mutex base_stats_mu_;  // leaf
  KeyOrderBaseInfo base_stats_ ABSL_GUARDED_BY(base_stats_mu_);
  std::thread base_builder_;
};

}  // namespace revkv::mvcc

#endif  // REVKV_MVCC_STORE_H_
