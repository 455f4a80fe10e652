// InstallSnapshotTimeoutMs: how long a leader waits for a follower to
// answer the snapshot it sent before it sends it again (canonical raft's
// raft_set_install_snapshot_timeout; raft 0.15's default is 30 s).
//
// Why it matters: in raft 0.15 a follower that is taking or installing a
// snapshot of its own when the leader's InstallSnapshot arrives drops it
// without an answer (replication.c replicationInstallSnapshot returns
// RAFT_BUSY; recv.c discards the message). A serving revkv member that
// receives a snapshot exits to restore it at its restart, and does not
// answer either. Meanwhile the leader keeps the follower in its "snapshot"
// progress state: it sends heartbeats only, ignores their rejections as
// stale (progress.c progressMaybeDecrement: the rejected index is not the
// snapshot's), and resends only once this timeout has passed since it
// started sending. With the default, a lagging follower whose own
// snapshot overlapped the leader's waited 30 s.
//
// A timeout too short costs bandwidth and memory, not safety: the leader
// resends the whole snapshot (its transport holds it in memory) while the
// follower is still receiving or installing the first copy, which the
// follower then drops as busy.
//
// The choice: four election timeouts -- a follower silent that long after
// a snapshot was sent is not merely slow, and a member's restart (exit,
// start, reload) fits in it -- plus one second per 8 MiB of snapshot, the
// leader's read, the transfer, the follower's synced write, and revkv's
// restore (every page's checksum verified, the file rewritten and
// reopened) all sharing a disk no slower than that. A 1 GiB snapshot thus
// gets about 2 minutes; a small one, 4 s with the default 1 s election
// timeout.
#ifndef REVKV_RAFT_INSTALL_SNAPSHOT_TIMEOUT_H_
#define REVKV_RAFT_INSTALL_SNAPSHOT_TIMEOUT_H_

#include <cstdint>
#include <limits>

namespace revkv::cluster {

inline constexpr unsigned kInstallSnapshotElections = 4;
inline constexpr uint64_t kInstallSnapshotBytesPerSecond = uint64_t{8} << 20;

// Milliseconds, saturating at what raft's unsigned holds.
constexpr unsigned InstallSnapshotTimeoutMs(unsigned election_timeout_ms,
                                            uint64_t snapshot_bytes) {
  const uint64_t ms = uint64_t{kInstallSnapshotElections} * election_timeout_ms +
                      snapshot_bytes / (kInstallSnapshotBytesPerSecond / 1000);
  constexpr uint64_t kMax = std::numeric_limits<unsigned>::max();
  return unsigned(ms < kMax ? ms : kMax);
}

}  // namespace revkv::cluster

#endif  // REVKV_RAFT_INSTALL_SNAPSHOT_TIMEOUT_H_
