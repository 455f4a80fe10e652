// etcd 3.4's lessor behaviours (lease/lessor_test.go) as specifications of
// lease::Lessor through revkv::DB: grant, revoke, renew, lookup, list; keys
// attached by puts and detached by deletes; expiry on a fake clock; restore
// after reopen; damaged records.
#include <chrono>
#include <thread>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "lease/lease_record.h"
#include "tests/lease/lease_test_util.h"

namespace revkv::lease {
namespace {

using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

class LessorTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(t_.Open().ok()); }
  LeaseDB t_;
};

TEST_F(LessorTest, GrantTable) {
  struct Case {
    LeaseId id;
    int64_t ttl;
    absl::StatusCode code;
    bool (*is)(const absl::Status&);
    int64_t granted;
  } cases[] = {
      {1, 10, absl::StatusCode::kOk, nullptr, 10},
      {2, 1, absl::StatusCode::kOk, nullptr, kDefaultMinLeaseTTL},  // raised to the minimum
      {3, 0, absl::StatusCode::kOk, nullptr, kDefaultMinLeaseTTL},
      {4, -5, absl::StatusCode::kOk, nullptr, kDefaultMinLeaseTTL},
      {5, kMaxLeaseTTL, absl::StatusCode::kOk, nullptr, kMaxLeaseTTL},
      {6, kMaxLeaseTTL + 1, absl::StatusCode::kOutOfRange, IsLeaseTTLTooLarge, 0},
      {0, 10, absl::StatusCode::kNotFound, IsLeaseNotFound, 0},  // etcd: NoLease
      {1, 20, absl::StatusCode::kFailedPrecondition, IsLeaseExists, 0},
      {-7, 10, absl::StatusCode::kOk, nullptr, 10},  // any non-zero int64
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(testing::Message() << "Grant(" << c.id << ", " << c.ttl << ")");
    absl::StatusOr<LeaseStatus> g = t_.lessor().Grant(c.id, c.ttl);
    ASSERT_EQ(g.status().code(), c.code) << g.status();
    if (c.is != nullptr) {
      EXPECT_TRUE(c.is(g.status())) << g.status();
      continue;
    }
    EXPECT_EQ(g->granted_ttl, c.granted);
    EXPECT_EQ(g->remaining, seconds(c.granted));
    ASSERT_OK_AND_ASSIGN(LeaseStatus st, t_.lessor().TimeToLive(c.id, true));
    EXPECT_EQ(st.granted_ttl, c.granted);
    EXPECT_EQ(st.RemainingSeconds(), c.granted);
  }
  EXPECT_THAT(t_.lessor().Leases(), ElementsAre(-7, 1, 2, 3, 4, 5));
  // A grant is no write: the revision stays.
  EXPECT_EQ(t_.db().Rev(), 1);
}

TEST_F(LessorTest, ErrorsCarryEtcdsWireMessages) {
  EXPECT_EQ(t_.lessor().Revoke(9).status().message(), "etcdserver: requested lease not found");
  ASSERT_OK(t_.lessor().Grant(9, 5));
  EXPECT_EQ(t_.lessor().Grant(9, 5).status().message(), "etcdserver: lease already exists");
  EXPECT_EQ(t_.lessor().Grant(8, kMaxLeaseTTL + 1).status().message(),
            "etcdserver: too large lease TTL");
}

