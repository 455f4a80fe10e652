// member add / remove / update / promote and move-leader in revkv's client
// mode against etcdctl 3.4.23 (skipped without etcd):
//   - a single etcd and a single revkv serve: the argument errors, the
//     servers' refusals (unknown member, promoting a voter, a move to an
//     unknown member) and the formats etcdctl cannot print answer alike;
//   - a three-member revkv serve cluster: etcdctl and revkv each add a
//     learner, fail to promote it (not in sync), remove it, update a
//     member, and each moves the leadership; the outputs are the same up
//     to the new member's id, name and port.
#include <regex>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/cmd/etcd_server.h"
#include "tests/cmd/process.h"
#include "tests/server/cluster_fixture.h"
#include "tests/server/serve_process.h"

namespace revkv::testing {
namespace {

ProcessResult RunTool(const std::string& tool, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {tool};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv, "", {"ETCDCTL_API=3"});
}

// The client's JSON warning lines (etcdctl logs failed attempts).
std::string NoClientLog(const std::string& err) {
  static const std::regex kLog("\\{\"level\":[^\n]*\n");
  return std::regex_replace(err, kLog, "");
}

void ExpectSame(const ProcessResult& want, const ProcessResult& got, const std::string& what) {
  EXPECT_EQ(want.out, got.out) << what;
  EXPECT_EQ(NoClientLog(want.err), got.err) << what;
  EXPECT_EQ(want.exit_code, got.exit_code) << what;
}

void Same(const std::vector<std::string>& args) {
  std::string what;
  for (const std::string& a : args) what += a + " ";
  ExpectSame(RunTool("/usr/bin/etcdctl", args), RunTool(RevkvPath(), args), what);
}

// The first member's hex id and peer URLs in `member list` of `endpoint`.
std::pair<std::string, std::string> FirstMember(const std::string& endpoint) {
  ProcessResult r = RunTool("/usr/bin/etcdctl", {"--endpoints=" + endpoint, "member", "list"});
  std::smatch m;
  static const std::regex kRow("^([0-9a-f]+), [a-z]+, [^,]*, ([^,]*),");
  if (!std::regex_search(r.out, m, kRow)) {
    ADD_FAILURE() << r.out << r.err;
    return {};
  }
  return {m[1], m[2]};
}

TEST(ClientModeMemberTest, SingleServersAnswerAlike) {
  if (!EtcdServer::Available()) GTEST_SKIP() << "etcd 3.4 is not installed";
  EtcdServer etcd;
  ServeProcess revkv;
  std::string error;
  ASSERT_TRUE(etcd.Start(&error)) << error;
  ASSERT_TRUE(revkv.Start(&error)) << error;
  const std::string dead = "127.0.0.1:" + std::to_string(EtcdServer::FreePort());
  for (const std::string& live : {etcd.endpoint(), revkv.address()}) {
    const std::string eps = "--endpoints=" + live;
    const auto [id, peers] = FirstMember(live);
    for (const char* f : {"simple", "json", "fields", "table"}) {
      Same({eps, "-w", f, "member", "remove", "1234"});
      Same({eps, "-w", f, "member", "update", "1234", "--peer-urls=http://127.0.0.1:1"});
      Same({eps, "-w", f, "member", "promote", "1234"});
      Same({eps, "-w", f, "member", "promote", id});
      Same({eps, "-w", f, "move-leader", "1234"});
      Same({eps, "-w", f, "move-leader", id});
      // The same peer URLs again: a change that changes nothing.
      Same({eps, "-w", f, "member", "update", id, "--peer-urls=" + peers});
    }
    Same({eps, "member", "remove"});
    Same({eps, "member", "remove", "zz"});
    Same({eps, "member", "remove", "0x12"});
    Same({eps, "member", "remove", "fffffffffffffffff"});
    Same({eps, "member", "update", "12"});
    Same({eps, "member", "add"});
    Same({eps, "member", "add", "a", "b", "http://x", "HTTPS://y"});
    Same({eps, "member", "add", "a"});
    Same({eps, "member", "add", "a", "--peer-urls=" + peers});
    Same({eps, "move-leader"});
    Same({eps, "move-leader", "zz"});
    // Every endpoint asked for its status in turn: a dead one fails it.
    Same({"--endpoints=" + live + "," + dead, "--command-timeout=500ms", "move-leader", "12"});
    Same({"--endpoints=" + dead + "," + live, "--command-timeout=500ms", "move-leader", "12"});
  }
}

class ClientModeClusterMemberTest : public ClusterServeTest {
 protected:
  std::string Endpoints() const {
    std::string eps;
    for (const Member& m : members_) eps += (eps.empty() ? "" : ",") + m.client_url();
    return "--endpoints=" + eps;
  }
  // The hex id `member list` shows for the member with `url` ("" if none).
  std::string IdOf(const std::string& url) {
    ProcessResult r = Ctl(members_[0], {"member", "list"});
    std::smatch m;
    const std::regex row("(^|\n)([0-9a-f]+), [^\n]*" + url);
    return std::regex_search(r.out, m, row) ? m[2].str() : "";
  }
};

// The new member's id (hex and decimal), name and peer port as N, X, P;
// and where it stands among the members (their order follows the ids):
// out of the JSON list, first in ETCD_INITIAL_CLUSTER.
std::string NormNew(std::string s, const std::string& hex, const std::string& name, int port) {
  const std::string dec = std::to_string(std::stoull(hex, nullptr, 16));
  for (const std::string& from : {hex, dec, name, std::to_string(port)}) {
    for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at)) {
      s.replace(at, from.size(), "N");
    }
  }
  // %16x pads a shorter id with spaces.
  static const std::regex kPadded("Member +N");
  static const std::regex kNewInList(
      "\\{\"ID\":N,[^}]*\\},?|,N=http://127.0.0.1:N|N=http://127.0.0.1:N,");
  static const std::regex kTrailingComma(",\\]");
  s = std::regex_replace(s, kPadded, "Member N");
  s = std::regex_replace(s, kNewInList, "");
  s = std::regex_replace(s, kTrailingComma, "]");
  return NormaliseEtcdJson(s);
}

