// member add / remove / update / promote and move-leader in revkv's client
// mode against etcdctl 3.4.23 (skipped without etcd):
//   - a single etcd and a single revkv serve: the argument errors, the
//     servers' refusals (unknown member, promoting a voter, a move to an
//     unknown member) and the formats etcdctl cannot print answer alike;
//   - a three-member revkv serve cluster and a three-member etcd cluster
//     (loopback, free ports): etcdctl and revkv each add a learner, fail
//     to promote it (not in sync), remove it, update a member, and each
//     moves the leadership; the outputs are the same up to the new
//     member's id, name and port.
#include <signal.h>

#include <chrono>
#include <regex>
#include <set>
#include <thread>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/cmd/etcd_server.h"
#include "tests/cmd/process.h"
#include "tests/server/background_process.h"
#include "tests/server/cluster_fixture.h"
#include "tests/server/etcd_and_serve_suite.h"
#include "tests/server/serve_process.h"

namespace revkv::testing {
namespace {

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

// The hex id `member list` on `eps` shows for the member with `url`,
// polled (bounded): a member that has not applied a change yet answers
// the list without it. "" at the deadline.
std::string IdOf(const std::string& eps, const std::string& url) {
  const std::regex row("(^|\n)([0-9a-f]+), [^\n]*" + url);
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (std::chrono::steady_clock::now() < deadline) {
    ProcessResult r = RunTool("/usr/bin/etcdctl", {eps, "member", "list"});
    std::smatch m;
    if (std::regex_search(r.out, m, row)) return m[2].str();
    std::this_thread::sleep_for(kPoll);
  }
  return "";
}

// Polls `endpoint status` on all `clients` until they agree on a leader
// among them; its index, or -1 at the deadline.
int Leader(const std::vector<std::string>& clients) {
  const std::string eps = "--endpoints=" + absl::StrJoin(clients, ",");
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (std::chrono::steady_clock::now() < deadline) {
    ProcessResult r = RunTool("/usr/bin/etcdctl", {eps, "-w", "json", "endpoint", "status"});
    const std::vector<EndpointStatus> st = ParseStatus(r.out);
    if (st.size() == clients.size()) {
      bool same = true;
      for (const EndpointStatus& e : st) same = same && e.leader == st[0].leader && e.leader != 0;
      for (size_t i = 0; same && i < st.size(); ++i) {
        if (st[i].member_id == st[0].leader) return int(i);
      }
    }
    std::this_thread::sleep_for(kPoll);
  }
  return -1;
}

// The membership commands through etcdctl and revkv on a three-member
// cluster (`clients`, `peers`: each member's URLs, in the same order).
void ChangesAsEtcdctl(const std::vector<std::string>& clients,
                      const std::vector<std::string>& peers) {
  const int leader = Leader(clients);
  ASSERT_GE(leader, 0);
  const std::string eps = "--endpoints=" + absl::StrJoin(clients, ",");
  for (const char* f : {"simple", "json"}) {
    ProcessResult out[2][3];  // tool x (add, promote, remove)
    std::string ids[2], names[2] = {"new-etcdctl", "new-revkv"};
    int ports[2];
    for (int t = 0; t < 2; ++t) {
      const std::string tool = t == 0 ? "/usr/bin/etcdctl" : RevkvPath();
      ports[t] = EtcdServer::FreePort();
      const std::string url = "http://127.0.0.1:" + std::to_string(ports[t]);
      const std::vector<std::string> add = {eps, "-w", f, "member", "add", names[t], "--learner",
                                            "--peer-urls=" + url};
      out[t][0] = RunTool(tool, add);
      // etcd refuses changes until its members have been connected for 5s
      // ("etcdserver: unhealthy cluster"): the first add polls for that.
      for (auto deadline = std::chrono::steady_clock::now() + kWait;
           out[t][0].err.find("unhealthy cluster") != std::string::npos &&
           std::chrono::steady_clock::now() < deadline;
           out[t][0] = RunTool(tool, add)) {
        std::this_thread::sleep_for(kPoll);
      }
      ids[t] = IdOf(eps, url);
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
                                             IdOf(eps, peers[2]), "--peer-urls=" + peers[2]};
    const ProcessResult want = RunTool("/usr/bin/etcdctl", update);
    const ProcessResult got = RunTool(RevkvPath(), update);
    EXPECT_EQ(NormaliseEtcdJson(want.out), NormaliseEtcdJson(got.out)) << f;
    EXPECT_EQ(want.exit_code, got.exit_code) << f << got.err;
  }
  // move-leader: revkv hands over to a follower, etcdctl back, revkv again.
  const int next = (leader + 1) % 3;
  const std::string from = IdOf(eps, peers[size_t(leader)]);
  const std::string to = IdOf(eps, peers[size_t(next)]);
  ProcessResult moved = RunTool(RevkvPath(), {eps, "move-leader", to});
  EXPECT_EQ(moved.out, "Leadership transferred from " + from + " to " + to + "\n") << moved.err;
  EXPECT_EQ(moved.exit_code, 0);
  ASSERT_EQ(Leader(clients), next);
  ProcessResult back = RunTool("/usr/bin/etcdctl", {eps, "-w", "json", "move-leader", from});
  ASSERT_EQ(Leader(clients), leader);
  ProcessResult again = RunTool(RevkvPath(), {eps, "-w", "json", "move-leader", to});
  EXPECT_EQ(NormaliseEtcdJson(back.out), NormaliseEtcdJson(again.out)) << back.err << again.err;
  // Only followers named: no leader among them.
  const int leader_now = Leader(clients);
  ASSERT_GE(leader_now, 0);
  std::vector<std::string> followers;
  for (int i = 0; i < 3; ++i) {
    if (i != leader_now) followers.push_back(clients[size_t(i)]);
  }
  Same({"--endpoints=" + absl::StrJoin(followers, ","), "move-leader", to});
  Same({eps, "move-leader", "1234"});
}

TEST_F(ClusterServeTest, MemberChangesAsEtcdctl) {
  if (!EtcdServer::Available()) GTEST_SKIP() << "etcdctl is not installed";
  ASSERT_GE(StartNewCluster(), 0);
  std::vector<std::string> clients, peers;
  for (const Member& m : members_) {
    clients.push_back(m.client_url());
    peers.push_back(m.peer_url());
  }
  ChangesAsEtcdctl(clients, peers);
}

// The same on a three-member etcd 3.4 cluster on loopback.
TEST(ClientModeEtcdClusterTest, MemberChangesAsEtcdctl) {
  if (!EtcdServer::Available()) GTEST_SKIP() << "etcd 3.4 is not installed";
  std::set<int> ports;
  while (ports.size() < 6) ports.insert(EtcdServer::FreePort());
  std::vector<int> p(ports.begin(), ports.end());
  std::vector<std::string> clients, peers, initial;
  for (int i = 0; i < 3; ++i) {
    clients.push_back("http://127.0.0.1:" + std::to_string(p[size_t(2 * i)]));
    peers.push_back("http://127.0.0.1:" + std::to_string(p[size_t(2 * i + 1)]));
    initial.push_back("e" + std::to_string(i) + "=" + peers.back());
  }
  BackgroundProcess etcd[3];
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(etcd[i].Start({"/usr/bin/etcd", "--name", "e" + std::to_string(i), "--data-dir",
                               NewTempDir("etcd-cluster") + "/data", "--listen-client-urls",
                               clients[size_t(i)], "--advertise-client-urls", clients[size_t(i)],
                               "--listen-peer-urls", peers[size_t(i)],
                               "--initial-advertise-peer-urls", peers[size_t(i)],
                               "--initial-cluster", absl::StrJoin(initial, ","),
                               "--initial-cluster-token", "client-mode-test",
                               "--heartbeat-interval", "50", "--election-timeout", "500"}));
  }
  ChangesAsEtcdctl(clients, peers);
  // etcd re-raises SIGTERM once it has shut down.
  for (BackgroundProcess& e : etcd) EXPECT_EQ(e.Stop(SIGTERM, std::chrono::seconds(10)), 143);
}

}  // namespace
}  // namespace revkv::testing
