// Leases in a three-member `revkv serve` cluster, through the real etcdctl:
// only the leader's lessor tracks expiry, so a follower sends keep-alives
// and time-to-live requests to it, as etcd's followers do. A client that
// keeps its lease alive through a follower keeps it (and its key) past its
// TTL; `lease timetolive` on a follower shows what remains at the leader;
// once the keep-alives stop, the leader expires the lease and every member
// loses the key.
//
// Every wait is a bounded poll of etcdctl; the fixture stops every member.
#include <cinttypes>
#include <cstdio>
#include <regex>
#include <string>

#include "gtest/gtest.h"
#include "tests/server/cluster_fixture.h"

namespace revkv::testing {
namespace {

using Clock = std::chrono::steady_clock;

// The hex id in etcdctl's "lease <id> granted with TTL(<n>s)".
std::string GrantedId(const std::string& out) {
  std::smatch m;
  return std::regex_search(out, m, std::regex("^lease ([0-9a-f]+) granted with TTL")) ? m[1].str()
                                                                                      : "";
}

// The seconds in timetolive's "remaining(<n>s)"; -1 if absent.
int64_t Remaining(const std::string& out) {
  std::smatch m;
  return std::regex_search(out, m, std::regex("remaining\\((-?[0-9]+)s\\)")) ? std::stoll(m[1])
                                                                            : -1;
}

TEST_F(ClusterServeTest, KeepAlivesThroughAFollowerReachTheLeadersLessor) {
  const int leader = StartNewCluster();
  ASSERT_GE(leader, 0) << "no leader elected";
  const Member& f1 = members_[size_t((leader + 1) % 3)];
  const Member& f2 = members_[size_t((leader + 2) % 3)];

  // A long lease: timetolive on a follower counts down (a follower's own
  // lessor tracks no expiry and would say the granted 60 s forever).
  ProcessResult grant = Ctl(f1, {"lease", "grant", "60"});
  ASSERT_EQ(grant.exit_code, 0) << grant.err;
  const std::string long_id = GrantedId(grant.out);
  ASSERT_FALSE(long_id.empty()) << grant.out;
  int64_t remaining = -1;
  for (const auto deadline = Clock::now() + kWait; Clock::now() < deadline;) {
    ProcessResult ttl = Ctl(f2, {"lease", "timetolive", long_id});
    ASSERT_EQ(ttl.exit_code, 0) << ttl.err;
    EXPECT_NE(ttl.out.find("granted with TTL(60s)"), std::string::npos) << ttl.out;
    remaining = Remaining(ttl.out);
    if (remaining >= 0 && remaining < 59) break;
    std::this_thread::sleep_for(kPoll);
  }
  EXPECT_GE(remaining, 0);
  EXPECT_LT(remaining, 59) << "a follower's timetolive did not count down";

  // A short lease with a key, kept alive through a follower for more than
  // twice its TTL.
  grant = Ctl(f1, {"lease", "grant", "3"});
  ASSERT_EQ(grant.exit_code, 0) << grant.err;
  const std::string id = GrantedId(grant.out);
  ASSERT_FALSE(id.empty()) << grant.out;
  ASSERT_EQ(Ctl(f1, {"put", "held", "v", "--lease=" + id}).out, "OK\n");
  int renewals = 0;
  for (const auto until = Clock::now() + std::chrono::seconds(7); Clock::now() < until;) {
    ProcessResult kept = Ctl(f1, {"lease", "keep-alive", "--once", id});
    ASSERT_EQ(kept.exit_code, 0) << kept.err;
    ASSERT_EQ(kept.out, "lease " + id + " keepalived with TTL(3)\n");
    ++renewals;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the client's pace
  }
  EXPECT_GE(renewals, 5);
  EXPECT_EQ(Ctl(f2, {"get", "held"}).out, "held\nv\n") << "expired while kept alive";

  // Left alone, it expires at the leader, and the revoke reaches everyone.
  bool gone = false;
  for (const auto deadline = Clock::now() + kWait; !gone && Clock::now() < deadline;) {
    gone = Ctl(f2, {"get", "held"}).out.empty();
    if (!gone) std::this_thread::sleep_for(kPoll);
  }
  EXPECT_TRUE(gone) << "the lease never expired";
  EXPECT_EQ(Ctl(f1, {"get", "held"}).out, "");
  EXPECT_NE(Ctl(f1, {"lease", "keep-alive", "--once", id}).exit_code, 0);
}

}  // namespace
}  // namespace revkv::testing