TEST_F(ClientModeClusterMemberTest, ChangesAsEtcdctl) {
  if (!EtcdServer::Available()) GTEST_SKIP() << "etcdctl is not installed";
  const int leader = StartNewCluster();
  ASSERT_GE(leader, 0);
  const std::string eps = Endpoints();
  for (const char* f : {"simple", "json"}) {
    ProcessResult out[2][3];  // tool x (add, promote, remove)
    std::string ids[2], names[2] = {"new-etcdctl", "new-revkv"};
    int ports[2];
    for (int t = 0; t < 2; ++t) {
      const std::string tool = t == 0 ? "/usr/bin/etcdctl" : RevkvPath();
      ports[t] = EtcdServer::FreePort();
      const std::string url = "http://127.0.0.1:" + std::to_string(ports[t]);
      out[t][0] = RunTool(tool, {eps, "-w", f, "member", "add", names[t], "--learner",
                                 "--peer-urls=" + url});
      ids[t] = IdOf(url);
      ASSERT_FALSE(ids[t].empty()) << out[t][0].out << out[t][0].err;
      out[t][1] = RunTool(tool, {eps, "-w", f, "member", "promote", ids[t]});
      out[t][2] = RunTool(tool, {eps, "-w", f, "member", "remove", ids[t]});
    }
    for (int step = 0; step < 3; ++step) {
      EXPECT_EQ(NormNew(out[0][step].out, ids[0], names[0], ports[0]),
                NormNew(out[1][step].out, ids[1], names[1], ports[1]))
          << f << " step " << step;
      EXPECT_EQ(NoClientLog(out[0][step].err), out[1][step].err) << f << " step " << step;
      EXPECT_EQ(out[0][step].exit_code, out[1][step].exit_code) << f << " step " << step;
    }
    // Any member may answer: the header's member id differs.
    const std::vector<std::string> update = {eps, "-w", f, "member", "update",
                                             IdOf(members_[2].peer_url()),
                                             "--peer-urls=" + members_[2].peer_url()};
    const ProcessResult want = RunTool("/usr/bin/etcdctl", update);
    const ProcessResult got = RunTool(RevkvPath(), update);
    EXPECT_EQ(NormaliseEtcdJson(want.out), NormaliseEtcdJson(got.out)) << f;
    EXPECT_EQ(want.exit_code, got.exit_code) << f << got.err;
  }
  // move-leader: revkv hands over to a follower, etcdctl back.
  const int next = (leader + 1) % 3;
  const std::string from = IdOf(members_[size_t(leader)].peer_url());
  const std::string to = IdOf(members_[size_t(next)].peer_url());
  ProcessResult moved = RunTool(RevkvPath(), {eps, "move-leader", to});
  EXPECT_EQ(moved.out, "Leadership transferred from " + from + " to " + to + "\n") << moved.err;
  EXPECT_EQ(moved.exit_code, 0);
  ASSERT_EQ(WaitForLeader({0, 1, 2}), next);
  ProcessResult back = RunTool("/usr/bin/etcdctl", {eps, "-w", "json", "move-leader", from});
  ProcessResult again = RunTool(RevkvPath(), {eps, "-w", "json", "move-leader", to});
  EXPECT_EQ(NormaliseEtcdJson(back.out), NormaliseEtcdJson(again.out)) << back.err << again.err;
  // Only followers named: no leader among them.
  const int leader_now = WaitForLeader({0, 1, 2});
  ASSERT_GE(leader_now, 0);
  std::string followers;
  for (int i = 0; i < 3; ++i) {
    if (i != leader_now) followers += (followers.empty() ? "" : ",") + members_[size_t(i)].client_url();
  }
  Same({"--endpoints=" + followers, "move-leader", to});
  Same({eps, "move-leader", "1234"});
}

}  // namespace
}  // namespace revkv::testing
