// ForgetSilentLeader (raft/leader_contact.h) on raft_fixture's deterministic
// three-member cluster: once the leader dies, the first follower whose timer
// fires wins the election in one round, because the other follower has
// stopped standing by the silent leader; a leader that keeps sending
// heartbeats is never forgotten. And the library's own behaviour that makes
// the rule necessary: without it the first candidate is refused.
#include <cstdint>
#include <vector>

#include "gtest/gtest.h"
#include "raft/c_raft.h"
#include "raft/leader_contact.h"

namespace revkv::cluster {
namespace {

constexpr unsigned kMembers = 3;
// Member 1's timer fires well before member 2's; both above raft's 1,000 ms
// election timeout, as raft's own randomisation would choose them.
constexpr unsigned kFirstTimeout = 1100;
constexpr unsigned kSecondTimeout = 1900;

int Apply(raft_fsm*, const raft_buffer*, void** result) {
  *result = nullptr;
  return 0;
}
int Snapshot(raft_fsm*, raft_buffer*[], unsigned*) { return RAFT_NOTFOUND; }
int Restore(raft_fsm*, raft_buffer*) { return 0; }

class ElectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(raft_fixture_initialize(&f_), 0);
    fsms_.resize(kMembers);
    for (raft_fsm& fsm : fsms_) {
      fsm.version = 1;
      fsm.apply = &Apply;
      fsm.snapshot = &Snapshot;
      fsm.restore = &Restore;
      ASSERT_EQ(raft_fixture_grow(&f_, &fsm), 0);
    }
    raft_configuration conf;
    ASSERT_EQ(raft_fixture_configuration(&f_, kMembers, &conf), 0);
    ASSERT_EQ(raft_fixture_bootstrap(&f_, &conf), 0);
    raft_configuration_close(&conf);
    ASSERT_EQ(raft_fixture_start(&f_), 0);
    raft_fixture_elect(&f_, 0);
    ASSERT_EQ(raft_fixture_leader_index(&f_), 0u);
    // raft_fixture_elect left the followers' timers at their maximum.
    SetTimeout(1, kFirstTimeout);
    SetTimeout(2, kSecondTimeout);
  }
  void TearDown() override { raft_fixture_close(&f_); }

  // Follower i's randomized election timeout, now and when next drawn.
  void SetTimeout(unsigned i, unsigned ms) {
    raft_fixture_set_randomized_election_timeout(&f_, i, ms);
    raft_fixture_get(&f_, i)->follower_state.randomized_election_timeout = ms;
  }

  // Steps until fixture time `until` or until a live member leads; applies
  // the rule to every live member after each step when `forget`.
  // The leader's index, or kMembers if none.
  unsigned StepUntilLeader(raft_time until, bool forget) {
    while (raft_fixture_time(&f_) < until) {
      raft_fixture_step(&f_);
      for (unsigned i = 0; i < kMembers; ++i) {
        if (!raft_fixture_alive(&f_, i)) continue;
        raft* r = raft_fixture_get(&f_, i);
        if (forget) ForgetSilentLeader(r);
        if (raft_state(r) == RAFT_LEADER) return i;
      }
    }
    return kMembers;
  }

  raft_fixture f_{};
  std::vector<raft_fsm> fsms_;
};

TEST_F(ElectionTest, TheFirstCandidateWinsOnceTheOtherFollowerForgetsTheDeadLeader) {
  // A heartbeat round, so both followers' timers run from the same moment.
  raft_fixture_step_until_elapsed(&f_, 300);
  const raft_term term = raft_fixture_get(&f_, 0)->current_term;
  const raft_time killed = raft_fixture_time(&f_);
  raft_fixture_kill(&f_, 0);
  // Before member 2's own timer fires, member 1 must lead.
  const unsigned leader = StepUntilLeader(killed + kSecondTimeout - 100, /*forget=*/true);
  ASSERT_EQ(leader, 1u) << "no leader " << (raft_fixture_time(&f_) - killed) << " ms after the kill";
  EXPECT_EQ(raft_fixture_get(&f_, 1)->current_term, term + 1) << "one election round";
}

TEST_F(ElectionTest, WithoutTheRuleRaftRefusesTheFirstCandidate) {
  // What the rule repairs (raft 0.15's "has leader" check): if this starts
  // failing, a newer raft forgets silent leaders itself.
  raft_fixture_step_until_elapsed(&f_, 300);
  const raft_time killed = raft_fixture_time(&f_);
  raft_fixture_kill(&f_, 0);
  EXPECT_EQ(StepUntilLeader(killed + kSecondTimeout - 100, /*forget=*/false), kMembers);
}

TEST_F(ElectionTest, ALeaderThatSendsHeartbeatsIsNeverForgotten) {
  const raft_term term = raft_fixture_get(&f_, 0)->current_term;
  const raft_time start = raft_fixture_time(&f_);
  int forgotten = 0;
  while (raft_fixture_time(&f_) < start + 10 * kSecondTimeout) {
    raft_fixture_step(&f_);
    for (unsigned i = 1; i < kMembers; ++i) forgotten += ForgetSilentLeader(raft_fixture_get(&f_, i));
  }
  EXPECT_EQ(forgotten, 0);
  EXPECT_EQ(raft_fixture_leader_index(&f_), 0u);
  EXPECT_EQ(raft_fixture_get(&f_, 0)->current_term, term);
  raft_id id = 0;
  const char* address = nullptr;
  raft_leader(raft_fixture_get(&f_, 1), &id, &address);
  EXPECT_EQ(id, raft_fixture_get(&f_, 0)->id);
}

TEST_F(ElectionTest, AForgottenLeaderIsKnownAgainAtItsNextMessage) {
  // Member 1 stops hearing member 0 (the link is cut) for longer than an
  // election timeout, so it forgets; member 2 still hears it and keeps it
  // leader; when the link heals, member 1 learns member 0 again.
  SetTimeout(1, 10 * kSecondTimeout);
  raft_fixture_step_until_elapsed(&f_, 300);
  raft_fixture_disconnect(&f_, 0, 1);
  raft* follower = raft_fixture_get(&f_, 1);
  const raft_time cut = raft_fixture_time(&f_);
  bool forgot = false;
  while (!forgot && raft_fixture_time(&f_) < cut + 3000) {
    raft_fixture_step(&f_);
    forgot = ForgetSilentLeader(follower);
  }
  ASSERT_TRUE(forgot);
  EXPECT_GE(raft_fixture_time(&f_) - cut, 1000u - 100u) << "forgot before an election timeout";
  raft_id id = 1;
  const char* address = nullptr;
  raft_leader(follower, &id, &address);
  EXPECT_EQ(id, 0u);
  raft_fixture_reconnect(&f_, 0, 1);
  raft_fixture_step_until_elapsed(&f_, 300);
  raft_leader(follower, &id, &address);
  EXPECT_EQ(id, raft_fixture_get(&f_, 0)->id);
  EXPECT_EQ(raft_fixture_leader_index(&f_), 0u);
}

}  // namespace
}  // namespace revkv::cluster
