// The lessor and the store it hooks against a plain reference: grants, puts
// with and without leases, deletes, revokes, renews, the clock moving on
// (the expired leases reported, then revoked as a server would, or left to
// be reported again), lookups and reopens. The whole state is compared
// every few operations and after each reopen.
//
// REVKV_SEED picks the run (printed); REVKV_LEASE_MODEL_OPS its length.
#include <algorithm>
#include <cstdlib>
#include <map>
#include <random>
#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/lease/lease_test_util.h"

namespace revkv::lease {
namespace {

using std::chrono::nanoseconds;
using std::chrono::seconds;

int64_t EnvInt(const char* name, int64_t def) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoll(v, nullptr, 10) : def;
}

struct ModelLease {
  int64_t ttl = 0;
  Clock::TimePoint expiry;
  // When ExpiredLeases reports it next, once reported (etcd's retry).
  std::optional<Clock::TimePoint> again;
  Clock::TimePoint Due() const { return again.value_or(expiry); }
};

class Model {
 public:
  std::map<std::string, std::pair<std::string, int64_t>> kvs;
  std::map<LeaseId, ModelLease> leases;
  int64_t rev = 1;

  std::vector<std::string> KeysOf(LeaseId id) const {
    std::vector<std::string> out;
    for (const auto& [k, v] : kvs) {
      if (v.second == id) out.push_back(k);
    }
    return out;
  }
  std::vector<LeaseId> Expired(Clock::TimePoint now) const {
    std::vector<std::pair<Clock::TimePoint, LeaseId>> due;
    for (const auto& [id, l] : leases) {
      if (l.Due() <= now) due.emplace_back(l.Due(), id);
    }
    std::sort(due.begin(), due.end());
    std::vector<LeaseId> out;
    for (const auto& d : due) out.push_back(d.second);
    return out;
  }
  // Returns whether a revision was made.
  bool Revoke(LeaseId id) {
    bool any = false;
    for (auto it = kvs.begin(); it != kvs.end();) {
      if (it->second.second == id) {
        it = kvs.erase(it);
        any = true;
      } else {
        ++it;
      }
    }
    leases.erase(id);
    if (any) rev++;
    return any;
  }
};

class LeaseModelTest : public ::testing::Test {
 protected:
  void Check(const Model& m, const char* when) {
    SCOPED_TRACE(when);
    std::vector<std::tuple<std::string, std::string, int64_t>> want;
    for (const auto& [k, v] : m.kvs) want.emplace_back(k, v.first, v.second);
    ASSERT_EQ(t_.Dump(), want);
    ASSERT_EQ(t_.db().Rev(), m.rev);
    std::vector<LeaseId> ids;
    for (const auto& [id, l] : m.leases) ids.push_back(id);
    ASSERT_EQ(t_.lessor().Leases(), ids);
    const Clock::TimePoint now = t_.clock().Now();
    for (const auto& [id, l] : m.leases) {
      absl::StatusOr<LeaseStatus> st = t_.lessor().TimeToLive(id, true);
      ASSERT_TRUE(st.ok()) << st.status();
      ASSERT_EQ(st->granted_ttl, l.ttl) << "lease " << id;
      ASSERT_EQ(st->remaining, nanoseconds(l.expiry - now)) << "lease " << id;
      ASSERT_EQ(st->keys, m.KeysOf(id)) << "lease " << id;
    }
    for (const auto& [k, v] : m.kvs) ASSERT_EQ(t_.lessor().GetLease(k), v.second) << k;
  }

