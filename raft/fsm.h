// Fsm: revkv's state machine under canonical raft (raft.h's raft_fsm).
//
// The Fsm owns one member's revkv::DB (in its data directory) and the
// server::Applier over it, and hands canonical raft the three callbacks:
//
//   apply     decodes nothing itself: it calls Applier::Apply(index, bytes),
//             so a Raft member applies exactly what the local proposer's
//             member applies. raft.h does not pass the entry's index; in
//             raft 0.15 (src/replication.c, replicationApply) an entry is
//             applied at raft->last_applied + 1, and last_applied moves only
//             after apply returns (tests/raft/fsm_test.cc checks this against
//             raft_apply's req->index). An entry at or below the applier's
//             index (a DB that was ahead of raft's snapshot at restart) is
//             skipped, as etcd skips by its consistent index.
//   snapshot  the store's snapshot (snapshot::Save's file: the btree file
//             and its XXH3 trailer) behind a 24-byte header naming the raft
//             index it covers.
//   restore   verifies the bytes (header, XXH3, revisions: snapshot::Restore)
//             into a scratch directory, then installs the restored file in
//             place (revkv::DB::InstallSnapshot: reads, watches and leases
//             go on, from the new data) and reloads the alarm and member
//             tables and the Applier. A snapshot
//             at or below the DB's applied index is not restored (the DB has
//             it already): raft restores its latest snapshot at every start.
//
// Entry framing: raft/uv.h's segment writer requires every entry's length
// to be a multiple of 8 (raft 0.15 uv_segment.c asserts it, and Debian's
// build compiles the assert out: a 21-byte entry is written misframed and
// the whole segment is set aside as corrupt at the next start). So an
// entry is the request's bytes, then 1 to 8 padding bytes, the last of
// which says how many (EncodeEntry); apply strips them (DecodeEntry) and
// refuses an entry whose padding does not check out as DataLoss.
//
// Apply's result goes back to the member that proposed the entry: raft 0.15
// calls the raft_apply callback right after fsm->apply, on the same thread,
// with the `result` pointer apply set; TakeResult(result) moves it out. On
// other members nobody takes it, and the next apply overwrites it.
//
// The Fsm opens the DB's AlarmStore and MemberStore too (server/), so the
// applier applies alarm and member_attr entries as the local server does.
// Hooks, both called on the raft thread: on_applied(index) after each
// entry is applied (waiters for an index wake on it), on_restore() before
// a snapshot from the leader replaces the DB's data (the server logs it).
// Not for the snapshot raft restores inside raft_start (raft_state is
// still RAFT_UNAVAILABLE).
//
// The DB, the AlarmStore, the MemberStore and the Applier keep their
// identity across a restore: the server holds them.
//
// Awaited entries (RaftProposer's batches): raft 0.15 answers only the
// first entry of a raft_apply with n buffers (replication.c getRequest).
// So the proposer of a batch registers each entry it appended with
// Await(index, entry, answer); when the entry at that index is applied,
// the Fsm answers it with the entry's result if the applied bytes are the
// awaited ones, and with leader-changed if another leader's entry took the
// index (it was truncated). A restore through an awaited index answers it
// leader-changed too (its fate is unknown here, as when raft gives a
// request up). Cancel answers one the proposer gave up; AbandonAwaited
// every one left (the node stopped). Each is answered exactly once.
//
// Snapshot size: after taking or restoring a snapshot the Fsm sets raft's
// install-snapshot timeout for that size (install_snapshot_timeout.h): the
// latest snapshot is what this member sends when it leads.
//
// Failure: an entry that does not decode, a DB that cannot install a
// snapshot, or a data file that cannot be written (a backend commit failed:
// the applied entries after the DB's last durable index are safe in raft's
// log, which a restart replays), fails the Fsm for good (failed()): every later apply
// returns an error to raft, which stops applying (fail closed, as etcd does).
//
// Thread-safety: not thread-safe. Every call, and the callbacks, run on the
// raft instance's thread (its libuv loop, or the fixture's stepping thread).
#ifndef REVKV_RAFT_FSM_H_
#define REVKV_RAFT_FSM_H_

#include "raft/c_raft.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "revkv/db.h"
#include "server/alarm_store.h"
#include "server/applier.h"
#include "server/member_store.h"

