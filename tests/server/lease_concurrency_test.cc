// Leases through the Lease and KV services at once (called directly, as
// gRPC's thread pool calls them, so that TSan sees only instrumented code):
// workers grant leases (ids chosen by the service), put keys with them,
// renew them through the keep-alive path, revoke some and move the
// lessor's FakeClock, so that leases expire under them and the expirer
// (polling) revokes them through the same proposer; a reader lists leases
// and asks their TTLs.
// After: every granted id is distinct, each lease was revoked once (by a
// client or the expirer) or is still there, and the keys and the lessor
// agree -- every live key with a lease is attached to a live lease, and
// every attached key is live with that lease.
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "lease/clock.h"
#include "revkv/db.h"
#include "server/alarm_store.h"
#include "server/applier.h"
#include "server/kv_service.h"
#include "server/lease_expirer.h"
#include "server/lease_service.h"
#include "server/member.h"
#include "server/proposer.h"
#include "server/quota.h"
#include "tests/cmd/process.h"

namespace revkv::testing {
namespace {

using namespace std::chrono_literals;

constexpr int kWorkers = 3;
constexpr int kLeasesPerWorker = 40;
constexpr int kKeysPerLease = 3;

TEST(LeaseConcurrencyTest, GrantPutRenewRevokeExpire) {
  lease::FakeClock clock;
  Options o;
  o.lease.clock = &clock;
  o.lease.min_ttl = 1;
  o.lease.retry_interval = 1s;
  const std::string dir = NewTempDir("lease-conc");
  absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(dir + "/data", o);
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
  server::LeaseService leases(db->get(), &proposer, &quota, &member);
  // Polls often: a keep-alive of an expired lease waits for its revoke.
  server::LeaseExpirer expirer((*db)->lessor(), &proposer, 2ms);
  expirer.Start();

  std::atomic<bool> failed{false};
  std::atomic<int> workers_done{0}, client_revokes{0};
  std::vector<std::vector<int64_t>> granted(kWorkers);
  std::vector<std::thread> threads;
  for (int w = 0; w < kWorkers; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kLeasesPerWorker; ++i) {
        etcdserverpb::LeaseGrantRequest g;
        g.set_ttl(1 + i % 4);
        etcdserverpb::LeaseGrantResponse gr;
        if (!leases.LeaseGrant(nullptr, &g, &gr).ok()) {
          failed = true;
          continue;
        }
        granted[w].push_back(gr.id());
        for (int k = 0; k < kKeysPerLease; ++k) {
          etcdserverpb::PutRequest p;
          p.set_key("w" + std::to_string(w) + "/" + std::to_string(i) + "/" + std::to_string(k));
          p.set_lease(gr.id());
          etcdserverpb::PutResponse pr;
          // The lease may have expired and gone already: NOT_FOUND is fine.
          grpc::Status s = kv.Put(nullptr, &p, &pr);
          if (!s.ok() && s.error_code() != grpc::NOT_FOUND) failed = true;
        }
        etcdserverpb::LeaseKeepAliveRequest ka;
        ka.set_id(gr.id());
        etcdserverpb::LeaseKeepAliveResponse kr;
        if (!leases.KeepAliveOnce(ka, &kr).ok()) failed = true;
        if (kr.ttl() != 0 && kr.ttl() != gr.ttl()) failed = true;
        if (i % 3 == 0) {
          etcdserverpb::LeaseRevokeRequest r;
          r.set_id(gr.id());
          etcdserverpb::LeaseRevokeResponse rr;
          grpc::Status s = leases.LeaseRevoke(nullptr, &r, &rr);
          if (s.ok()) {
            client_revokes++;
          } else if (s.error_code() != grpc::NOT_FOUND) {
            failed = true;
          }
        }
        // Time moves as the workers go: leases expire under them.
        clock.Advance(300ms);
      }
      workers_done++;
    });
  }
  // Bounded by the workers finishing (each op is bounded) and a count.
  threads.emplace_back([&] {
    for (int n = 0; n < 100000 && workers_done.load() < kWorkers; ++n) {
      etcdserverpb::LeaseLeasesResponse lr;
      if (!leases.LeaseLeases(nullptr, nullptr, &lr).ok()) failed = true;
      for (const auto& l : lr.leases()) {
        etcdserverpb::LeaseTimeToLiveRequest t;
        t.set_id(l.id());
        t.set_keys(true);
        etcdserverpb::LeaseTimeToLiveResponse tr;
        if (!leases.LeaseTimeToLive(nullptr, &t, &tr).ok()) failed = true;
        // Revoked since the list (-1), or granted with a TTL of 1..4 s.
        if (tr.ttl() != -1 && (tr.grantedttl() < 1 || tr.grantedttl() > 4)) failed = true;
        if (tr.keys_size() > kKeysPerLease) failed = true;
      }
    }
  });
  for (std::thread& t : threads) t.join();
  expirer.Stop();
  EXPECT_FALSE(failed.load());

  std::set<int64_t> ids;
  for (const auto& v : granted) ids.insert(v.begin(), v.end());
  EXPECT_EQ(ids.size(), size_t(kWorkers * kLeasesPerWorker)) << "chosen ids are distinct";
  lease::Lessor* lessor = (*db)->lessor();
  const std::vector<lease::LeaseId> live = lessor->Leases();
  EXPECT_EQ(size_t(client_revokes.load()) + expirer.revoked() + live.size(), ids.size())
      << "each lease revoked once, or still there";
  EXPECT_GT(expirer.revoked(), 0u) << "no lease expired: the test missed its point";
  EXPECT_GT(client_revokes.load(), 0);

  // Keys and lessor agree.
  etcdserverpb::RangeRequest all;
  all.set_key(std::string(1, '\0'));
  all.set_range_end(std::string(1, '\0'));
  etcdserverpb::RangeResponse ar;
  ASSERT_TRUE(kv.Range(nullptr, &all, &ar).ok());
  std::map<std::string, int64_t> key_lease;
  for (const auto& k : ar.kvs()) {
    key_lease[k.key()] = k.lease();
    EXPECT_NE(k.lease(), 0) << k.key();
    EXPECT_EQ(lessor->GetLease(k.key()), k.lease()) << k.key();
  }
  size_t attached = 0;
  for (lease::LeaseId id : live) {
    absl::StatusOr<lease::LeaseStatus> st = lessor->TimeToLive(id, true);
    ASSERT_TRUE(st.ok()) << st.status();
    for (const std::string& k : st->keys) {
      EXPECT_EQ(key_lease[k], id) << k;
      attached++;
    }
  }
  EXPECT_EQ(attached, key_lease.size());
  EXPECT_EQ(applier.applied_index(), proposer.last_index());
  EXPECT_TRUE((*db)->Close().ok());
}

}  // namespace
}  // namespace revkv::testing
