// AutoCompactor: etcd 3.4's --auto-compaction-mode/--auto-compaction-retention
// (etcdserver/api/v3compactor): compactions the server proposes by itself,
// like a client's Compact (not physical), so every member of a cluster
// compacts at the same revision. Only the leader's compactor acts (etcd
// pauses the others).
//
//   revision mode, retention R revisions: every 5 minutes, compact at the
//     current revision - R (when positive and not the last one compacted).
//   periodic mode, retention period P: sample the current revision every
//     min(P, 1h)/10; once P has passed since the start (or since the last
//     compaction that succeeded), and then every min(P, 1h), compact at the
//     revision sampled about P ago.
// A compaction refused as already compacted counts as done (etcd's rule);
// another failure is retried at the next step.
//
// Tick is the whole policy, a step at a given time, so tests drive it with
// their own clock; Start runs it on a thread every interval().
//
// Thread-safety: Tick from one thread at a time; Start once, Stop
// (idempotent, also the destructor's) from any thread; Stop must come
// before the proposer goes.
#ifndef REVKV_SERVER_AUTO_COMPACTOR_H_
#define REVKV_SERVER_AUTO_COMPACTOR_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "util/mutex.h"

namespace revkv::server {

struct AutoCompaction {
  enum class Mode { kPeriodic, kRevision };
  Mode mode = Mode::kPeriodic;
  absl::Duration period = absl::ZeroDuration();  // periodic
  int64_t revisions = 0;                         // revision
  // Whether either retention is set (0: no auto compaction, the default).
  bool enabled() const {
    return mode == Mode::kPeriodic ? period > absl::ZeroDuration() : revisions > 0;
  }
};

// etcd's parsing of the two flags: mode "periodic" or "revision";
// retention a whole number (hours in periodic mode, revisions in revision
// mode) or, in periodic mode, a duration such as "30m".
absl::StatusOr<AutoCompaction> ParseAutoCompaction(const std::string& mode,
                                                   const std::string& retention);

class AutoCompactor {
 public:
  // The store's current revision; proposes a compaction at `rev`; whether
  // this member leads (a single member always does).
  using RevFn = std::function<int64_t()>;
  using CompactFn = std::function<absl::Status(int64_t rev)>;
  using LeaderFn = std::function<bool()>;

  AutoCompactor(const AutoCompaction& config, RevFn rev, CompactFn compact, LeaderFn is_leader);
  ~AutoCompactor();

  // One step at `now` (the first call starts the clock); returns the
  // revision compacted, or 0.
  int64_t Tick(absl::Time now);
  // How often Start's thread calls Tick.
  absl::Duration interval() const;

  void Start() ABSL_LOCKS_EXCLUDED(mu_);
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  int64_t TickRevision();
  int64_t TickPeriodic(absl::Time now);
  // Compacts at `rev`; true when done (or already compacted).
  bool CompactAt(int64_t rev);

  const AutoCompaction config_;
  const RevFn rev_;
  const CompactFn compact_;
  const LeaderFn is_leader_;

  // Tick's state (one thread at a time).
  int64_t last_compacted_ = 0;
  std::deque<int64_t> samples_;  // periodic: oldest first, about period back
  absl::Time last_success_ = absl::InfinitePast();
  absl::Duration wait_ = absl::ZeroDuration();  // periodic: until the next compaction

  util::Mutex mu_;  // a leaf
  util::CondVar cv_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace revkv::server

#endif  // REVKV_SERVER_AUTO_COMPACTOR_H_
