// Chaos against a three-member `revkv serve` cluster on loopback (issue
// #23): client threads put, get and compare-and-swap through every member
// while the main thread stalls the leader (SIGSTOP past the election
// timeout, then SIGCONT), SIGKILLs the leader and restarts it on its data
// directory (twice), SIGKILLs a follower and restarts it, then removes a
// follower and adds a fresh member in its place. The recorded
// history must be linearizable (tests/kvstore/linearizability_checker.h),
// every acknowledged write must be readable at its revision on every
// member, and the members' hashes must agree.
//
// A write that fails (deadline, unavailable, leader lost ...) may still be
// applied later: it is recorded as a Put that returns after everything
// else, so the checker may place it anywhere after its call or not at all
// (last). A failed Get is dropped.
//
// The fault schedule is seeded (CHAOS_SEED overrides; the seed is printed).
// Client loops are bounded by a flag and a cap on operations; every wait is
// a bounded poll; every member is stopped by TearDown.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "server/proto/rpc.grpc.pb.h"
#include "tests/cmd/etcd_server.h"
#include "tests/cmd/process.h"
#include "tests/kvstore/linearizability_checker.h"
#include "tests/server/cluster_fixture.h"
#include "tests/server/serve_process.h"

namespace revkv::testing {
namespace {

namespace lc = revkv::kvstore::lincheck;

// A client's connections, one per member.
struct Stubs {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<etcdserverpb::KV::Stub>> kv;
  etcdserverpb::KV::Stub& operator[](size_t i) { return *kv[i]; }
};

constexpr int kClients = 6;
constexpr int kKeys = 16;
constexpr int kMaxOpsPerClient = 8000;  // bounds the run if the stop is late
constexpr auto kCallDeadline = std::chrono::seconds(3);
// The return time of a write whose outcome is unknown: after every other op.
constexpr uint64_t kNever = std::numeric_limits<uint64_t>::max();

std::string Key(int k) { return "chaos-" + std::to_string(k); }

Stubs Connect(const std::vector<std::string>& addresses) {
  Stubs s;
  for (const std::string& a : addresses) {
    grpc::ChannelArguments args;
    // Restarted members come back on the same port; reconnect quickly.
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 200);
    s.channels.push_back(grpc::CreateCustomChannel(a, grpc::InsecureChannelCredentials(), args));
    s.kv.push_back(etcdserverpb::KV::NewStub(s.channels.back()));
  }
  return s;
}

void SetDeadline(grpc::ClientContext* ctx) {
  ctx->set_deadline(std::chrono::system_clock::now() + kCallDeadline);
}

// A write acknowledged at `revision` (the key's mod revision).
struct Ack {
  std::string key;
  std::string value;
  int64_t revision;
};

struct ClientResult {
  std::vector<lc::Operation> ops;
  std::vector<Ack> acked;
  int ok_gets = 0, ok_puts = 0, cas_won = 0, cas_lost = 0, ambiguous = 0, failed_gets = 0;
  int slow = 0;  // answered after more than a second: held across a fault
  std::map<std::string, int> errors;  // "code: message" of failed calls
};

// One client: random member, random key, random kind of op per call.
void RunClient(int id, uint64_t seed, const std::vector<std::string>& addresses,
               std::atomic<uint64_t>& clock, const std::atomic<bool>& stop, ClientResult* out) {
  std::mt19937_64 rng(seed * 1000003 + uint64_t(id));
  Stubs kv = Connect(addresses);
  // What this client last saw of each key: the CAS compares against it.
  std::map<std::string, lc::Pair> seen;
  for (int i = 0; i < kMaxOpsPerClient && !stop.load(); ++i) {
    const std::string key = Key(int(rng() % kKeys));
    // A member whose connection is down (killed, restarting) is skipped,
    // as etcd's client balancer does: a call there would fail at once and
    // only add an ambiguous write.
    size_t member = rng() % kv.kv.size();
    for (size_t tries = 0; tries < kv.kv.size(); ++tries, member = (member + 1) % kv.kv.size()) {
      if (kv.channels[member]->GetState(true) != GRPC_CHANNEL_TRANSIENT_FAILURE) break;
    }
    etcdserverpb::KV::Stub& stub = kv[member];
    const std::string value = "c" + std::to_string(id) + "-" + std::to_string(i);
    const int dice = int(rng() % 100);
    grpc::ClientContext ctx;
    SetDeadline(&ctx);
    const auto started = std::chrono::steady_clock::now();
    lc::Operation op;
    op.key = key;
    if (dice < 40) {
      etcdserverpb::RangeRequest req;
      req.set_key(key);  // linearizable (serializable = false)
      etcdserverpb::RangeResponse resp;
      op.call = ++clock;
      const grpc::Status s = stub.Range(&ctx, req, &resp);
      op.ret = ++clock;
      if (!s.ok()) {
        ++out->errors[std::to_string(int(s.error_code())) + " " + s.error_message()];
        ++out->failed_gets;
        continue;
      }
      op.kind = lc::OpKind::kGet;
      if (resp.kvs_size() == 0) {
        op.outcome = lc::Outcome::kKeyNotFound;
        seen.erase(key);
      } else {
        op.result = {resp.kvs(0).value(), uint64_t(resp.kvs(0).mod_revision())};
        seen[key] = op.result;
      }
      ++out->ok_gets;
    } else if (dice < 70) {
      etcdserverpb::PutRequest req;
      req.set_key(key);
      req.set_value(value);
      etcdserverpb::PutResponse resp;
      op.kind = lc::OpKind::kPut;
      op.value = value;
      op.call = ++clock;
      const grpc::Status s = stub.Put(&ctx, req, &resp);
      op.ret = ++clock;
      if (!s.ok()) {
        ++out->errors[std::to_string(int(s.error_code())) + " " + s.error_message()];
        op.ret = kNever;
        ++out->ambiguous;
      } else {
        seen[key] = {value, uint64_t(resp.header().revision())};
        out->acked.push_back({key, value, resp.header().revision()});
        ++out->ok_puts;
      }
    } else {
      // CAS on the mod revision last seen; create-CAS if none was seen.
      auto it = seen.find(key);
      etcdserverpb::TxnRequest req;
      etcdserverpb::Compare* c = req.add_compare();
      c->set_key(key);
      c->set_result(etcdserverpb::Compare::EQUAL);
      if (it != seen.end()) {
        c->set_target(etcdserverpb::Compare::MOD);
        c->set_mod_revision(int64_t(it->second.index));
        op.previous = it->second;
      } else {
        c->set_target(etcdserverpb::Compare::CREATE);
        c->set_create_revision(0);
      }
      etcdserverpb::PutRequest* put = req.add_success()->mutable_request_put();
      put->set_key(key);
      put->set_value(value);
      req.add_failure()->mutable_request_range()->set_key(key);
      etcdserverpb::TxnResponse resp;
      op.kind = lc::OpKind::kAtomicPut;
      op.value = value;
      op.call = ++clock;
      const grpc::Status s = stub.Txn(&ctx, req, &resp);
      op.ret = ++clock;
      if (!s.ok()) {
        ++out->errors[std::to_string(int(s.error_code())) + " " + s.error_message()];
        // It may have won later, or lost: an unconditional put that may
        // land anywhere after its call is weaker than either, so sound.
        op.kind = lc::OpKind::kPut;
        op.previous.reset();
        op.ret = kNever;
        ++out->ambiguous;
      } else if (resp.succeeded()) {
        op.result = {value, uint64_t(resp.header().revision())};
        seen[key] = op.result;
        out->acked.push_back({key, value, resp.header().revision()});
        ++out->cas_won;
      } else {
        op.outcome = op.previous ? lc::Outcome::kKeyModified : lc::Outcome::kKeyExists;
        // The failure branch's range tells the client the current pair.
        if (resp.responses_size() == 1 && resp.responses(0).response_range().kvs_size() == 1) {
          const auto& kvs = resp.responses(0).response_range().kvs(0);
          seen[key] = {kvs.value(), uint64_t(kvs.mod_revision())};
        }
        ++out->cas_lost;
      }
    }
    if (op.ret != kNever && std::chrono::steady_clock::now() - started > std::chrono::seconds(1)) {
      ++out->slow;
    }
    out->ops.push_back(std::move(op));
  }
}

// SIGCONTs a stopped member if the test leaves early (TearDown's SIGTERM
// would wait on a stopped process).
struct ContinueOnExit {
  ServeProcess* proc = nullptr;
  ~ContinueOnExit() {
    if (proc != nullptr) proc->Signal(SIGCONT);
  }
};

class ClusterChaosTest : public ClusterServeTest {
 protected:
  // Kills member i (SIGKILL) and keeps its log for a failure message.
  void Kill(int i) {
    Member& m = members_[size_t(i)];
    EXPECT_EQ(m.proc->Stop(SIGKILL), 128 + SIGKILL);
    old_logs_ += "==== " + m.name + " (killed)\n" + m.proc->Log();
    m.proc.reset();
  }
  bool Restart(int i) {
    std::string error;
    const bool ok = StartMember(members_[size_t(i)], "existing", &error);
    EXPECT_TRUE(ok) << members_[size_t(i)].name << ": " << error;
    return ok;
  }
  // Every member's log (earlier lives included) where bazel keeps outputs.
  void SaveLogs() {
    const char* dir = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR");
    if (dir == nullptr) return;
    std::ofstream out(std::string(dir) + "/members.log");
    out << old_logs_;
    for (const Member& m : members_) {
      if (m.proc != nullptr) out << "==== " << m.name << "\n" << m.proc->Log();
    }
  }
  // `m`'s member list: the id of the member with peer URL `url` ("": none).
  std::string IdOf(const Member& m, const std::string& url) {
    ProcessResult r = Ctl(m, {"member", "list"});
    std::istringstream lines(r.out);
    for (std::string l; std::getline(lines, l);) {
      if (l.find(url + ",") != std::string::npos) return l.substr(0, l.find(','));
    }
    return "";
  }
  std::string old_logs_;
};

TEST_F(ClusterChaosTest, HistoryIsLinearizableAcrossStallsKillsAndRestarts) {
  uint64_t seed = uint64_t(std::chrono::system_clock::now().time_since_epoch().count());
  if (const char* s = std::getenv("CHAOS_SEED")) seed = std::strtoull(s, nullptr, 10);
  std::printf("CHAOS_SEED=%llu\n", (unsigned long long)seed);
  std::mt19937_64 rng(seed);
  auto pause = [&](int lo_ms, int hi_ms) {  // a step of the fault schedule
    std::this_thread::sleep_for(std::chrono::milliseconds(lo_ms + int(rng() % uint64_t(hi_ms - lo_ms))));
  };
  const auto started = std::chrono::steady_clock::now();
  auto at = [&] {  // ms since the start, for the schedule's printout
    return (long long)std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now() - started)
        .count();
  };