TEST_F(LessorTest, APutNamingAMissingLeaseIsRefusedAndWritesNothing) {
  ASSERT_OK(t_.db().Put("a", "1"));
  const int64_t rev = t_.db().Rev();
  absl::StatusOr<int64_t> p = t_.db().Put("k", "v", 42);
  EXPECT_TRUE(IsLeaseNotFound(p.status())) << p.status();
  EXPECT_EQ(t_.db().Rev(), rev);
  EXPECT_THAT(t_.Dump(), ElementsAre(std::make_tuple("a", "1", 0)));
  // Inside a transaction the refused put leaves the others be.
  ASSERT_OK(t_.lessor().Grant(7, 10));
  {
    ASSERT_OK_AND_ASSIGN(auto w, t_.db().Write());
    EXPECT_TRUE(IsLeaseNotFound(w->Put("x", "1", 42).status()));
    ASSERT_OK(w->Put("y", "2", 7));
    ASSERT_OK(w->End());
  }
  EXPECT_EQ(t_.db().Rev(), rev + 1);
  EXPECT_THAT(t_.Dump(), ElementsAre(std::make_tuple("a", "1", 0), std::make_tuple("y", "2", 7)));
  EXPECT_EQ(t_.lessor().GetLease("y"), 7);
}

TEST_F(LessorTest, RevokeDeletesEveryAttachedKeyInOneRevisionAndAWatcherSeesIt) {
  ASSERT_OK(t_.lessor().Grant(1, 10));
  ASSERT_OK(t_.lessor().Grant(2, 10));
  ASSERT_OK(t_.db().Put("c", "1", 1));
  ASSERT_OK(t_.db().Put("a", "1", 1));
  ASSERT_OK(t_.db().Put("b", "1", 2));
  ASSERT_OK(t_.db().Put("d", "1"));
  ASSERT_OK(t_.db().Put("e", "1", 1));
  const int64_t before = t_.db().Rev();
  auto stream = t_.db().NewWatchStream();
  ASSERT_OK(stream->Watch("a", "z", {}).status());

  ASSERT_OK_AND_ASSIGN(int64_t rev, t_.lessor().Revoke(1));
  EXPECT_EQ(rev, before + 1);
  EXPECT_EQ(t_.db().Rev(), before + 1);
  EXPECT_THAT(t_.Dump(), ElementsAre(std::make_tuple("b", "1", 2), std::make_tuple("d", "1", 0)));
  EXPECT_THAT(t_.lessor().Leases(), ElementsAre(2));
  EXPECT_TRUE(IsLeaseNotFound(t_.lessor().TimeToLive(1, false).status()));
  EXPECT_TRUE(IsLeaseNotFound(t_.lessor().Revoke(1).status()));
  EXPECT_EQ(t_.lessor().GetLease("a"), kNoLease);

  std::vector<std::pair<std::string, int64_t>> deletes;
  for (const mvcc::Event& e : NextEvents(*stream, 3)) {
    EXPECT_EQ(e.type, mvcc::Event::Type::kDelete);
    deletes.emplace_back(e.kv.key, e.kv.mod_revision);
  }
  EXPECT_THAT(deletes, ElementsAre(std::make_pair("a", rev), std::make_pair("c", rev),
                                   std::make_pair("e", rev)));
  // A put with the revoked lease is refused from now on.
  EXPECT_TRUE(IsLeaseNotFound(t_.db().Put("a", "2", 1).status()));
}

TEST_F(LessorTest, RevokeOfALeaseWithoutKeysMakesNoRevision) {
  ASSERT_OK(t_.lessor().Grant(1, 10));
  const int64_t before = t_.db().Rev();
  ASSERT_OK_AND_ASSIGN(int64_t rev, t_.lessor().Revoke(1));
  EXPECT_EQ(rev, before);
  EXPECT_THAT(t_.lessor().Leases(), IsEmpty());
}

