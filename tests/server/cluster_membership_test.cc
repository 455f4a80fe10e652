// Membership changes of a three-member `revkv serve` cluster through the
// real etcdctl 3.4.23, with etcd's output and error lines (the lines are
// etcdctl's own formatting of etcd's answers; the errors are etcd 3.4's
// rpctypes messages):
//
//   member add --learner    "Member ID added to cluster CID" and the
//                           ETCD_* lines the new member starts with; the
//                           list shows it unstarted, a learner
//   member add (same URL)   etcdserver: member ID already exist
//   member add (a's URL)    etcdserver: Peer URLs already exists
//   member add --learner    etcdserver: too many learner members in cluster
//   member promote          etcdserver: can only promote a learner member
//                           which is in sync with leader (not started yet),
//                           etcdserver: can only promote a learner member
//                           (a voter)
//   (the learner starts with the printed ETCD_INITIAL_CLUSTER and
//    --initial-cluster-state existing, catches up, takes a write)
//   member promote          "Member ID promoted in cluster CID" (polled
//                           until it is in sync)
//   member update           "Member ID updated in cluster CID"
//   member remove           etcdserver: member not found (unknown id);
//                           an old member: removed, it exits cleanly (0)
//   move-leader             "Leadership transferred from X to Y" (to the
//                           new member), etcdserver: bad leader transferee
//
// Every acknowledged write is read back on the three survivors, whose
// hashes at one revision agree.
#include <signal.h>

#include <chrono>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/cmd/etcd_server.h"
#include "tests/cmd/process.h"
#include "tests/server/cluster_fixture.h"
#include "tests/server/serve_process.h"

