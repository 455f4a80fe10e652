// Peer liveness: two repairs to canonical raft 0.15's TCP transport
// (raft/uv.h), so that a vote is not lost to a member that restarted.
//
// raft's outgoing connections are write-only: a member never reads from a
// connection it opened, so it does not see the peer close it. When the peer
// restarts, the next message is written into the dead connection and lost
// without an error; the one after fails and is dropped while raft
// reconnects (uv_send.c). A vote or its answer lost this way costs a whole
// election timeout: measured by `revkv bench server --cluster 3`, a leader's
// failover after an earlier member restart took two to three election
// rounds. etcd's peer streams read both ways and see the close at once.
//
// WatchPeerConnections wraps the transport's connect: every connection it
// makes is also read, and when the peer closes it (EOF or reset), writing
// is shut down on our side, so the next message fails at once instead of
// vanishing; raft then reconnects.
//
// ResendFailedVotes wraps the I/O's send: a RequestVote, its result or a
// TimeoutNow whose write failed (RAFT_IOERR) is sent once more; raft has
// queued it behind the reconnection by then. Other messages are left to
// raft's own retries (heartbeats, probes, snapshot timeouts); resending an
// AppendEntries would need its entries, which raft releases once the send
// ends.
//
// Both replace function pointers after raft_uv_tcp_init / raft_uv_init and
// before raft_init. The wrapped originals are kept once per process (raft's
// structs have no spare field to keep them per instance), so a process may
// wrap one transport implementation and one I/O implementation, each any
// number of times; wrapping a second one aborts.
//
// Thread-safety: install once per transport or I/O before its loop runs;
// everything else runs on that loop's thread.
#ifndef REVKV_RAFT_PEER_LIVENESS_H_
#define REVKV_RAFT_PEER_LIVENESS_H_

#include "raft/c_raft.h"

namespace revkv::cluster {

void WatchPeerConnections(raft_uv_transport* transport);
void ResendFailedVotes(raft_io* io);

}  // namespace revkv::cluster

#endif  // REVKV_RAFT_PEER_LIVENESS_H_