  ASSERT_GE(StartNewCluster(), 0) << "no leader elected";
  std::vector<std::string> addresses;
  for (const Member& m : members_) addresses.push_back("127.0.0.1:" + std::to_string(m.client_port));
  std::atomic<uint64_t> clock{0};
  std::atomic<bool> stop{false};
  std::vector<ClientResult> results(kClients);
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back(RunClient, c, seed, std::cref(addresses), std::ref(clock), std::cref(stop),
                         &results[size_t(c)]);
  }
  // Joins the clients however the schedule ends.
  struct Joiner {
    std::atomic<bool>& stop;
    std::vector<std::thread>& threads;
    ~Joiner() {
      stop = true;
      for (std::thread& t : threads) {
        if (t.joinable()) t.join();
      }
    }
  } joiner{stop, clients};

  pause(500, 900);
  {
    // A stalled leader: the others elect a new one while it is stopped;
    // once continued, it must not answer from its stale term.
    const int leader = WaitForLeader({0, 1, 2});
    ASSERT_GE(leader, 0);
    ContinueOnExit guard{members_[size_t(leader)].proc.get()};
    ASSERT_TRUE(members_[size_t(leader)].proc->Signal(SIGSTOP));
    std::printf("%6lld ms: SIGSTOP %s\n", at(), members_[size_t(leader)].name.c_str());
    pause(1800, 2300);  // > the 500 ms election timeout
    const int other = WaitForLeader({(leader + 1) % 3, (leader + 2) % 3});
    ASSERT_GE(other, 0) << "no leader while " << members_[size_t(leader)].name << " was stopped";
    EXPECT_NE(other, leader);
    ASSERT_TRUE(members_[size_t(leader)].proc->Signal(SIGCONT));
    guard.proc = nullptr;
  }
  for (int round = 0; round < 2; ++round) {
    const int leader = WaitForLeader({0, 1, 2});
    ASSERT_GE(leader, 0);
    pause(300, 800);
    std::printf("%6lld ms: SIGKILL leader %s\n", at(), members_[size_t(leader)].name.c_str());
    Kill(leader);
    ASSERT_GE(WaitForLeader({(leader + 1) % 3, (leader + 2) % 3}), 0);
    pause(300, 800);  // writes the killed member misses
    ASSERT_TRUE(Restart(leader));
  }
  {
    const int leader = WaitForLeader({0, 1, 2});
    ASSERT_GE(leader, 0);
    pause(500, 1000);
    const int follower = (leader + 1 + int(rng() % 2)) % 3;
    std::printf("%6lld ms: SIGKILL follower %s\n", at(), members_[size_t(follower)].name.c_str());
    Kill(follower);
    pause(500, 1000);
    ASSERT_TRUE(Restart(follower));
  }
  {
    // A follower removed (it exits by itself) and a fresh member added in
    // its place, on its client port so that the clients reach it.
    const int leader = WaitForLeader({0, 1, 2});
    ASSERT_GE(leader, 0);
    pause(300, 800);
    const int gone = (leader + 1 + int(rng() % 2)) % 3;
    Member& lead = members_[size_t(leader)];
    const std::string gone_id = IdOf(lead, members_[size_t(gone)].peer_url());
    ASSERT_FALSE(gone_id.empty());
    std::printf("%6lld ms: member remove %s\n", at(), members_[size_t(gone)].name.c_str());
    ProcessResult remove = Ctl(lead, {"member", "remove", gone_id});
    ASSERT_EQ(remove.exit_code, 0) << remove.err;
    Member& m = members_[size_t(gone)];
    const long long removed_at = at();
    EXPECT_EQ(m.proc->Stop(0), 0);  // sends nothing: waits (bounded) for its exit
    std::printf("%6lld ms: %s exited\n", at(), m.name.c_str());
    // Its clients' calls, waiting for a leader it will never have again,
    // are answered at once (stopped), not at their timeout: it exits soon
    // after it learns of its removal (about an election timeout).
    EXPECT_LT(at() - removed_at, 4000) << "the removed member took long to exit";
    old_logs_ += "==== " + m.name + " (removed)\n" + m.proc->Log();
    m.proc.reset();
    ASSERT_GE(WaitForLeader({(gone + 1) % 3, (gone + 2) % 3}), 0);
    std::printf("%6lld ms: leader\n", at());
    pause(300, 800);  // writes on two members
    Member fresh;
    fresh.name = "d";
    fresh.client_port = m.client_port;
    while (fresh.peer_port == 0) {
      const int p = EtcdServer::FreePort();
      ASSERT_GT(p, 0);
      bool used = false;
      for (const Member& each : members_) used = used || p == each.peer_port || p == each.client_port;
      if (!used) fresh.peer_port = p;
    }
    fresh.data_dir = NewTempDir("cluster-d") + "/data";
    const int survivor = WaitForLeader({(gone + 1) % 3, (gone + 2) % 3});
    ASSERT_GE(survivor, 0);
    ProcessResult add = Ctl(members_[size_t(survivor)],
                            {"member", "add", "d", "--peer-urls=" + fresh.peer_url()});
    ASSERT_EQ(add.exit_code, 0) << add.err;
    std::smatch found;
    ASSERT_TRUE(std::regex_search(add.out, found, std::regex("ETCD_INITIAL_CLUSTER=\"([^\"]+)\"")))
        << add.out;
    const std::string initial_cluster = found[1];
    std::printf("%6lld ms: member add d\n", at());
    m = std::move(fresh);
    std::string error;
    ASSERT_TRUE(StartMember(m, "existing", &error, initial_cluster)) << error;
  }
  ASSERT_GE(WaitForLeader({0, 1, 2}), 0);
  pause(300, 800);  // load on the fresh member
  std::printf("%6lld ms: stop\n", at());
  stop = true;
  for (std::thread& t : clients) t.join();
  const auto chaos_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - started)
                            .count();

  // Every key read once more, linearizably, after everything (fresh stubs:
  // the clients' are gone with their threads).
  std::vector<lc::Operation> history;
  ClientResult total;
  for (ClientResult& r : results) {
    // A client that ran out of operations left the end of the schedule
    // without load.
    EXPECT_LT(r.ops.size() + size_t(r.failed_gets), size_t(kMaxOpsPerClient));
    history.insert(history.end(), r.ops.begin(), r.ops.end());
    total.acked.insert(total.acked.end(), r.acked.begin(), r.acked.end());
    total.ok_gets += r.ok_gets;
    total.ok_puts += r.ok_puts;
    total.cas_won += r.cas_won;
    total.cas_lost += r.cas_lost;
    total.ambiguous += r.ambiguous;
    total.failed_gets += r.failed_gets;
    total.slow += r.slow;
    for (const auto& [e, n] : r.errors) total.errors[e] += n;
  }
  for (const auto& [e, n] : total.errors) std::printf("  %5d x %s\n", n, e.c_str());
  Stubs kv = Connect(addresses);
  for (int k = 0; k < kKeys; ++k) {
    bool read = false;
    for (int attempt = 0; attempt < 5 && !read; ++attempt) {
      grpc::ClientContext ctx;
      SetDeadline(&ctx);
      etcdserverpb::RangeRequest req;
      req.set_key(Key(k));
      etcdserverpb::RangeResponse resp;
      lc::Operation op;
      op.key = Key(k);
      op.call = ++clock;
      const grpc::Status s = kv[size_t(k % 3)].Range(&ctx, req, &resp);
      op.ret = ++clock;
      if (!s.ok()) continue;
      read = true;
      if (resp.kvs_size() == 0) {
        op.outcome = lc::Outcome::kKeyNotFound;
      } else {
        op.result = {resp.kvs(0).value(), uint64_t(resp.kvs(0).mod_revision())};
      }
      history.push_back(std::move(op));
    }
    ASSERT_TRUE(read) << "final read of " << Key(k);
  }

  const auto check_start = std::chrono::steady_clock::now();
  const lc::CheckResult check = lc::Check(history);
  const auto check_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - check_start)
                            .count();
  std::printf(
      "chaos %lld ms: %zu ops (gets %d, puts %d, cas won %d, cas lost %d, ambiguous writes %d, "
      "failed gets %d, answered after > 1 s %d); check %lld ms, %llu states\n",
      (long long)chaos_ms, history.size(), total.ok_gets, total.ok_puts, total.cas_won,
      total.cas_lost, total.ambiguous, total.failed_gets, total.slow, (long long)check_ms,
      (unsigned long long)check.states);
  if (!check.linearizable) {
    std::vector<lc::Operation> ops;
    for (const lc::Operation& op : history) {
      if (op.key == check.key) ops.push_back(op);
    }
    std::sort(ops.begin(), ops.end(), [](const auto& a, const auto& b) { return a.call < b.call; });
    std::string lines;
    for (const lc::Operation& op : ops) lines += lc::Describe(op) + "\n";
    SaveLogs();
    ADD_FAILURE() << "not linearizable (seed " << seed << "): key " << check.key << ", "
                  << check.key_ops << " ops, best prefix " << check.best_prefix << "\n"
                  << lines;
  }
  // Enough happened for the verdict to mean something.
  EXPECT_GE(total.ok_gets + total.ok_puts + total.cas_won + total.cas_lost, 500);
  EXPECT_GT(total.cas_won, 0);
  EXPECT_GT(total.cas_lost, 0);

  // The members agree at the final revision, and every acknowledged write
  // is there at its revision on each (serializable: each member's own copy).
  const int64_t rev = Revision(members_[0]);
  std::string last;
  ASSERT_TRUE(WaitForEqualHashes(members_[0], rev, 3, &last)) << last;
  // Read in txns of 100 serializable ranges, each at its own revision.
  constexpr size_t kBatch = 100;
  for (size_t m = 0; m < members_.size(); ++m) {
    int missing = 0;
    for (size_t from = 0; from < total.acked.size(); from += kBatch) {
      const size_t to = std::min(total.acked.size(), from + kBatch);
      etcdserverpb::TxnRequest req;
      for (size_t i = from; i < to; ++i) {
        ASSERT_LE(total.acked[i].revision, rev);
        etcdserverpb::RangeRequest* r = req.add_success()->mutable_request_range();
        r->set_key(total.acked[i].key);
        r->set_revision(total.acked[i].revision);
        r->set_serializable(true);
      }
      grpc::ClientContext ctx;
      SetDeadline(&ctx);
      etcdserverpb::TxnResponse resp;
      const grpc::Status s = kv[m].Txn(&ctx, req, &resp);
      ASSERT_TRUE(s.ok()) << members_[m].name << ": " << s.error_message();
      ASSERT_EQ(size_t(resp.responses_size()), to - from);
      for (size_t i = from; i < to; ++i) {
        const Ack& a = total.acked[i];
        const etcdserverpb::RangeResponse& r = resp.responses(int(i - from)).response_range();
        if (r.kvs_size() != 1 || r.kvs(0).value() != a.value || r.kvs(0).mod_revision() != a.revision) {
          if (++missing <= 5) {
            ADD_FAILURE() << members_[m].name << ": acknowledged " << a.key << "=" << a.value
                          << " at revision " << a.revision << " not found there";
          }
        }
      }
    }
    EXPECT_EQ(missing, 0) << members_[m].name;
  }
  if (HasFailure()) SaveLogs();
}

}  // namespace
}  // namespace revkv::testing