namespace revkv::cluster {

// `request` framed as a raft entry (a multiple of 8 bytes long).
std::string EncodeEntry(std::string_view request);
// The request inside entry `entry`; DataLoss if it is not framed so.
absl::StatusOr<std::string_view> DecodeEntry(std::string_view entry);

class Fsm {
 public:
  // Opens (creating) the DB of data directory `dir` with `options`.
  static absl::StatusOr<std::unique_ptr<Fsm>> Open(const std::string& dir,
                                                   const revkv::Options& options);
  Fsm(const Fsm&) = delete;
  Fsm& operator=(const Fsm&) = delete;
  // Closes the DB.
  ~Fsm();

  // The callbacks, for raft_init. Attach the raft instance before it starts.
  raft_fsm* fsm() { return &fsm_; }
  void Attach(raft* r) { raft_ = r; }

  // The DB and its applier, the same for the Fsm's life.
  revkv::DB* db() { return db_.get(); }
  server::Applier* applier() { return applier_.get(); }
  server::AlarmStore* alarms() { return alarms_.get(); }
  server::MemberStore* members() { return members_.get(); }
  // See the header. Set before the raft instance starts, or on its thread.
  void set_on_applied(std::function<void(uint64_t)> hook) { on_applied_ = std::move(hook); }
  // Called once, on the raft thread, when the Fsm fails for good (failed()).
  void set_on_failed(std::function<void(const absl::Status&)> hook) {
    on_failed_ = std::move(hook);
  }
  void set_on_restore(std::function<void()> hook) { on_restore_ = std::move(hook); }
  // The index of the last entry applied to the DB (0: none).
  uint64_t applied_index() const;
  // Snapshots restored into the DB (not those skipped as older).
  uint64_t restores() const { return restores_; }
  // Entries skipped as already applied.
  uint64_t skipped() const { return skipped_; }
  // OK, or why the Fsm stopped applying.
  const absl::Status& failed() const { return failed_; }

  // See the header. `entry` must stay valid until `answer` runs; each
  // index is awaited at most once at a time.
  using Answer = absl::AnyInvocable<void(absl::StatusOr<server::ApplyResult>) &&>;
  void Await(uint64_t index, std::string_view entry, const void* token, Answer answer);
  // Answers the entry awaited at `index` with `why` if `token` awaits it.
  void Cancel(uint64_t index, const void* token, absl::Status why);
  void AbandonAwaited(const absl::Status& why);
  size_t awaited() const { return awaited_.size(); }

  // Moves the result of the entry just applied out of the pointer fsm->apply
  // handed raft (the raft_apply callback's `result`).
  static absl::StatusOr<server::ApplyResult> TakeResult(void* result);

  // The snapshot bytes of the DB as of raft index `index`, and their
  // restore; public for tests (the callbacks use them).
  absl::StatusOr<std::string> SnapshotBytes(uint64_t index);
  absl::Status Restore(std::string_view bytes);

 private:
  struct Result {
    absl::StatusOr<server::ApplyResult> value = absl::UnknownError("raft: no result");
  };
  struct Awaited {
    std::string_view entry;
    const void* token;
    Answer answer;
  };
  // Answers the entries awaited through `index` after it was applied with
  // bytes `entry` (empty: covered by a restore).
  void Settle(uint64_t index, std::string_view entry);

  Fsm(std::string dir, const revkv::Options& options);
  // Opens the stores and the applier over db_.
  absl::Status OpenApplier();
  static int ApplyCb(raft_fsm* fsm, const raft_buffer* buf, void** result);
  static int SnapshotCb(raft_fsm* fsm, raft_buffer* bufs[], unsigned* n_bufs);
  static int RestoreCb(raft_fsm* fsm, raft_buffer* buf);
  int Apply(const raft_buffer* buf, void** result);
  // Sets how long raft, as a leader, waits for a follower to answer a
  // snapshot of this size (install_snapshot_timeout.h says why).
  void SizeInstallSnapshotTimeout(uint64_t snapshot_bytes);

  const std::string dir_;
  const revkv::Options options_;
  raft_fsm fsm_{};
  raft* raft_ = nullptr;
  // Declared so that the applier, which uses the DB, goes first.
  std::unique_ptr<revkv::DB> db_;
  std::unique_ptr<server::AlarmStore> alarms_;
  std::unique_ptr<server::MemberStore> members_;
  std::unique_ptr<server::Applier> applier_;
  std::function<void(uint64_t)> on_applied_;
  std::function<void(const absl::Status&)> on_failed_;
  // Sets failed_ (the first failure stays) and calls on_failed_.
  void Fail(absl::Status why);
  std::function<void()> on_restore_;
  Result last_;
  std::map<uint64_t, Awaited> awaited_;
  uint64_t restores_ = 0;
  uint64_t skipped_ = 0;
  absl::Status failed_;
};

}  // namespace revkv::cluster

#endif  // REVKV_RAFT_FSM_H_
