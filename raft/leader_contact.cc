#include "raft/leader_contact.h"

namespace revkv::cluster {

bool ForgetSilentLeader(raft* r) {
  if (r->state != RAFT_FOLLOWER || r->follower_state.current_leader.id == 0) return false;
  // election_timer_start is reset by every message from the leader (and by
  // a granted vote), as etcd resets electionElapsed.
  const raft_time now = r->io->time(r->io);
  if (now - r->election_timer_start < r->election_timeout) return false;
  r->follower_state.current_leader.id = 0;
  return true;
}

}  // namespace revkv::cluster
