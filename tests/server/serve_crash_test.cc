// SIGKILL of `revkv serve` under concurrent write load, again and again on
// one data directory: after each restart every acknowledged put is there
// at the revision it was acknowledged with (so no log entry was lost or
// applied twice), and a compare-and-swap counter holds at least every
// acknowledged increment and at most every attempted one.
//
// Rounds: REVKV_CRASH_ROUNDS (default 4); seed: REVKV_SEED (printed).
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "server/proto/rpc.grpc.pb.h"
#include "tests/cmd/process.h"
#include "tests/server/serve_process.h"

namespace revkv::testing {
namespace {

constexpr int kWriters = 4;
constexpr int kMaxOpsPerWriter = 3000;  // bounds each round if the kill is late

struct Acked {
  std::string value;
  int64_t revision;
};

std::unique_ptr<etcdserverpb::KV::Stub> Connect(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return etcdserverpb::KV::NewStub(
      grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args));
}

grpc::Status Put(etcdserverpb::KV::Stub* kv, const std::string& k, const std::string& v,
                 int64_t* rev) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  etcdserverpb::PutRequest req;
  req.set_key(k);
  req.set_value(v);
  etcdserverpb::PutResponse resp;
  grpc::Status s = kv->Put(&ctx, req, &resp);
  *rev = resp.header().revision();
  return s;
}

// Increments "counter" by compare-and-swap; true when acknowledged.
bool Increment(etcdserverpb::KV::Stub* kv, bool* attempted) {
  *attempted = false;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  etcdserverpb::RangeRequest get;
  get.set_key("counter");
  etcdserverpb::RangeResponse got;
  if (!kv->Range(&ctx, get, &got).ok()) return false;
  const int64_t cur = got.kvs().empty() ? 0 : std::stoll(got.kvs(0).value());
  const int64_t mod = got.kvs().empty() ? 0 : got.kvs(0).mod_revision();
  grpc::ClientContext tctx;
  tctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  etcdserverpb::TxnRequest txn;
  etcdserverpb::Compare* c = txn.add_compare();
  c->set_key("counter");
  c->set_target(etcdserverpb::Compare::MOD);
  c->set_result(etcdserverpb::Compare::EQUAL);
  c->set_mod_revision(mod);
  etcdserverpb::PutRequest* p = txn.add_success()->mutable_request_put();
  p->set_key("counter");
  p->set_value(std::to_string(cur + 1));
  etcdserverpb::TxnResponse resp;
  *attempted = true;
  return kv->Txn(&tctx, txn, &resp).ok() && resp.succeeded();
}

TEST(ServeCrashTest, EveryAcknowledgedWriteSurvivesSigkill) {
  const char* env_seed = std::getenv("REVKV_SEED");
  const uint64_t seed = env_seed ? std::strtoull(env_seed, nullptr, 10) : std::random_device{}();
  const char* env_rounds = std::getenv("REVKV_CRASH_ROUNDS");
  const int rounds = env_rounds ? std::atoi(env_rounds) : 4;
  std::printf("REVKV_SEED=%llu rounds=%d\n", static_cast<unsigned long long>(seed), rounds);
  std::mt19937_64 rng(seed);
  const std::string data_dir = NewTempDir("crash") + "/data";

  std::map<std::string, Acked> acked;  // every acknowledged put, all rounds
  int64_t increments_acked = 0, increments_tried = 0;
  for (int round = 0; round < rounds; ++round) {
    ServeProcess server;
    std::string error;
    ASSERT_TRUE(server.Start(&error, {}, data_dir)) << error;
    std::mutex mu;
    std::condition_variable cv;
    int total = 0;
    const int kill_after = 20 + int(rng() % 300);
    auto note_ack = [&] {
      std::lock_guard<std::mutex> l(mu);
      if (++total == kill_after) cv.notify_all();
    };
    std::vector<std::map<std::string, Acked>> mine(kWriters);
    std::atomic<int64_t> inc_acked{0}, inc_tried{0};
    std::vector<std::thread> clients;
    for (int t = 0; t < kWriters; ++t) {
      clients.emplace_back([&, t] {
        auto kv = Connect(server.address());
        for (int n = 0; n < kMaxOpsPerWriter; ++n) {
          if (t == 0) {  // the counter's client
            bool attempted;
            const bool ok = Increment(kv.get(), &attempted);
            inc_tried += attempted;
            if (!ok && !attempted) return;  // the server is gone
            if (ok) {
              inc_acked++;
              note_ack();
            }
            continue;
          }
          const std::string k = "r" + std::to_string(round) + "/c" + std::to_string(t) + "/" +
                                std::to_string(n);
          const std::string v = "v" + std::to_string(n);
          int64_t rev = 0;
          if (!Put(kv.get(), k, v, &rev).ok()) return;  // the server is gone
          mine[t][k] = {v, rev};
          note_ack();
        }
      });
    }
    {
      std::unique_lock<std::mutex> l(mu);
      cv.wait_for(l, std::chrono::seconds(60), [&] { return total >= kill_after; });
    }
    server.Stop(SIGKILL);
    for (auto& c : clients) c.join();
    for (auto& m : mine) acked.insert(m.begin(), m.end());
    increments_acked += inc_acked;
    increments_tried += inc_tried;

    // The command line refuses the directory while the log holds writes
    // the data file lacks (and only then: the restart replays exactly
    // those).
    ProcessResult cli = RunProcess({RevkvPath(), "--data-dir", data_dir, "get", "counter"}, "");

    // Restart on the same directory and check everything acknowledged.
    ServeProcess again;
    ASSERT_TRUE(again.Start(&error, {}, data_dir)) << error;
    const bool replayed = again.Log().find("\"replayed-entries\":\"0\"") == std::string::npos;
    EXPECT_EQ(cli.exit_code != 0, replayed) << cli.err;
    if (replayed) {
      EXPECT_NE(cli.LastErrLine().find("member/wal holds"), std::string::npos) << cli.err;
    }
    auto kv = Connect(again.address());
    for (const auto& [k, a] : acked) {
      grpc::ClientContext ctx;
      etcdserverpb::RangeRequest req;
      req.set_key(k);
      req.set_revision(a.revision);
      etcdserverpb::RangeResponse resp;
      ASSERT_TRUE(kv->Range(&ctx, req, &resp).ok()) << k;
      ASSERT_EQ(resp.kvs_size(), 1) << "round " << round << ": acknowledged " << k
                                    << " at revision " << a.revision << " is gone";
      EXPECT_EQ(resp.kvs(0).value(), a.value) << k;
      EXPECT_EQ(resp.kvs(0).mod_revision(), a.revision) << k;
    }
    grpc::ClientContext ctx;
    etcdserverpb::RangeRequest get;
    get.set_key("counter");
    etcdserverpb::RangeResponse got;
    ASSERT_TRUE(kv->Range(&ctx, get, &got).ok());
    const int64_t counter = got.kvs().empty() ? 0 : std::stoll(got.kvs(0).value());
    EXPECT_GE(counter, increments_acked) << "round " << round;
    EXPECT_LE(counter, increments_tried) << "round " << round;
    const std::string log = again.Log();
    const size_t at = log.find("\"replayed-entries\":\"");
    std::printf("round %d: %zu puts acknowledged so far, counter %lld (%lld acknowledged), %s\n",
                round, acked.size(), static_cast<long long>(counter),
                static_cast<long long>(increments_acked),
                at == std::string::npos ? "?" : log.substr(at, 28).c_str());
    kv.reset();
    EXPECT_EQ(again.Stop(SIGTERM), 0);
  }
}

}  // namespace
}  // namespace revkv::testing