TEST_F(LessorTest, APutMovesAKeyToItsNewLeaseAndADeleteDetachesIt) {
  ASSERT_OK(t_.lessor().Grant(1, 10));
  ASSERT_OK(t_.lessor().Grant(2, 10));
  auto keys = [&](LeaseId id) {
    absl::StatusOr<LeaseStatus> st = t_.lessor().TimeToLive(id, true);
    EXPECT_TRUE(st.ok()) << st.status();
    return st.ok() ? st->keys : std::vector<std::string>{"<error>"};
  };
  ASSERT_OK(t_.db().Put("k", "1", 1));
  ASSERT_OK(t_.db().Put("j", "1", 1));
  EXPECT_THAT(keys(1), ElementsAre("j", "k"));
  ASSERT_OK(t_.db().Put("k", "2", 2));  // etcd: detach from the old lease, attach to the new
  EXPECT_THAT(keys(1), ElementsAre("j"));
  EXPECT_THAT(keys(2), ElementsAre("k"));
  EXPECT_EQ(t_.lessor().GetLease("k"), 2);
  ASSERT_OK(t_.db().Put("j", "2"));  // no lease: detached
  EXPECT_THAT(keys(1), IsEmpty());
  ASSERT_OK(t_.db().DeleteRange("k", ""));
  EXPECT_THAT(keys(2), IsEmpty());
  EXPECT_EQ(t_.lessor().GetLease("k"), kNoLease);
  // Revoking either deletes nothing now.
  const int64_t before = t_.db().Rev();
  ASSERT_OK(t_.lessor().Revoke(1));
  ASSERT_OK(t_.lessor().Revoke(2));
  EXPECT_EQ(t_.db().Rev(), before);
  EXPECT_THAT(t_.Dump(), ElementsAre(std::make_tuple("j", "2", 0)));
}

TEST_F(LessorTest, ExpiryIsReportedOnTheClockAndRenewPushesItBack) {
  ASSERT_OK(t_.lessor().Grant(1, 10));
  t_.clock().Advance(seconds(9));
  EXPECT_THAT(t_.lessor().ExpiredLeases(100), IsEmpty());
  ASSERT_OK_AND_ASSIGN(LeaseStatus st, t_.lessor().TimeToLive(1, false));
  EXPECT_EQ(st.RemainingSeconds(), 1);
  ASSERT_OK_AND_ASSIGN(int64_t ttl, t_.lessor().Renew(1));
  EXPECT_EQ(ttl, 10);
  t_.clock().Advance(seconds(9));
  EXPECT_THAT(t_.lessor().ExpiredLeases(100), IsEmpty());
  t_.clock().Advance(seconds(1));  // exactly at expiry
  EXPECT_THAT(t_.lessor().ExpiredLeases(100), ElementsAre(1));
  // Reported once; again only after the retry interval if still there.
  EXPECT_THAT(t_.lessor().ExpiredLeases(100), IsEmpty());
  t_.clock().Advance(seconds(2));
  EXPECT_THAT(t_.lessor().ExpiredLeases(100), IsEmpty());
  ASSERT_OK_AND_ASSIGN(st, t_.lessor().TimeToLive(1, false));
  EXPECT_EQ(st.RemainingSeconds(), -2);
  t_.clock().Advance(seconds(1));
  EXPECT_THAT(t_.lessor().ExpiredLeases(100), ElementsAre(1));
  // The lessor never revokes by itself.
  EXPECT_THAT(t_.lessor().Leases(), ElementsAre(1));
  ASSERT_OK(t_.lessor().Revoke(1));
  t_.clock().Advance(seconds(10));
  EXPECT_THAT(t_.lessor().ExpiredLeases(100), IsEmpty());
}

TEST_F(LessorTest, ExpiredLeasesComeEarliestFirstAndAtMostLimit) {
  ASSERT_OK(t_.lessor().Grant(10, 50));
  ASSERT_OK(t_.lessor().Grant(20, 30));
  ASSERT_OK(t_.lessor().Grant(30, 40));
  ASSERT_OK(t_.lessor().Grant(40, 1000));
  t_.clock().Advance(seconds(60));
  EXPECT_THAT(t_.lessor().ExpiredLeases(2), ElementsAre(20, 30));
  EXPECT_THAT(t_.lessor().ExpiredLeases(2), ElementsAre(10));
  EXPECT_THAT(t_.lessor().ExpiredLeases(2), IsEmpty());
}

