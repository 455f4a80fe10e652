// ForgetSilentLeader: etcd's rule for when a follower stops standing by its
// leader, applied to a canonical raft 0.15 instance.
//
// raft 0.15 refuses every vote while a follower knows a leader
// (recv_request_vote.c, the "has leader" check of the Raft thesis, section
// 4.2.3), and a follower forgets its leader only when its own randomized
// election timer fires. So when the leader dies, the first follower whose
// timer fires is refused by the others; their timers fire later and
// they stand as candidates in the same term; the vote splits, and a second
// election follows: about 2.5 election timeouts from the leader's death to
// the next write, where etcd takes about 1.5.
//
// etcd grants the vote once a follower has not heard from its leader for
// one (unrandomized) election timeout (raft.go: inLease). ForgetSilentLeader
// applies the same rule: a follower whose election timer started at least
// one election timeout ago forgets its leader's id, so it grants the first
// candidate's vote. raft's maintainers propose the same change for the
// library (canonical/raft#196).
//
// Only the id is cleared; the address stays. raft sends a follower's
// append results to the leader's id and address (replication.c), and an
// append that completes after the forgetting must not pass a null address
// to the transport, which routes by address. A message from the leader
// sets the id again (recv.c: recvUpdateLeader).
//
// Thread-safety: call on the raft instance's loop thread only.
#ifndef REVKV_RAFT_LEADER_CONTACT_H_
#define REVKV_RAFT_LEADER_CONTACT_H_

#include "raft/c_raft.h"

namespace revkv::cluster {

// Forgets `r`'s leader if `r` is a follower that has not heard from it for
// an election timeout. True if it forgot one.
bool ForgetSilentLeader(raft* r);

}  // namespace revkv::cluster

#endif  // REVKV_RAFT_LEADER_CONTACT_H_