namespace revkv::testing {
namespace {

class ClusterMembershipTest : public ClusterServeTest {
 protected:
  // `member list` of `m`, one line per member.
  std::vector<std::string> List(const Member& m) {
    ProcessResult r = Ctl(m, {"member", "list"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<std::string> lines;
    std::string line;
    for (char c : r.out) {
      if (c != '\n') {
        line += c;
      } else {
        lines.push_back(line);
        line.clear();
      }
    }
    return lines;
  }

  // The hex id `member list` shows for the member with `url` ("" if none).
  std::string IdOf(const Member& m, const std::string& url) {
    for (const std::string& l : List(m)) {
      if (l.find(url) != std::string::npos) return l.substr(0, l.find(','));
    }
    return "";
  }

  // Polls `args` on `m` until it exits 0 (bounded); the last result.
  ProcessResult UntilOk(const Member& m, const std::vector<std::string>& args) {
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    ProcessResult r;
    while (std::chrono::steady_clock::now() < deadline) {
      r = Ctl(m, args);
      if (r.exit_code == 0) break;
      std::this_thread::sleep_for(kPoll);
    }
    return r;
  }
};

TEST_F(ClusterMembershipTest, AddLearnerPromoteMoveLeaderRemoveWithEtcdctl) {
  const int leader = StartNewCluster();
  ASSERT_GE(leader, 0);
  const Member& follower = members_[size_t((leader + 1) % 3)];
  // Every member listed, once each published its client URLs (polled).
  {
    const std::regex started(
        "[0-9a-f]+, started, [abc], http://127.0.0.1:\\d+, http://127.0.0.1:\\d+, false");
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    std::vector<std::string> list;
    for (;;) {
      list = List(follower);
      int n = 0;
      for (const std::string& l : list) n += std::regex_match(l, started) ? 1 : 0;
      if (n == 3 && list.size() == 3) break;
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << list.size() << " " << list[0];
      std::this_thread::sleep_for(kPoll);
    }
  }

  Member d = NewMember("d");

  // member add --learner, on a follower (forwarded to the leader).
  ProcessResult add =
      Ctl(follower, {"member", "add", "d", "--learner", "--peer-urls=" + d.peer_url()});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  std::smatch s;
  ASSERT_TRUE(std::regex_search(
      add.out, s,
      std::regex("^Member +([0-9a-f]+) added to cluster +[0-9a-f]+\n\nETCD_NAME=\"d\"\n"
                 "ETCD_INITIAL_CLUSTER=\"([^\"]+)\"\nETCD_INITIAL_ADVERTISE_PEER_URLS="
                 "\"" +
                 d.peer_url() + "\"\nETCD_INITIAL_CLUSTER_STATE=\"existing\"\n$")))
      << add.out;
  const std::string d_id = s[1];
  const std::string initial_cluster = s[2];
  for (const Member& m : members_) {
    EXPECT_NE(initial_cluster.find(m.name + "=" + m.peer_url()), std::string::npos);
  }
  EXPECT_NE(initial_cluster.find("d=" + d.peer_url()), std::string::npos);
  // Listed alike on every member: unstarted, a learner.
  for (const Member& m : members_) {
    std::vector<std::string> list = List(m);
    EXPECT_EQ(list.size(), 4u);
    bool listed = false;
    for (const std::string& l : list) {
      listed = listed || l == d_id + ", unstarted, , " + d.peer_url() + ", , true";
    }
    EXPECT_TRUE(listed) << m.name;
  }

  // Refusals: etcd's lines, exit code 1.
  auto refused = [&](const std::vector<std::string>& args, const std::string& error) {
    ProcessResult r = Ctl(follower, args);
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_EQ(r.LastErrLine(), "Error: " + error) << r.err;
  };
  // As etcd 3.4: the same URLs make the same id; another's URL is taken.
  refused({"member", "add", "e", "--peer-urls=" + d.peer_url()},
          "etcdserver: member ID already exist");
  refused({"member", "add", "e", "--peer-urls=" + follower.peer_url()},
          "etcdserver: Peer URLs already exists");
  refused({"member", "add", "e", "--learner", "--peer-urls=http://127.0.0.1:1"},
          "etcdserver: too many learner members in cluster");
  refused({"member", "promote", d_id},
          "etcdserver: can only promote a learner "
          "member which is in sync with leader");
  refused({"member", "promote", IdOf(follower, follower.peer_url())},
          "etcdserver: can only promote a learner member");
  refused({"member", "remove", "1234"}, "etcdserver: member not found");

  // The learner starts as etcdctl said, catches up and takes a write.
  {
    std::string error;
    ASSERT_TRUE(StartMember(d, "existing", &error, initial_cluster)) << error;
  }
  ProcessResult put = UntilOk(d, {"put", "via-d", "1"});
  ASSERT_EQ(put.exit_code, 0) << put.err << d.proc->Log();
  EXPECT_EQ(Ctl(members_[size_t(leader)], {"get", "via-d"}).out, "via-d\n1\n");
  EXPECT_EQ(Ctl(d, {"get", "via-d", "--consistency=s"}).out, "via-d\n1\n");

  // Promoted once in sync.
  ProcessResult promote = UntilOk(follower, {"member", "promote", d_id});
  ASSERT_EQ(promote.exit_code, 0) << promote.err;
  EXPECT_TRUE(std::regex_match(promote.out,
                               std::regex("Member +" + d_id + " promoted in cluster +[0-9a-f]+\n")))
      << promote.out;
  bool voter = false;
  for (const std::string& l : List(d))
    voter =
        voter || l == d_id + ", started, d, " + d.peer_url() + ", " + d.client_url() + ", false";
  EXPECT_TRUE(voter);

  // member update (the same URL: raft dials what it was added with).
  const std::string f_id = IdOf(follower, follower.peer_url());
  ProcessResult update = Ctl(d, {"member", "update", f_id, "--peer-urls=" + follower.peer_url()});
  EXPECT_EQ(update.exit_code, 0) << update.err;
  EXPECT_TRUE(std::regex_match(update.out,
                               std::regex("Member +" + f_id + " updated in cluster +[0-9a-f]+\n")))
      << update.out;

  // move-leader to the new voter (raft makes it a voter once caught up:
  // polled), then a transferee that is not a member.
  std::string all;
  for (const Member& m : members_) all += (all.empty() ? "" : ",") + m.client_url().substr(7);
  all += "," + d.client_url().substr(7);
  ProcessResult move = UntilOk(d, {"--endpoints=" + all, "move-leader", d_id});
  ASSERT_EQ(move.exit_code, 0) << move.err;
  EXPECT_TRUE(std::regex_match(
      move.out, std::regex("Leadership transferred from [0-9a-f]+ to " + d_id + "\n")))
      << move.out;
  {
    ProcessResult r = Ctl(d, {"--endpoints=" + all, "move-leader", "1234"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.LastErrLine(), "Error: etcdserver: bad leader transferee") << r.err;
  }

  // Writes through every member, then an old member removed: it exits
  // cleanly; the writes are on the survivors.
  members_.push_back(std::move(d));
  std::vector<std::string> acked;
  for (int i = 0; i < 12; ++i) {
    const Member& m = members_[size_t(i % 4)];
    const std::string key = "k" + std::to_string(i);
    ProcessResult r = Ctl(m, {"put", key, "v"});
    ASSERT_EQ(r.exit_code, 0) << m.name << ": " << r.err;
    acked.push_back(key);
  }
  const size_t gone = size_t(leader);  // an old member, no longer leading
  const std::string gone_id = IdOf(members_[3], members_[gone].peer_url());
  ProcessResult remove = Ctl(members_[3], {"member", "remove", gone_id});
  ASSERT_EQ(remove.exit_code, 0) << remove.err;
  EXPECT_TRUE(std::regex_match(
      remove.out, std::regex("Member +" + gone_id + " removed from cluster +[0-9a-f]+\n")))
      << remove.out;
  // Stop(0) sends nothing: it waits (bounded) for the member to exit.
  EXPECT_EQ(members_[gone].proc->Stop(0), 0) << members_[gone].proc->Log();
  members_[gone].proc.reset();
  std::vector<size_t> survivors;
  for (size_t i = 0; i < members_.size(); ++i) {
    if (i != gone) survivors.push_back(i);
  }
  for (int i = 12; i < 18; ++i) {
    const Member& m = members_[survivors[size_t(i) % 3]];
    const std::string key = "k" + std::to_string(i);
    ProcessResult r = UntilOk(m, {"put", key, "v"});
    ASSERT_EQ(r.exit_code, 0) << m.name << ": " << r.err;
    acked.push_back(key);
  }
  for (size_t i : survivors) {
    EXPECT_EQ(List(members_[i]).size(), 3u) << members_[i].name;
    ProcessResult r = Ctl(members_[i], {"get", "k", "--prefix", "--keys-only"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    for (const std::string& k : acked) {
      EXPECT_NE(r.out.find(k + "\n"), std::string::npos) << members_[i].name << " lost " << k;
    }
  }
  const int64_t rev = Revision(members_[3]);
  std::string last;
  EXPECT_TRUE(WaitForEqualHashes(members_[3], rev, 3, &last)) << last;
}

}  // namespace
}  // namespace revkv::testing
