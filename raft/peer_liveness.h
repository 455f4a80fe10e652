// Peer liveness: two repairs to canonical raft 0.15's TCP transport
// (raft/uv.h), so that a vote is not lost to a member that restarted; one
// to its I/O's close (CloseCallbackOnce, below); and Nagle's algorithm
// turned off on the connections raft opens (WatchPeerConnections).
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
// WatchPeerConnections wraps the transport's connect, to know which
// connection goes to which peer, and sets TCP_NODELAY on each: raft 0.15
// leaves Nagle's algorithm on, so with AppendEntries pipelined a message
// sent while the previous one was unacknowledged waited for the follower's
// delayed ACK, up to 40 ms, as the follower answers on a connection of its
// own (a p99 of about 50 ms for puts at 16 clients in `revkv bench server
// --cluster 3`). ResendFailedVotes wraps the I/O's send:
// before a RequestVote, its result or a TimeoutNow is sent, the connections
// to its peer are probed (ProbePeerConnections); one the peer closed or
// reset has its writing shut down on our side, so the message's write fails
// instead of vanishing, raft reconnects, and the message, whose write
// failed (RAFT_IOERR), is sent once more: raft queues it behind the
// reconnection. Other messages are left to raft's own retries (heartbeats,
// probes, snapshot timeouts); resending an AppendEntries would need its
// entries, which raft releases once the send ends.
//
// The probe is a non-blocking peek, not a read kept running on the
// connection: a read that sees a reset makes libuv refuse the next write at
// once, and raft 0.15 answers a write refused at once, inside its receive
// path, by stopping the member (recv.c: convertToUnavailable).
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

#include <string>

#include "raft/c_raft.h"

namespace revkv::cluster {

void WatchPeerConnections(raft_uv_transport* transport);
void ResendFailedVotes(raft_io* io);

// Makes the I/O's close callback run once. raft 0.15's uv I/O can report
// itself closed twice: with the I/O kept until its loop has returned, raft's
// close callback then freed the raft's address a second time ("double
// free", node_stop_test, about one stop in 600 under load); with the I/O
// freed in raft's close callback, as raft's example does, the second report
// read the freed I/O (about one stop in 150). Reports after the first are
// dropped; the caller must also keep the I/O's memory (raft_uv_close) until
// its loop has run out of callbacks.
void CloseCallbackOnce(raft_io* io);

// Shuts writing down on every connection this thread's raft loop opened to
// `address` ("IP:port") whose peer closed or reset it; how many. Called by
// the send wrapper before each vote message; public for tests.
int ProbePeerConnections(const std::string& address);

}  // namespace revkv::cluster

#endif  // REVKV_RAFT_PEER_LIVENESS_H_