TEST_F(LessorTest, RenewOfAnExpiredLeaseWaitsForItsRevokeThenFailsNotFound) {
  ASSERT_OK(t_.lessor().Grant(1, 5));
  ASSERT_OK(t_.db().Put("k", "v", 1));
  t_.clock().Advance(seconds(6));
  absl::Status renewed;
  std::thread renewer([&] { renewed = t_.lessor().Renew(1).status(); });
  // Revoke as the server's applier would, whenever the renewer reached
  // its wait: the answer is the same either way.
  ASSERT_EQ(t_.lessor().ExpiredLeases(10), std::vector<LeaseId>{1});
  ASSERT_OK(t_.lessor().Revoke(1));
  renewer.join();
  EXPECT_TRUE(IsLeaseNotFound(renewed)) << renewed;
  EXPECT_THAT(t_.Dump(), IsEmpty());
}

TEST_F(LessorTest, ARenewWaitingOnAnExpiredLeaseFailsNotPrimaryOnDemoteOrClose) {
  ASSERT_OK(t_.lessor().Grant(1, 5));
  ASSERT_OK(t_.lessor().Grant(2, 5));
  t_.clock().Advance(seconds(6));
  absl::Status a, b;
  std::thread renewer_a([&] { a = t_.lessor().Renew(1).status(); });
  t_.lessor().Demote();
  renewer_a.join();
  EXPECT_TRUE(IsNotPrimary(a)) << a;
  EXPECT_TRUE(IsNotPrimary(t_.lessor().Renew(2).status()));
  // Not primary: nothing expires, nothing is reported.
  ASSERT_OK_AND_ASSIGN(LeaseStatus st, t_.lessor().TimeToLive(1, false));
  EXPECT_EQ(st.remaining, std::chrono::nanoseconds::max());
  EXPECT_THAT(t_.lessor().ExpiredLeases(10), IsEmpty());
  // Promote gives every lease a full TTL again.
  t_.lessor().Promote(seconds(0));
  ASSERT_OK_AND_ASSIGN(st, t_.lessor().TimeToLive(2, false));
  EXPECT_EQ(st.remaining, seconds(5));
  t_.clock().Advance(seconds(6));
  Lessor* lessor = &t_.lessor();
  std::thread renewer_b([&] { b = lessor->Renew(2).status(); });
  ASSERT_OK(t_.db().Close());  // closes the lessor first; destroying it waits for the join
  renewer_b.join();
  EXPECT_TRUE(IsNotPrimary(b)) << b;
}

TEST_F(LessorTest, ReopenRestoresLeasesWithFullTTLsAndReattachesKeys) {
  ASSERT_OK(t_.lessor().Grant(1, 10));
  ASSERT_OK(t_.lessor().Grant(2, 100));
  ASSERT_OK(t_.lessor().Grant(3, 20));
  ASSERT_OK(t_.db().Put("a", "1", 1));
  ASSERT_OK(t_.db().Put("b", "1", 2));
  ASSERT_OK(t_.db().Put("c", "1", 2));
  ASSERT_OK(t_.db().Put("d", "1", 3));
  ASSERT_OK(t_.db().Put("c", "2", 1));  // moved to 1
  ASSERT_OK(t_.db().DeleteRange("d", ""));
  ASSERT_OK(t_.lessor().Revoke(3));
  t_.clock().Advance(seconds(8));
  ASSERT_OK(t_.Reopen());
  t_.clock().Advance(seconds(5));  // 13 s after grant, 5 s after the reopen
  EXPECT_THAT(t_.lessor().Leases(), ElementsAre(1, 2));
  ASSERT_OK_AND_ASSIGN(LeaseStatus one, t_.lessor().TimeToLive(1, true));
  EXPECT_EQ(one.granted_ttl, 10);
  EXPECT_EQ(one.remaining, seconds(5));  // refreshed at the reopen: etcd's Promote
  EXPECT_THAT(one.keys, ElementsAre("a", "c"));
  ASSERT_OK_AND_ASSIGN(LeaseStatus two, t_.lessor().TimeToLive(2, true));
  EXPECT_THAT(two.keys, ElementsAre("b"));
  EXPECT_THAT(t_.lessor().ExpiredLeases(10), IsEmpty());
  EXPECT_THAT(t_.db().open_notes(), IsEmpty());
  // The restored attachments drive revoke and a re-put as before.
  ASSERT_OK(t_.db().Put("b", "2", 1));
  ASSERT_OK(t_.lessor().Revoke(1));
  EXPECT_THAT(t_.Dump(), IsEmpty());
  ASSERT_OK(t_.Reopen());
  EXPECT_THAT(t_.lessor().Leases(), ElementsAre(2));
  ASSERT_OK_AND_ASSIGN(two, t_.lessor().TimeToLive(2, true));
  EXPECT_THAT(two.keys, IsEmpty());
}

