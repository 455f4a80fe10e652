// Several clients writing and reading through the KV service at once
// (called directly, as gRPC's thread pool calls it, so that TSan sees only
// instrumented code): each writer puts its own keys and increments a shared
// counter by compare-and-swap txns; readers check that revisions never go
// back and that a counter value once read never shrinks. At the end the
// counter equals the number of swaps that succeeded, every write is there,
// and every proposal got its own index.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "revkv/db.h"
#include "server/alarm_store.h"
#include "server/applier.h"
#include "server/kv_service.h"
#include "server/member.h"
#include "server/proposer.h"
#include "server/quota.h"
#include "tests/cmd/process.h"

namespace revkv::testing {
namespace {

constexpr int kWriters = 4;
constexpr int kReaders = 2;
constexpr int kOpsPerWriter = 60;

TEST(KvConcurrencyTest, WritersAndReaders) {
  const std::string dir = NewTempDir("conc");
  absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(dir + "/data", {});
  ASSERT_TRUE(db.ok()) << db.status();
  server::Member member;
  member.cluster_id = 1;
  member.member_id = 2;
  absl::StatusOr<std::unique_ptr<server::AlarmStore>> alarms =
      server::AlarmStore::Open((*db)->backend());
  ASSERT_TRUE(alarms.ok()) << alarms.status();
  server::Applier applier(db->get(), alarms->get());
  absl::StatusOr<std::unique_ptr<server::LocalProposer>> opened =
      server::LocalProposer::Open(db->get(), &applier, dir + "/wal", 1536 * 1024);
  ASSERT_TRUE(opened.ok()) << opened.status();
  server::LocalProposer& proposer = **opened;
  // etcd's default quota (2 GiB): every write passes the size check.
  server::QuotaGuard quota((*db)->backend(), &proposer, alarms->get(), member.member_id, 0);
  server::KVService kv(db->get(), &proposer, &quota, &member, 128);

  std::atomic<int> swaps{0}, proposals{0};
  std::atomic<int> writers_done{0};
  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kOpsPerWriter; ++i) {
        etcdserverpb::PutRequest put;
        put.set_key("w" + std::to_string(w) + "/" + std::to_string(i));
        put.set_value(std::to_string(i));
        etcdserverpb::PutResponse pr;
        if (!kv.Put(nullptr, &put, &pr).ok()) failed = true;
        proposals++;
        // Read the counter, then swap it for one more if nobody changed it.
        etcdserverpb::RangeRequest get;
        get.set_key("counter");
        etcdserverpb::RangeResponse gr;
        if (!kv.Range(nullptr, &get, &gr).ok()) failed = true;
        const int64_t mod = gr.kvs_size() == 0 ? 0 : gr.kvs(0).mod_revision();
        const int64_t value = gr.kvs_size() == 0 ? 0 : std::stoll(gr.kvs(0).value());
        etcdserverpb::TxnRequest txn;
        etcdserverpb::Compare* c = txn.add_compare();
        c->set_key("counter");
        c->set_target(etcdserverpb::Compare::MOD);
        c->set_result(etcdserverpb::Compare::EQUAL);
        c->set_mod_revision(mod);
        auto* p = txn.add_success()->mutable_request_put();
        p->set_key("counter");
        p->set_value(std::to_string(value + 1));
        txn.add_failure()->mutable_request_range()->set_key("counter");
        etcdserverpb::TxnResponse tr;
        if (!kv.Txn(nullptr, &txn, &tr).ok()) failed = true;
        proposals++;
        if (tr.succeeded()) swaps++;
      }
      writers_done++;
    });
  }
  for (int r = 0; r < kReaders; ++r) {
    threads.emplace_back([&] {
      int64_t last_rev = 0, last_counter = 0;
      // Bounded by the writers finishing (each op is bounded) and a count.
      for (int n = 0; n < 100000 && writers_done.load() < kWriters; ++n) {
        etcdserverpb::RangeRequest get;
        get.set_key("counter");
        etcdserverpb::RangeResponse gr;
        if (!kv.Range(nullptr, &get, &gr).ok()) failed = true;
        if (gr.header().revision() < last_rev) failed = true;
        last_rev = gr.header().revision();
        const int64_t counter = gr.kvs_size() == 0 ? 0 : std::stoll(gr.kvs(0).value());
        if (counter < last_counter) failed = true;
        last_counter = counter;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_FALSE(failed.load());

  etcdserverpb::RangeRequest get;
  get.set_key("counter");
  etcdserverpb::RangeResponse gr;
  ASSERT_TRUE(kv.Range(nullptr, &get, &gr).ok());
  ASSERT_EQ(gr.kvs_size(), 1);
  EXPECT_EQ(std::stoll(gr.kvs(0).value()), swaps.load());
  // A swap fails only when another succeeded since its read, and one success
  // fails at most the other writers' pending swaps.
  EXPECT_GE(swaps.load() * kWriters, kWriters * kOpsPerWriter);
  get.set_key("w");
  get.set_range_end("x");
  get.set_count_only(true);
  ASSERT_TRUE(kv.Range(nullptr, &get, &gr).ok());
  EXPECT_EQ(gr.count(), kWriters * kOpsPerWriter);
  EXPECT_EQ(proposer.last_index(), uint64_t(proposals.load()));
  EXPECT_EQ(applier.applied_index(), uint64_t(proposals.load()));
  // One revision per put and per successful swap; failed swaps write nothing.
  EXPECT_EQ(gr.header().revision(), 1 + kWriters * kOpsPerWriter + swaps.load());
  EXPECT_TRUE((*db)->Close().ok());
}

}  // namespace
}  // namespace revkv::testing