  LeaseDB t_;
};

TEST_F(LeaseModelTest, RandomOperationsMatchTheReference) {
  const uint64_t seed = uint64_t(EnvInt("REVKV_SEED", int64_t(std::random_device{}())));
  const int64_t ops = EnvInt("REVKV_LEASE_MODEL_OPS", 20000);
  std::printf("REVKV_SEED=%llu REVKV_LEASE_MODEL_OPS=%lld\n", (unsigned long long)seed,
              (long long)ops);
  SCOPED_TRACE(testing::Message() << "REVKV_SEED=" << seed);
  std::mt19937_64 rng(seed);
  auto pick = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  ASSERT_OK(t_.Open());
  Model m;
  auto key = [&] { return "k" + std::to_string(pick(0, 29)); };
  auto lease_id = [&] { return pick(1, 12); };
  int64_t revoked_expired = 0, renewed = 0, refused_puts = 0, reopens = 0;

  for (int64_t op = 0; op < ops; ++op) {
    const Clock::TimePoint now = t_.clock().Now();
    const int64_t what = pick(0, 99);
    if (what < 12) {  // grant
      const LeaseId id = lease_id();
      const int64_t ttl = pick(-1, 15);
      absl::StatusOr<LeaseStatus> g = t_.lessor().Grant(id, ttl);
      if (m.leases.contains(id)) {
        ASSERT_TRUE(IsLeaseExists(g.status())) << g.status();
      } else {
        ASSERT_TRUE(g.ok()) << g.status();
        const int64_t granted = std::max<int64_t>(ttl, kDefaultMinLeaseTTL);
        ASSERT_EQ(g->granted_ttl, granted);
        m.leases[id] = ModelLease{granted, now + seconds(granted), std::nullopt};
      }
    } else if (what < 45) {  // put, with a lease half of the time
      const std::string k = key();
      const std::string v = std::to_string(op);
      const LeaseId id = pick(0, 1) == 0 ? kNoLease : lease_id();
      absl::StatusOr<int64_t> p = t_.db().Put(k, v, id);
      if (id != kNoLease && !m.leases.contains(id)) {
        ASSERT_TRUE(IsLeaseNotFound(p.status())) << p.status();
        refused_puts++;
      } else {
        ASSERT_TRUE(p.ok()) << p.status();
        m.kvs[k] = {v, id};
        ASSERT_EQ(*p, ++m.rev);
      }
    } else if (what < 55) {  // delete
      const std::string k = key();
      ASSERT_OK_AND_ASSIGN(auto d, t_.db().DeleteRange(k, ""));
      ASSERT_EQ(d.first, m.kvs.erase(k));
      if (d.first > 0) m.rev++;
    } else if (what < 63) {  // revoke
      const LeaseId id = lease_id();
      absl::StatusOr<int64_t> r = t_.lessor().Revoke(id);
      if (!m.leases.contains(id)) {
        ASSERT_TRUE(IsLeaseNotFound(r.status())) << r.status();
      } else {
        ASSERT_TRUE(r.ok()) << r.status();
        m.Revoke(id);
        ASSERT_EQ(*r, m.rev);
      }
    } else if (what < 78) {  // renew (an expired lease's renew waits for its revoke: skipped)
      const LeaseId id = lease_id();
      auto it = m.leases.find(id);
      if (it != m.leases.end() && it->second.expiry <= now) continue;
      absl::StatusOr<int64_t> r = t_.lessor().Renew(id);
      if (it == m.leases.end()) {
        ASSERT_TRUE(IsLeaseNotFound(r.status())) << r.status();
      } else {
        ASSERT_TRUE(r.ok()) << r.status();
        ASSERT_EQ(*r, it->second.ttl);
        it->second.expiry = now + seconds(it->second.ttl);
        it->second.again.reset();
        renewed++;
      }
    } else if (what < 90) {  // the clock moves; the server revokes what expired
      t_.clock().Advance(std::chrono::milliseconds(pick(0, 6000)));
      const Clock::TimePoint later = t_.clock().Now();
      const std::vector<LeaseId> want = m.Expired(later);
      ASSERT_EQ(t_.lessor().ExpiredLeases(1000), want);
      const bool revoke = pick(0, 9) < 7;  // else: its proposal is "lost"; reported again
      for (LeaseId id : want) {
        if (revoke) {
          ASSERT_OK_AND_ASSIGN(int64_t r, t_.lessor().Revoke(id));
          m.Revoke(id);
          ASSERT_EQ(r, m.rev);
          revoked_expired++;
        } else {
          m.leases[id].again = later + seconds(3);
        }
      }
    } else if (what < 98) {  // lookup
      const LeaseId id = lease_id();
      const bool with_keys = pick(0, 1) == 0;
      absl::StatusOr<LeaseStatus> st = t_.lessor().TimeToLive(id, with_keys);
      auto it = m.leases.find(id);
      if (it == m.leases.end()) {
        ASSERT_TRUE(IsLeaseNotFound(st.status())) << st.status();
      } else {
        ASSERT_TRUE(st.ok()) << st.status();
        ASSERT_EQ(st->remaining, nanoseconds(it->second.expiry - now));
        ASSERT_EQ(st->keys, with_keys ? m.KeysOf(id) : std::vector<std::string>{});
      }
    } else {  // reopen: every lease gets a full TTL (Promote)
      ASSERT_OK(t_.Reopen());
      reopens++;
      const Clock::TimePoint at = t_.clock().Now();
      for (auto& [id, l] : m.leases) l = ModelLease{l.ttl, at + seconds(l.ttl), std::nullopt};
      ASSERT_NO_FATAL_FAILURE(Check(m, "after a reopen"));
    }
    if (op % 50 == 0) {
      ASSERT_NO_FATAL_FAILURE(Check(m, "periodic"));
    }
  }
  ASSERT_NO_FATAL_FAILURE(Check(m, "at the end"));
  std::printf("expired and revoked %lld, renewed %lld, refused puts %lld, reopens %lld\n",
              (long long)revoked_expired, (long long)renewed, (long long)refused_puts,
              (long long)reopens);
  // The run exercised what it claims to.
  EXPECT_GT(revoked_expired, 0);
  EXPECT_GT(renewed, 0);
  EXPECT_GT(refused_puts, 0);
}

}  // namespace
}  // namespace revkv::lease
