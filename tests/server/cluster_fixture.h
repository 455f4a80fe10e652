// Test fixture: a three-member `revkv serve` Raft cluster on loopback
// (free ports, temporary data directories), etcdctl against its members,
// and bounded polls of endpoint status and hashkv. Every member is stopped
// by TearDown (SIGTERM, expecting a clean exit; ServeProcess kills what is
// left).
//
// Thread-safety: not thread-safe (one test thread).
#ifndef REVKV_TESTS_SERVER_CLUSTER_FIXTURE_H_
#define REVKV_TESTS_SERVER_CLUSTER_FIXTURE_H_

#include <signal.h>

#include <chrono>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/cmd/etcd_server.h"
#include "tests/cmd/process.h"
#include "tests/server/serve_process.h"

namespace revkv::testing {

inline constexpr auto kWait = std::chrono::seconds(30);
inline constexpr auto kPoll = std::chrono::milliseconds(100);

struct Member {
  std::string name;
  int peer_port = 0;
  int client_port = 0;
  std::string data_dir;
  std::unique_ptr<ServeProcess> proc;
  std::string client_url() const { return "http://127.0.0.1:" + std::to_string(client_port); }
  std::string peer_url() const { return "http://127.0.0.1:" + std::to_string(peer_port); }
};

// One entry of `endpoint status -w json`.
struct EndpointStatus {
  std::string endpoint;
  uint64_t member_id = 0;
  uint64_t leader = 0;
  uint64_t raft_index = 0;
  uint64_t applied = 0;
};

inline std::vector<EndpointStatus> ParseStatus(const std::string& json) {
  static const std::regex kEntry(
      "\\{\"Endpoint\":\"([^\"]+)\",\"Status\":\\{\"header\":\\{\"cluster_id\":"
      "\\d+,"
      "\"member_id\":(\\d+)[^}]*\\}[^}]*?\"leader\":(\\d+),\"raftIndex\":(\\d+)"
      ","
      "\"raftTerm\":\\d+,\"raftAppliedIndex\":(\\d+)");
  std::vector<EndpointStatus> out;
  for (std::sregex_iterator it(json.begin(), json.end(), kEntry), end; it != end; ++it) {
    out.push_back({(*it)[1], std::stoull((*it)[2]), std::stoull((*it)[3]), std::stoull((*it)[4]),
                   std::stoull((*it)[5])});
  }
  return out;
}

// endpoint -> hash of `endpoint hashkv -w json`.
inline std::map<std::string, std::string> ParseHashes(const std::string& json) {
  static const std::regex kEntry(
      "\"Endpoint\":\"([^\"]+)\",\"HashKV\":\\{[^}]*\\}[^}]*?\"hash\":(\\d+)");
  std::map<std::string, std::string> out;
  for (std::sregex_iterator it(json.begin(), json.end(), kEntry), end; it != end; ++it) {
    out[(*it)[1]] = (*it)[2];
  }
  return out;
}

class ClusterServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::set<int> ports;
    while (ports.size() < 6) {
      const int p = EtcdServer::FreePort();
      ASSERT_GT(p, 0);
      ports.insert(p);
    }
    auto it = ports.begin();
    for (const char* name : {"a", "b", "c"}) {
      Member m;
      m.name = name;
      m.peer_port = *it++;
      m.client_port = *it++;
      m.data_dir = NewTempDir(std::string("cluster-") + name) + "/data";
      members_.push_back(std::move(m));
    }
    for (const Member& m : members_) {
      if (!initial_cluster_.empty()) initial_cluster_ += ",";
      initial_cluster_ += m.name + "=" + m.peer_url();
    }
  }

  void TearDown() override {
    for (Member& m : members_) {
      if (m.proc != nullptr) {
        EXPECT_EQ(m.proc->Stop(SIGTERM), 0) << m.proc->Log();
      }
    }
  }

  // A member to add, `name`, with free ports none of the three uses and a
  // fresh data directory (not started).
  Member NewMember(const std::string& name) {
    Member d;
    d.name = name;
    while (d.peer_port == 0 || d.client_port == 0) {
      const int p = EtcdServer::FreePort();
      EXPECT_GT(p, 0);
      if (p <= 0) break;
      bool used = p == d.peer_port;
      for (const Member& m : members_) used = used || p == m.peer_port || p == m.client_port;
      if (used) continue;
      (d.peer_port == 0 ? d.peer_port : d.client_port) = p;
    }
    d.data_dir = NewTempDir("cluster-" + name) + "/data";
    return d;
  }

  // Starts `m` with --initial-cluster `initial_cluster` ("": the three's).
  bool StartMember(Member& m, const std::string& state, std::string* error,
                   const std::string& initial_cluster = "") {
    m.proc = std::make_unique<ServeProcess>();
    std::vector<std::string> flags = {"--name",
                                      m.name,
                                      "--initial-cluster",
                                      initial_cluster.empty() ? initial_cluster_ : initial_cluster,
                                      "--initial-cluster-state",
                                      state,
                                      "--initial-cluster-token",
                                      "test-token",
                                      "--initial-advertise-peer-urls",
                                      m.peer_url(),
                                      "--listen-peer-urls",
                                      m.peer_url(),
                                      "--listen-client-urls",
                                      m.client_url(),
                                      "--advertise-client-urls",
                                      m.client_url(),
                                      "--election-timeout",
                                      "500",
                                      "--heartbeat-interval",
                                      "50"};
    flags.insert(flags.end(), extra_flags_.begin(), extra_flags_.end());
    return m.proc->Start(error, flags, m.data_dir);
  }

  // Starts the three as a new cluster; the index of the leader they agree
  // on, or -1 (a start failed, or no leader in time).
  int StartNewCluster() {
    for (Member& m : members_) {
      std::string error;
      if (!StartMember(m, "new", &error)) {
        ADD_FAILURE() << m.name << ": " << error;
        return -1;
      }
    }
    return WaitForLeader({0, 1, 2});
  }

  ProcessResult Ctl(const Member& m, const std::vector<std::string>& args,
                    const std::string& stdin_data = "") {
    return m.proc->Etcdctl(args, stdin_data);
  }

  // Polls `endpoint status` on `alive` until all of them report the same
  // leader, one of them; returns its index in members_ (-1 at the deadline).
  int WaitForLeader(const std::vector<int>& alive) {
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    while (std::chrono::steady_clock::now() < deadline) {
      std::set<uint64_t> leaders;
      std::map<uint64_t, int> by_id;
      bool all = true;
      for (int i : alive) {
        ProcessResult r = Ctl(members_[size_t(i)], {"endpoint", "status", "-w", "json"});
        std::vector<EndpointStatus> s = ParseStatus(r.out);
        if (r.exit_code != 0 || s.size() != 1 || s[0].leader == 0) {
          all = false;
          break;
        }
        leaders.insert(s[0].leader);
        by_id[s[0].member_id] = i;
      }
      if (all && leaders.size() == 1 && by_id.contains(*leaders.begin())) {
        return by_id[*leaders.begin()];
      }
      std::this_thread::sleep_for(kPoll);
    }
    return -1;
  }

  // The store's revision as `m` answers a linearizable get.
  int64_t Revision(const Member& m) {
    ProcessResult r = Ctl(m, {"get", "nothing-here", "-w", "json"});
    std::smatch s;
    if (r.exit_code != 0 || !std::regex_search(r.out, s, std::regex("\"revision\":(\\d+)"))) {
      std::string status;
      for (const Member& each : members_) {
        if (each.proc == nullptr) continue;
        ProcessResult st = Ctl(each, {"endpoint", "status", "-w", "json", "--command-timeout=2s"});
        status += "\n" + each.name + ": " + st.out + st.LastErrLine();
      }
      ADD_FAILURE() << m.name << ": " << r.out << r.err << status;
      return 0;
    }
    return std::stoll(s[1]);
  }

  // Polls `member list` on `m` until every member it lists has published
  // its client URLs (each member does so through the log after it starts,
  // as etcd's publish does); false at the deadline.
  bool WaitForPublished(const Member& m) {
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    while (std::chrono::steady_clock::now() < deadline) {
      ProcessResult r = Ctl(m, {"member", "list"});
      if (r.exit_code == 0 && !r.out.empty() && r.out.find(", , ") == std::string::npos) {
        return true;
      }
      std::this_thread::sleep_for(kPoll);
    }
    return false;
  }

  // Polls `endpoint hashkv --cluster --rev rev` from `m` until it lists
  // `n` endpoints with one hash.
  bool WaitForEqualHashes(const Member& m, int64_t rev, size_t n, std::string* last) {
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    while (std::chrono::steady_clock::now() < deadline) {
      ProcessResult r =
          Ctl(m, {"endpoint", "hashkv", "--cluster", "--rev", std::to_string(rev), "-w", "json"});
      *last = r.out + r.err;
      std::map<std::string, std::string> h = ParseHashes(r.out);
      std::set<std::string> distinct;
      for (const auto& [endpoint, hash] : h) distinct.insert(hash);
      if (r.exit_code == 0 && h.size() == n && distinct.size() == 1) return true;
      std::this_thread::sleep_for(kPoll);
    }
    // What each member says, for the failure message.
    for (const Member& each : members_) {
      if (each.proc == nullptr) continue;
      ProcessResult st = Ctl(each, {"endpoint", "status", "-w", "json", "--command-timeout=2s"});
      *last += "\n" + each.name + ": " + st.out + st.LastErrLine();
    }
    return false;
  }

  std::vector<Member> members_;
  std::string initial_cluster_;
  // More flags for every member StartMember starts.
  std::vector<std::string> extra_flags_;
};

}  // namespace revkv::testing

#endif  // REVKV_TESTS_SERVER_CLUSTER_FIXTURE_H_