TEST_F(LessorTest, ReopenReattachesKeysPastOneRestorePage) {
  // Restore reads the keys a page at a time: more than one page of keys,
  // two of three attached, the page boundaries (keys 999 and 1999) falling
  // on both kinds.
  ASSERT_OK(t_.lessor().Grant(1, 10));
  std::vector<std::string> want;
  {
    ASSERT_OK_AND_ASSIGN(auto w, t_.db().Write());
    for (int i = 0; i < 2501; ++i) {
      char k[16];
      std::snprintf(k, sizeof k, "k%05d", i);
      ASSERT_OK(w->Put(k, "v", i % 3 != 0 ? 1 : 0));
      if (i % 3 != 0) want.push_back(k);
    }
    ASSERT_OK(w->End());
  }
  ASSERT_OK(t_.Reopen());
  ASSERT_OK_AND_ASSIGN(LeaseStatus st, t_.lessor().TimeToLive(1, true));
  EXPECT_EQ(st.keys, want);
  ASSERT_OK(t_.lessor().Revoke(1));
  EXPECT_EQ(t_.Dump().size(), 834u);
}

TEST_F(LessorTest, ARestoredTTLBelowTheMinimumIsRaised) {
  t_.Close();
  t_.options().lease.min_ttl = 1;
  ASSERT_OK(t_.Open());
  ASSERT_OK_AND_ASSIGN(LeaseStatus g, t_.lessor().Grant(1, 1));
  EXPECT_EQ(g.granted_ttl, 1);
  t_.Close();
  t_.options().lease.min_ttl = 3;
  ASSERT_OK(t_.Open());
  ASSERT_OK_AND_ASSIGN(LeaseStatus st, t_.lessor().TimeToLive(1, false));
  EXPECT_EQ(st.granted_ttl, 3);
  EXPECT_EQ(st.remaining, seconds(3));
}

TEST_F(LessorTest, AKeyWhoseLeaseIsGoneStaysUnattachedAfterReopen) {
  ASSERT_OK(t_.lessor().Grant(1, 10));
  // A record naming a lease that does not exist (as a file written by a
  // lessor-less writer could hold): written with the hook removed.
  t_.db().store()->SetLeaseHook(nullptr);
  ASSERT_OK(t_.db().Put("orphan", "v", 99));
  t_.db().store()->SetLeaseHook(t_.db().lessor());
  ASSERT_OK(t_.db().Put("k", "v", 1));
  ASSERT_OK(t_.Reopen());
  EXPECT_THAT(t_.Dump(), ElementsAre(std::make_tuple("k", "v", 1), std::make_tuple("orphan", "v", 99)));
  EXPECT_EQ(t_.lessor().GetLease("orphan"), kNoLease);
  EXPECT_EQ(t_.lessor().GetLease("k"), 1);
  ASSERT_EQ(t_.db().open_notes().size(), 1u);
  EXPECT_THAT(t_.db().open_notes()[0], ::testing::HasSubstr("1 key(s)"));
}

