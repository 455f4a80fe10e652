// Granters, revokers, renewers, writers and an expirer (the server's role:
// move the clock, revoke what ExpiredLeases reports) at once. Afterwards,
// and again after a reopen, the lessor and the store agree: every live key
// naming a lease is attached to it, every attached key is live and names
// its lease, and no live key names a lease that is gone (a put is checked
// and attached inside its write transaction; a revoke deletes inside its
// own). Run under TSan in CI (tag concurrency): the lock order write_mu_ ->
// BatchTx lock -> Lessor::mu_ is checked there.
//
// REVKV_SEED picks the run (printed); REVKV_LEASE_CONCURRENT_OPS its length.
#include <atomic>
#include <cstdlib>
#include <map>
#include <random>
#include <thread>

#include "gtest/gtest.h"
#include "tests/lease/lease_test_util.h"

namespace revkv::lease {
namespace {

int64_t EnvInt(const char* name, int64_t def) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoll(v, nullptr, 10) : def;
}

void CheckAgreement(LeaseDB& t) {
  std::map<LeaseId, std::vector<std::string>> want;
  const std::vector<LeaseId> ids = t.lessor().Leases();
  for (const auto& [k, v, lease] : t.Dump()) {
    if (lease == kNoLease) {
      EXPECT_EQ(t.lessor().GetLease(k), kNoLease) << k;
      continue;
    }
    EXPECT_TRUE(std::binary_search(ids.begin(), ids.end(), lease))
        << k << " names lease " << lease << ", which is gone";
    EXPECT_EQ(t.lessor().GetLease(k), lease) << k;
    want[lease].push_back(k);
  }
  for (LeaseId id : ids) {
    absl::StatusOr<LeaseStatus> st = t.lessor().TimeToLive(id, true);
    ASSERT_TRUE(st.ok()) << st.status();
    EXPECT_EQ(st->keys, want[id]) << "lease " << id;
  }
}

TEST(LeaseConcurrencyTest, LessorAndStoreAgreeUnderConcurrentGrantsRevokesRenewsAndWrites) {
  const uint64_t seed = uint64_t(EnvInt("REVKV_SEED", int64_t(std::random_device{}())));
  const int64_t ops = EnvInt("REVKV_LEASE_CONCURRENT_OPS", 5000);
  std::printf("REVKV_SEED=%llu REVKV_LEASE_CONCURRENT_OPS=%lld\n", (unsigned long long)seed,
              (long long)ops);
  LeaseDB t;
  ASSERT_OK(t.Open());
  constexpr int kLeases = 40, kKeys = 60;
  std::atomic<int64_t> puts_ok{0}, puts_refused{0}, revoked{0}, renewed{0}, expired_revoked{0};
  std::atomic<bool> unexpected{false};
  auto check = [&](bool ok, const absl::Status& s, const char* what) {
    if (!ok) {
      unexpected = true;
      ADD_FAILURE() << what << ": " << s;
    }
  };

  auto worker = [&](int n, auto body) {
    return std::thread([&, n, body] {
      std::mt19937_64 rng(seed * 31 + uint64_t(n));
      for (int64_t i = 0; i < ops && !unexpected; ++i) body(rng);
    });
  };
  auto pick = [](std::mt19937_64& rng, int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  std::vector<std::thread> threads;
  // Lease workers mix grants, revokes and renews, so that all three run
  // through the whole test rather than one kind finishing first.
  for (int n = 0; n < 3; ++n) {
    threads.push_back(worker(n, [&](std::mt19937_64& rng) {
      const LeaseId id = pick(rng, 1, kLeases);
      const int64_t choice = pick(rng, 0, 9);
      if (choice < 4) {
        absl::StatusOr<LeaseStatus> r = t.lessor().Grant(id, pick(rng, 1, 6));
        check(r.ok() || IsLeaseExists(r.status()), r.status(), "grant");
      } else if (choice < 6) {
        absl::StatusOr<int64_t> r = t.lessor().Revoke(id);
        check(r.ok() || IsLeaseNotFound(r.status()), r.status(), "revoke");
        if (r.ok()) revoked++;
      } else {
        // Waits while the lease is expired, until the expirer revokes it.
        absl::StatusOr<int64_t> r = t.lessor().Renew(id);
        check(r.ok() || IsLeaseNotFound(r.status()), r.status(), "renew");
        if (r.ok()) renewed++;
      }
    }));
  }
  for (int w = 3; w < 5; ++w) {
    threads.push_back(worker(w, [&](std::mt19937_64& rng) {
      const std::string k = "k" + std::to_string(pick(rng, 0, kKeys - 1));
      const int64_t choice = pick(rng, 0, 9);
      if (choice < 6) {
        const LeaseId id = pick(rng, 0, 2) == 0 ? kNoLease : pick(rng, 1, kLeases);
        absl::StatusOr<int64_t> r = t.db().Put(k, "v", id);
        check(r.ok() || IsLeaseNotFound(r.status()), r.status(), "put");
        (r.ok() ? puts_ok : puts_refused)++;
      } else if (choice < 8) {
        auto r = t.db().DeleteRange(k, "");
        check(r.ok(), r.status(), "delete");
      } else {
        // A transaction of several puts: each checked and attached inside it.
        absl::StatusOr<std::unique_ptr<mvcc::TxnWrite>> w = t.db().Write();
        check(w.ok(), w.status(), "write");
        if (!w.ok()) return;
        for (int j = 0; j < 3; ++j) {
          absl::StatusOr<int64_t> r = (*w)->Put("t" + std::to_string(pick(rng, 0, 9)), "v",
                                                pick(rng, 1, kLeases));
          check(r.ok() || IsLeaseNotFound(r.status()), r.status(), "txn put");
        }
        absl::Status e = (*w)->End();
        check(e.ok(), e, "end");
      }
    }));
  }
  std::atomic<int> busy{int(threads.size())};
  for (auto& th : threads) {
    th = std::thread([&busy, inner = std::move(th)]() mutable {
      inner.join();
      busy--;
    });
  }
  // The expirer runs until every other thread is done, so that a renewer
  // waiting on an expired lease is always released by its revoke.
  std::thread expirer([&] {
    while (busy.load() > 0 && !unexpected) {
      t.clock().Advance(std::chrono::milliseconds(500));
      for (LeaseId id : t.lessor().ExpiredLeases(100)) {
        absl::StatusOr<int64_t> r = t.lessor().Revoke(id);
        check(r.ok() || IsLeaseNotFound(r.status()), r.status(), "expired revoke");
        if (r.ok()) expired_revoked++;
      }
      std::this_thread::yield();
    }
  });
  for (auto& th : threads) th.join();
  expirer.join();
  std::printf("puts %lld ok, %lld refused; revoked %lld, expired and revoked %lld; renewed %lld\n",
              (long long)puts_ok, (long long)puts_refused, (long long)revoked,
              (long long)expired_revoked, (long long)renewed);
  ASSERT_FALSE(unexpected);
  ASSERT_NO_FATAL_FAILURE(CheckAgreement(t));
  EXPECT_GT(puts_ok.load(), 0);
  EXPECT_GT(puts_refused.load(), 0);
  EXPECT_GT(revoked.load() + expired_revoked.load(), 0);
  ASSERT_OK(t.Reopen());
  ASSERT_NO_FATAL_FAILURE(CheckAgreement(t));
}

}  // namespace
}  // namespace revkv::lease
