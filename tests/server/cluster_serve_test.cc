// Three `revkv serve` members on loopback form a Raft cluster
// (--initial-cluster), and the real etcdctl 3.4.23 works against any of
// them: a put on a follower, a linearizable get on another, a txn, the
// same member list everywhere, endpoint status --cluster (one leader),
// endpoint hashkv --cluster (equal at one revision), Maintenance.Hash
// (equal: the same member table too). Then the leader is
// killed (SIGKILL): the other two elect a new one and take writes on
// either, and the killed member, restarted on its data directory, catches
// up (equal hashes again).
//
// A second test keeps writers putting through every member while the
// leader is killed and restarted twice: no acknowledged put is lost.
//
// Every wait is a bounded poll of etcdctl; every member is stopped by the
// test (ServeProcess kills what is left).
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "server/proto/rpc.grpc.pb.h"
#include "tests/cmd/etcd_server.h"
#include "tests/cmd/process.h"
#include "tests/server/cluster_fixture.h"
#include "tests/server/serve_process.h"

namespace revkv::testing {
namespace {

// Median latency (µs) of `n` sequential calls of `call`; -1 if one failed.
template <typename Call>
int64_t MedianMicros(int n, Call call) {
  std::vector<int64_t> us;
  for (int i = 0; i < n; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    if (!call(i)) return -1;
    us.push_back(std::chrono::duration_cast<std::chrono::microseconds>(
                     std::chrono::steady_clock::now() - t0)
                     .count());
  }
  std::sort(us.begin(), us.end());
  return us[us.size() / 2];
}

// Prints the median latency of puts and gets on the leader and on a
// follower over gRPC (figures for the report, not assertions).
void PrintLatencies(const std::string& leader, const std::string& follower) {
  for (const auto& [role, target] : {std::pair{"leader", leader}, std::pair{"follower", follower}}) {
    // Copies: clang 14 does not let lambdas capture structured bindings.
    const std::string who = role;
    const std::string address = target;
    auto kv = etcdserverpb::KV::NewStub(
        grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
    auto put = [&](int i) {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      etcdserverpb::PutRequest req;
      req.set_key(std::string("lat-") + who + std::to_string(i));
      req.set_value("v");
      etcdserverpb::PutResponse resp;
      return kv->Put(&ctx, req, &resp).ok();
    };
    auto get = [&](bool serializable) {
      return [&, serializable](int) {
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
        etcdserverpb::RangeRequest req;
        req.set_key("greeting");
        req.set_serializable(serializable);
        etcdserverpb::RangeResponse resp;
        return kv->Range(&ctx, req, &resp).ok();
      };
    };
    const int64_t p = MedianMicros(100, put);
    const int64_t l = MedianMicros(100, get(false));
    const int64_t z = MedianMicros(100, get(true));
    std::printf("latency p50 on the %s: put %lld us, linearizable get %lld us, serializable get %lld us\n",
                who.c_str(), (long long)p, (long long)l, (long long)z);
    EXPECT_GE(p, 0);
    EXPECT_GE(l, 0);
    EXPECT_GE(z, 0);
  }
}


// Polls Maintenance.Hash (etcd's backend hash) on every member in
// `members` until all answer the same hash at the same revision: members
// that applied the same log hold the same etcd data (their own buckets,
// and the consistent index, left out). False at the deadline, with the
// last answers in *last.
bool WaitForEqualBackendHashes(const std::vector<const Member*>& members, std::string* last) {
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (std::chrono::steady_clock::now() < deadline) {
    std::set<std::pair<uint32_t, int64_t>> answers;
    bool all_answered = true;
    last->clear();
    for (const Member* m : members) {
      auto maintenance = etcdserverpb::Maintenance::NewStub(
          grpc::CreateChannel(m->proc->address(), grpc::InsecureChannelCredentials()));
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
      etcdserverpb::HashResponse resp;
      grpc::Status s = maintenance->Hash(&ctx, etcdserverpb::HashRequest(), &resp);
      *last += m->name + ": " +
               (s.ok() ? std::to_string(resp.hash()) + " at " + std::to_string(resp.header().revision())
                       : s.error_message()) +
               "\n";
      all_answered = all_answered && s.ok();
      answers.insert({resp.hash(), resp.header().revision()});
    }
    if (all_answered && answers.size() == 1) return true;
    std::this_thread::sleep_for(kPoll);
  }
  return false;
}

TEST_F(ClusterServeTest, EtcdctlAgainstEveryMemberAndTheLeaderKilled) {
  const int leader = StartNewCluster();
  ASSERT_GE(leader, 0) << "no leader elected";
  const Member& f1 = members_[size_t((leader + 1) % 3)];
  const Member& f2 = members_[size_t((leader + 2) % 3)];
  const Member& lead = members_[size_t(leader)];

  // A put on a follower (forwarded), read back linearizably on the other
  // follower and serializably on the first (which applied it before
  // answering).
  ProcessResult put = Ctl(f1, {"put", "greeting", "hello"});
  ASSERT_EQ(put.exit_code, 0) << put.err;
  EXPECT_EQ(put.out, "OK\n");
  EXPECT_EQ(Ctl(f2, {"get", "greeting"}).out, "greeting\nhello\n");
  EXPECT_EQ(Ctl(f1, {"get", "greeting", "--consistency=s"}).out, "greeting\nhello\n");

  // A txn on a follower.
  ProcessResult txn = Ctl(f2, {"txn"}, "value(\"greeting\") = \"hello\"\n\nput greeting hi\n\nput greeting no\n\n");
  ASSERT_EQ(txn.exit_code, 0) << txn.err;
  EXPECT_EQ(txn.out, "SUCCESS\n\nOK\n");
  EXPECT_EQ(Ctl(lead, {"get", "greeting"}).out, "greeting\nhi\n");
  EXPECT_EQ(Ctl(f1, {"get", "greeting"}).out, "greeting\nhi\n");

  // The same members, with the same ids and URLs, from every member, once
  // each has published its client URLs.
  std::string first_list;
  for (const Member& m : members_) ASSERT_TRUE(WaitForPublished(m)) << m.name;
  for (const Member& m : members_) {
    ProcessResult r = Ctl(m, {"member", "list"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    if (first_list.empty()) first_list = r.out;
    EXPECT_EQ(r.out, first_list);
    for (const Member& other : members_) {
      EXPECT_NE(r.out.find(", " + other.name + ", " + other.peer_url() + ", " + other.client_url() + ","),
                std::string::npos)
          << r.out;
    }
  }

  // endpoint status --cluster: every member, one leader.
  {
    ProcessResult r = Ctl(f2, {"endpoint", "status", "--cluster", "-w", "json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::vector<EndpointStatus> s = ParseStatus(r.out);
    ASSERT_EQ(s.size(), 3u) << r.out;
    int leaders = 0;
    for (const EndpointStatus& e : s) {
      EXPECT_EQ(e.leader, s[0].leader);
      leaders += e.member_id == e.leader ? 1 : 0;
      EXPECT_GT(e.raft_index, 0u);
      EXPECT_GT(e.applied, 0u);
    }
    EXPECT_EQ(leaders, 1) << r.out;
  }

  PrintLatencies(lead.proc->address(), f1.proc->address());

  for (int i = 0; i < 20; ++i) {
    const Member& m = members_[size_t(i % 3)];
    ProcessResult r = Ctl(m, {"put", "k" + std::to_string(i), "v" + std::to_string(i)});
    ASSERT_EQ(r.exit_code, 0) << m.name << ": " << r.err;
  }
  std::string last;
  int64_t rev = Revision(f1);
  EXPECT_TRUE(WaitForEqualHashes(f1, rev, 3, &last)) << last;
  EXPECT_TRUE(WaitForEqualBackendHashes({&lead, &f1, &f2}, &last)) << last;

  // SIGKILL the leader: the other two carry on.
  const std::string killed = lead.name;
  EXPECT_EQ(members_[size_t(leader)].proc->Stop(SIGKILL), 128 + SIGKILL);
  members_[size_t(leader)].proc.reset();
  const auto killed_at = std::chrono::steady_clock::now();
  const int next = WaitForLeader({(leader + 1) % 3, (leader + 2) % 3});
  ASSERT_GE(next, 0) << "no new leader after " << killed << " was killed";
  EXPECT_NE(next, leader);
  for (int i = 0; i < 10; ++i) {
    const Member& m = i % 2 == 0 ? f1 : f2;
    ProcessResult r = Ctl(m, {"put", "after" + std::to_string(i), "x"});
    ASSERT_EQ(r.exit_code, 0) << m.name << ": " << r.err;
    if (i == 0) {
      std::printf("from SIGKILL of the leader to the next acknowledged put (etcdctl): %lld ms\n",
                  (long long)std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - killed_at)
                      .count());
    }
  }
  EXPECT_EQ(Ctl(f2, {"get", "after0"}).out, "after0\nx\n");
  EXPECT_EQ(Ctl(f1, {"get", "after9"}).out, "after9\nx\n");

  // The killed member comes back on its data directory and catches up.
  {
    std::string error;
    ASSERT_TRUE(StartMember(members_[size_t(leader)], "existing", &error)) << error;
  }
  rev = Revision(f2);
  EXPECT_TRUE(WaitForEqualHashes(f2, rev, 3, &last)) << last;
  EXPECT_EQ(Ctl(members_[size_t(leader)], {"get", "after9"}).out, "after9\nx\n");
  EXPECT_EQ(Ctl(members_[size_t(leader)], {"get", "greeting", "--consistency=s"}).out,
            "greeting\nhi\n");
}

// Writers put unique keys through every member (gRPC, round robin) while
// the leader is SIGKILLed and restarted, twice. Afterwards every
// acknowledged put is read back on every member, and their hashes agree.
TEST_F(ClusterServeTest, AcknowledgedWritesSurviveLeaderKills) {
  ASSERT_GE(StartNewCluster(), 0);
  constexpr int kWriters = 3;
  constexpr int kMaxPuts = 2000;  // per writer: bounds the run if stops are late
  std::vector<std::string> addresses;
  for (const Member& m : members_) addresses.push_back("127.0.0.1:" + std::to_string(m.client_port));
  std::atomic<bool> stop{false};
  std::vector<std::vector<std::string>> acked(kWriters);
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      std::vector<std::unique_ptr<etcdserverpb::KV::Stub>> kv;
      for (const std::string& a : addresses) {
        grpc::ChannelArguments args;
        args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 200);
        kv.push_back(etcdserverpb::KV::NewStub(
            grpc::CreateCustomChannel(a, grpc::InsecureChannelCredentials(), args)));
      }
      for (int i = 0; i < kMaxPuts && !stop.load(); ++i) {
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
        etcdserverpb::PutRequest req;
        req.set_key("w" + std::to_string(w) + "-" + std::to_string(i));
        req.set_value("v");
        etcdserverpb::PutResponse resp;
        if (kv[size_t(i + w) % kv.size()]->Put(&ctx, req, &resp).ok()) {
          acked[size_t(w)].push_back(req.key());
        }
      }
    });
  }
  for (int round = 0; round < 2; ++round) {
    const int leader = WaitForLeader({0, 1, 2});
    ASSERT_GE(leader, 0);
    EXPECT_EQ(members_[size_t(leader)].proc->Stop(SIGKILL), 128 + SIGKILL);
    members_[size_t(leader)].proc.reset();
    ASSERT_GE(WaitForLeader({(leader + 1) % 3, (leader + 2) % 3}), 0);
    std::string error;
    ASSERT_TRUE(StartMember(members_[size_t(leader)], "existing", &error)) << error;
  }
  ASSERT_GE(WaitForLeader({0, 1, 2}), 0);
  stop = true;
  for (std::thread& t : writers) t.join();
  size_t total = 0;
  for (const auto& keys : acked) total += keys.size();
  std::printf("acknowledged puts across two leader kills: %zu\n", total);
  EXPECT_GT(total, 0u);
  const int64_t rev = Revision(members_[0]);
  std::string last;
  EXPECT_TRUE(WaitForEqualHashes(members_[0], rev, 3, &last)) << last;
  for (const Member& m : members_) {
    ProcessResult r = Ctl(m, {"get", "w", "--prefix", "--keys-only"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    for (const auto& keys : acked) {
      for (const std::string& k : keys) {
        EXPECT_NE(r.out.find(k + "\n"), std::string::npos) << m.name << " lost " << k;
      }
    }
  }
}

TEST_F(ClusterServeTest, RefusesAMemberNotInTheInitialCluster) {
  Member& m = members_[0];
  m.name = "nobody";
  std::string error;
  EXPECT_FALSE(StartMember(m, "new", &error));
  EXPECT_NE(error.find("cannot join the cluster"), std::string::npos) << error;
  m.proc.reset();
}

}  // namespace
}  // namespace revkv::testing