TEST_F(LessorTest, AReadOnlyDBRestoresLeasesButTracksNoExpiryAndGrantsNothing) {
  ASSERT_OK(t_.lessor().Grant(1, 10));
  ASSERT_OK(t_.db().Put("k", "v", 1));
  t_.Close();
  t_.options().read_only = true;
  ASSERT_OK(t_.Open());
  ASSERT_OK_AND_ASSIGN(LeaseStatus st, t_.lessor().TimeToLive(1, true));
  EXPECT_EQ(st.remaining, std::chrono::nanoseconds::max());
  EXPECT_THAT(st.keys, ElementsAre("k"));
  t_.clock().Advance(seconds(100));
  EXPECT_THAT(t_.lessor().ExpiredLeases(10), IsEmpty());
  EXPECT_FALSE(t_.lessor().Grant(2, 10).ok());
  EXPECT_THAT(t_.lessor().Leases(), ElementsAre(1));
}

TEST(LeaseRecordTest, EncodesEtcdsLayout) {
  // leasepb.Lease{ID: 1, TTL: 10}: field 1 and 2 varints; zero fields absent.
  EXPECT_EQ(EncodeLeaseRecord({1, 10, 0}), std::string("\x08\x01\x10\x0a", 4));
  EXPECT_EQ(EncodeLeaseKey(0x0102030405060708), "\x01\x02\x03\x04\x05\x06\x07\x08");
  LeaseRecord r;
  // A negative id (any int64 is a lease id) round-trips through its
  // ten-byte varint; an unknown field (a later etcd's) is skipped.
  std::string v = EncodeLeaseRecord({-5, 7, 3}) + std::string("\x22\x02hi", 4);
  ASSERT_OK(DecodeLeaseRecord(EncodeLeaseKey(-5), v, &r));
  EXPECT_EQ(r.id, -5);
  EXPECT_EQ(r.ttl, 7);
  EXPECT_EQ(r.remaining_ttl, 3);
}

TEST(LessorDamageTest, ADamagedLeaseRecordFailsOpenWithDataLossNamingBucketAndKey) {
  struct Case {
    const char* name;
    std::string key, value;
  } cases[] = {
      {"short key", "\x01\x02", EncodeLeaseRecord({1, 10, 0})},
      {"id differs from key", EncodeLeaseKey(2), EncodeLeaseRecord({3, 10, 0})},
      {"truncated varint", EncodeLeaseKey(4), std::string("\x08\x84", 2)},
      {"zero ttl", EncodeLeaseKey(5), EncodeLeaseRecord({5, 0, 0})},
      {"ttl too large", EncodeLeaseKey(6), EncodeLeaseRecord({6, kMaxLeaseTTL + 1, 0})},
      {"remaining past ttl", EncodeLeaseKey(7), EncodeLeaseRecord({7, 10, 11})},
      {"id as length-delimited", EncodeLeaseKey(8), std::string("\x0a\x01\x08", 3)},
      {"wire type 7", EncodeLeaseKey(9), std::string("\x27", 1)},
      {"truncated unknown field", EncodeLeaseKey(10), EncodeLeaseRecord({10, 5, 0}) + "\x22\x09x"},
      {"lease id 0", EncodeLeaseKey(0), EncodeLeaseRecord({0, 5, 0})},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    LeaseDB t;
    ASSERT_OK(t.Open());
    ASSERT_OK(t.lessor().Grant(100, 10));  // the bucket exists, with a good record
    backend::BatchTx& tx = t.db().backend()->batch_tx();
    tx.Lock();
    absl::Status put = tx.UnsafePut(kLeaseBucket, c.key, c.value);
    tx.Unlock();
    ASSERT_OK(put);
    t.Close();
    absl::Status s = t.Open();
    EXPECT_TRUE(IsBadLeaseRecord(s)) << s;
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("\"lease\" bucket"));
    EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr(absl::BytesToHexString(c.key)));
  }
}

}  // namespace
}  // namespace revkv::lease
