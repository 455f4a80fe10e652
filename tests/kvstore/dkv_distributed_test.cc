// dKV's distributed store (kvstore/dkv/distributed_store.h) on three
// ClusterMembers in one process: the IStore semantics table of
// dkv_store_test.cc, restated with times in log index steps (writes on a
// follower, reads on the other follower); expiry and deletion at the same
// log index on every member, with equal HashKV; pending deletions across
// a member's restart; concurrent writers and readers on every member
// (tagged concurrency: run under TSan).
//
// Time here is the raft log index. Fillers (plain Sets of another key)
// move it; each read's barrier takes log indexes too, so the tests compare
// with the index a write was acknowledged at, never with a count of calls.
#include "kvstore/dkv/distributed_store.h"

#include <atomic>
#include <cstdio>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "kvstore/dkv/entry.h"
#include "kvstore/dkv/error.h"
#include "tests/kvstore/test_util.h"
#include "tests/raft/in_process_cluster.h"

namespace revkv::kvstore::dkv {
namespace {

using cluster::testutil::InProcessCluster;

uint64_t PrintSeed() {
  const uint64_t seed = std::random_device{}();
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  return seed;
}

// Three members, a DistributedStore on each.
class Cluster {
 public:
  explicit Cluster(const std::string& name) : c_(3, name) {}

  // Starts the members and waits for a leader and every publication.
  void Start() {
    ASSERT_TRUE(c_.StartAll().ok());
    leader_ = c_.Leader();
    ASSERT_GE(leader_, 0);
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(c_.AllPublished(i));
    for (int i = 0; i < 3; ++i) OpenStore(i);
  }
  void OpenStore(int i) {
    stores_[size_t(i)] = std::make_unique<DistributedStore>(c_.member(i));
  }

  DistributedStore* store(int i) { return stores_[size_t(i)].get(); }
  // A follower writes, the other follower reads.
  DistributedStore* writer() { return store((leader_ + 1) % 3); }
  DistributedStore* reader() { return store((leader_ + 2) % 3); }
  InProcessCluster& members() { return c_; }
  int leader() const { return leader_; }

  // SetE through the writer; the entry's index.
  uint64_t SetE(const std::string& k, const std::string& v, int64_t expire_in,
                int64_t delete_in, revkvpb::DkvRequest::Op op = revkvpb::DkvRequest::SET) {
    revkvpb::DkvRequest req;
    req.set_op(op);
    req.set_key(k);
    req.set_value(v);
    req.set_expire_in(uint64_t(expire_in));
    req.set_delete_in(uint64_t(delete_in));
    absl::StatusOr<WriteAck> ack = writer()->Write(req);
    EXPECT_TRUE(ack.ok()) << ack.status();
    return ack.ok() ? ack->index : 0;
  }
  // Filler writes until one lands at or past `index`; that one's index.
  uint64_t AdvancePast(uint64_t index) {
    while (true) {
      revkvpb::DkvRequest req;
      req.set_key("~filler");
      req.set_value("f");
      absl::StatusOr<WriteAck> ack = writer()->Write(req);
      EXPECT_TRUE(ack.ok()) << ack.status();
      if (!ack.ok() || ack->index >= index) return ack.ok() ? ack->index : 0;
    }
  }
  // Whether member i's mvcc store holds the key, after a barrier.
  bool Stored(int i, const std::string& k) {
    EXPECT_TRUE(c_.member(i)->ReadBarrier().ok());
    auto r = c_.member(i)->db()->Range(LogApplier::StoreKey(k), "");
    EXPECT_TRUE(r.ok());
    return r.ok() && !r->kvs.empty();
  }
  // HashKV and revision of every running member (after a barrier on each)
  // are equal.
  void ExpectSameHash() {
    std::vector<mvcc::HashResult> h;
    for (int i = 0; i < 3; ++i) {
      if (c_.member(i) == nullptr) continue;
      ASSERT_TRUE(c_.member(i)->ReadBarrier().ok());
      absl::StatusOr<mvcc::HashResult> r = c_.member(i)->db()->HashKV(0);
      ASSERT_TRUE(r.ok()) << r.status();
      h.push_back(*r);
    }
    for (size_t i = 1; i < h.size(); ++i) {
      EXPECT_EQ(h[i].rev, h[0].rev) << "member " << i;
      EXPECT_EQ(h[i].hash, h[0].hash) << "member " << i;
    }
  }

 private:
  InProcessCluster c_;
  int leader_ = -1;
  std::unique_ptr<DistributedStore> stores_[3];
};

GetResult Get(DistributedStore* s, std::string_view k) {
  auto r = s->Get(k);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : GetResult{};
}
bool Has(DistributedStore* s, std::string_view k) {
  auto r = s->Has(k);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() && *r;
}

// One cluster for the semantics table (its members take seconds to elect);
// each test uses keys of its own.
class DkvDistributedTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cluster_ = new Cluster("dkv-dstore");
    cluster_->Start();
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(cluster_, nullptr);
    ASSERT_GE(cluster_->leader(), 0);
    w_ = cluster_->writer();
    r_ = cluster_->reader();
    prefix_ = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }
  std::string K(const std::string& k) const { return prefix_ + "/" + k; }

  static Cluster* cluster_;
  DistributedStore* w_ = nullptr;
  DistributedStore* r_ = nullptr;
  std::string prefix_;
};
Cluster* DkvDistributedTest::cluster_ = nullptr;

// --- Set / Get / Has / Delete -----------------------------------------------

TEST_F(DkvDistributedTest, SetThenGetLoadsTheValueOnAnotherMember) {
  REVKV_ASSERT_OK(w_->Set(K("k"), "v"));
  GetResult g = Get(r_, K("k"));
  EXPECT_TRUE(g.loaded);
  EXPECT_EQ(g.value, "v");
  EXPECT_TRUE(Has(r_, K("k")));
}

TEST_F(DkvDistributedTest, GetOfMissingKeyIsNotLoadedWithoutError) {
  GetResult g = Get(r_, K("nope"));
  EXPECT_FALSE(g.loaded);
  EXPECT_EQ(g.value, "");
  EXPECT_FALSE(Has(r_, K("nope")));
}

TEST_F(DkvDistributedTest, SetOverwritesValueAndClearsExpiry) {
  const uint64_t n = cluster_->SetE(K("k"), "1", 2, 4);
  REVKV_ASSERT_OK(w_->Set(K("k"), "2"));
  cluster_->AdvancePast(n + 10);
  EXPECT_EQ(Get(r_, K("k")).value, "2");
  EXPECT_TRUE(Has(r_, K("k")));
}

TEST_F(DkvDistributedTest, DeleteRemovesTheKeyAndMissingKeyIsNoError) {
  REVKV_ASSERT_OK(w_->Set(K("k"), "v"));
  REVKV_ASSERT_OK(w_->Delete(K("k")));
  EXPECT_FALSE(Has(r_, K("k")));
  EXPECT_FALSE(Get(r_, K("k")).loaded);
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(cluster_->Stored(i, K("k")));
  REVKV_EXPECT_OK(w_->Delete(K("k")));
}

TEST_F(DkvDistributedTest, EmptyValueIsLoaded) {
  REVKV_ASSERT_OK(w_->Set(K("k"), ""));
  EXPECT_TRUE(Get(r_, K("k")).loaded);
}

// --- SetE: expiry in index steps ----------------------------------------------

TEST_F(DkvDistributedTest, ExpiredKeyIsNotLoadedButHasFindsIt) {
  const uint64_t n = cluster_->SetE(K("k"), "v", 20, 0);
  EXPECT_TRUE(Get(r_, K("k")).loaded);  // a read or two of barriers later
  cluster_->AdvancePast(n + 20);
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(Get(cluster_->store(i), K("k")).loaded) << "member " << i;
    EXPECT_TRUE(Has(cluster_->store(i), K("k"))) << "member " << i;
  }
  // Expiry alone never deletes.
  cluster_->AdvancePast(n + 60);
  EXPECT_TRUE(Has(r_, K("k")));
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(cluster_->Stored(i, K("k")));
}

TEST_F(DkvDistributedTest, DeletedKeyIsGoneAtItsIndexAndRemovedByAnMvccDelete) {
  const uint64_t n = cluster_->SetE(K("k"), "v", 0, 20);
  EXPECT_TRUE(Get(r_, K("k")).loaded);
  EXPECT_TRUE(Has(r_, K("k")));
  const int64_t rev = cluster_->members().member(0)->db()->Rev();
  cluster_->AdvancePast(n + 20);
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(Get(cluster_->store(i), K("k")).loaded) << "member " << i;
    EXPECT_FALSE(Has(cluster_->store(i), K("k"))) << "member " << i;
    EXPECT_FALSE(cluster_->Stored(i, K("k"))) << "member " << i;
    // An ordinary delete: history keeps the last value.
    auto old = cluster_->members().member(i)->db()->Range(LogApplier::StoreKey(K("k")), "",
                                                          mvcc::RangeOptions{0, rev, false});
    ASSERT_TRUE(old.ok());
    EXPECT_EQ(old->kvs.size(), 1u);
  }
  cluster_->ExpectSameHash();
}

TEST_F(DkvDistributedTest, ExpireBeforeDeleteStagesBoth) {
  const uint64_t n = cluster_->SetE(K("k"), "v", 10, 60);
  cluster_->AdvancePast(n + 10);
  EXPECT_FALSE(Get(r_, K("k")).loaded);
  EXPECT_TRUE(Has(r_, K("k")));
  cluster_->AdvancePast(n + 60);
  EXPECT_FALSE(Has(r_, K("k")));
}

TEST_F(DkvDistributedTest, RewriteWithLaterDeleteIndexIsNotSweptEarly) {
  const uint64_t n1 = cluster_->SetE(K("k"), "1", 0, 10);
  const uint64_t n2 = cluster_->SetE(K("k"), "2", 0, 100);
  cluster_->AdvancePast(n1 + 15);
  EXPECT_EQ(Get(r_, K("k")).value, "2");
  cluster_->AdvancePast(n2 + 100);
  EXPECT_FALSE(Has(r_, K("k")));
}

TEST_F(DkvDistributedTest, NegativeStepsAreInvalidOperations) {
  absl::Status s = w_->SetE(K("k"), "v", Millis(-1), Millis(0));
  EXPECT_TRUE(IsInvalidOperation(s)) << s;
  EXPECT_TRUE(IsInvalidOperation(w_->SetEIfUnset(K("k"), "v", Millis(0), Millis(-1))));
  EXPECT_FALSE(Has(r_, K("k")));
}

// --- SetEIfUnset ------------------------------------------------------------

TEST_F(DkvDistributedTest, SetEIfUnsetSetsAMissingKey) {
  const uint64_t n = cluster_->SetE(K("k"), "v", 20, 0, revkvpb::DkvRequest::SET_IF_UNSET);
  EXPECT_EQ(Get(r_, K("k")).value, "v");
  cluster_->AdvancePast(n + 20);
  EXPECT_FALSE(Get(r_, K("k")).loaded);
}

TEST_F(DkvDistributedTest, SetEIfUnsetOnPresentKeyChangesNothingAndIsNoError) {
  REVKV_ASSERT_OK(w_->Set(K("k"), "old"));
  revkvpb::DkvRequest req;
  req.set_op(revkvpb::DkvRequest::SET_IF_UNSET);
  req.set_key(K("k"));
  req.set_value("new");
  req.set_delete_in(1);
  absl::StatusOr<WriteAck> ack = w_->Write(req);
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_FALSE(ack->changed);
  cluster_->AdvancePast(ack->index + 5);
  EXPECT_EQ(Get(r_, K("k")).value, "old");
}

TEST_F(DkvDistributedTest, SetEIfUnsetOnExpiredKeyChangesNothing) {
  const uint64_t n = cluster_->SetE(K("k"), "old", 1, 0);
  cluster_->AdvancePast(n + 1);
  REVKV_ASSERT_OK(w_->SetEIfUnset(K("k"), "new", Millis(0), Millis(0)));
  EXPECT_FALSE(Get(r_, K("k")).loaded);
  EXPECT_TRUE(Has(r_, K("k")));
}

TEST_F(DkvDistributedTest, SetEIfUnsetOnDeletedKeySets) {
  const uint64_t n = cluster_->SetE(K("k"), "old", 0, 1);
  cluster_->AdvancePast(n + 1);
  REVKV_ASSERT_OK(w_->SetEIfUnset(K("k"), "new", Millis(0), Millis(0)));
  EXPECT_EQ(Get(r_, K("k")).value, "new");
  EXPECT_TRUE(Has(r_, K("k")));
}

// --- Expire -----------------------------------------------------------------

TEST_F(DkvDistributedTest, ExpireDropsTheValueAndKeepsTheKey) {
  REVKV_ASSERT_OK(w_->Set(K("k"), "v"));
  revkvpb::DkvRequest req;
  req.set_op(revkvpb::DkvRequest::EXPIRE);
  req.set_key(K("k"));
  absl::StatusOr<WriteAck> ack = w_->Write(req);
  ASSERT_TRUE(ack.ok()) << ack.status();
  EXPECT_FALSE(Get(r_, K("k")).loaded);
  EXPECT_TRUE(Has(r_, K("k")));
  cluster::ClusterMember* m = cluster_->members().member((cluster_->leader() + 2) % 3);
  auto r = m->db()->Range(LogApplier::StoreKey(K("k")), "");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->kvs.size(), 1u);
  auto e = DecodeEntry(r->kvs[0].value);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->value, "");
  EXPECT_EQ(e->expire_at, Millis(int64_t(ack->index)));  // the entry's own index
}

TEST_F(DkvDistributedTest, ExpireOfMissingKeyIsNoErrorAndCreatesNothing) {
  REVKV_ASSERT_OK(w_->Expire(K("k")));
  EXPECT_FALSE(Has(r_, K("k")));
  EXPECT_FALSE(cluster_->Stored(0, K("k")));
}

TEST_F(DkvDistributedTest, ExpireKeepsTheDeleteIndex) {
  const uint64_t n = cluster_->SetE(K("k"), "v", 0, 20);
  REVKV_ASSERT_OK(w_->Expire(K("k")));
  EXPECT_TRUE(Has(r_, K("k")));
  cluster_->AdvancePast(n + 20);
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(cluster_->Stored(i, K("k")));
}

// --- GetDBInfo and errors -------------------------------------------------------

TEST_F(DkvDistributedTest, GetDBInfoReportsKeysRevisionAndSweeps) {
  auto before = r_->GetDBInfo();
  ASSERT_TRUE(before.ok()) << before.status();
  const uint64_t n = cluster_->SetE(K("a"), "1", 0, 10);
  REVKV_ASSERT_OK(w_->Set(K("b"), "2"));
  ASSERT_TRUE(r_->Has(K("b")).ok());  // the reader has applied both
  auto info = r_->GetDBInfo();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->db_type, "revkv");
  EXPECT_GT(info->size_bytes, 0u);
  EXPECT_EQ(info->key_count, before->key_count + 2);
  EXPECT_GE(info->pending_deletes, 1);
  EXPECT_FALSE(info->supported_features.empty());
  cluster_->AdvancePast(n + 10);
  ASSERT_TRUE(r_->Has(K("b")).ok());
  auto after = r_->GetDBInfo();
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->key_count, info->key_count - 1);
  EXPECT_GE(after->swept_keys, info->swept_keys + 1);
  EXPECT_GT(after->revision, info->revision);
}

TEST_F(DkvDistributedTest, CallsAfterCloseAreInvalidOperations) {
  DistributedStore s(cluster_->members().member(0));
  s.Close();
  s.Close();
  EXPECT_TRUE(IsInvalidOperation(s.Set("k", "v")));
  EXPECT_TRUE(IsInvalidOperation(s.SetE("k", "v", Millis(0), Millis(0))));
  EXPECT_TRUE(IsInvalidOperation(s.SetEIfUnset("k", "v", Millis(0), Millis(0))));
  EXPECT_TRUE(IsInvalidOperation(s.Expire("k")));
  EXPECT_TRUE(IsInvalidOperation(s.Delete("k")));
  EXPECT_TRUE(IsInvalidOperation(s.Get("k").status()));
  EXPECT_TRUE(IsInvalidOperation(s.Has("k").status()));
  EXPECT_TRUE(IsInvalidOperation(s.GetDBInfo().status()));
}

TEST_F(DkvDistributedTest, ForeignValueUnderThePrefixIsAnInternalErrorAndStopsNothing) {
  revkvpb::InternalRequest put;
  put.mutable_put()->set_key(LogApplier::StoreKey(K("raw")));
  put.mutable_put()->set_value("not an entry");
  ASSERT_TRUE(cluster_->members().member(0)->forwarder()->Propose(put).ok());
  absl::Status s = r_->Get(K("raw")).status();
  EXPECT_TRUE(IsInternalError(s)) << s;
  EXPECT_TRUE(IsInternalError(r_->Has(K("raw")).status()));
  // Refused by every member's applier alike, which goes on applying.
  EXPECT_TRUE(IsInternalError(w_->SetEIfUnset(K("raw"), "v", Millis(0), Millis(0))));
  REVKV_EXPECT_OK(w_->Set(K("raw"), "v"));
  EXPECT_EQ(Get(r_, K("raw")).value, "v");
}

// --- The same log index on every member -------------------------------------------

// Random keys with random expiry and deletion steps, written through every
// member; then fillers: after each, every member answers as the model says
// at the index it read at, holds the key in its mvcc store exactly while
// the model says it is not deleted, and in the end every member's HashKV
// is equal. (Each linearizable read appends a barrier entry, so the index
// moves by some 70 per round: the steps are drawn large.)
TEST_F(DkvDistributedTest, EveryMemberExpiresAndDeletesAtTheSameLogIndex) {
  std::mt19937_64 rng(PrintSeed());
  struct Key {
    std::string name;
    uint64_t at;  // the entry that wrote it
    uint64_t expire_in, delete_in;
  };
  std::vector<Key> keys;
  for (int i = 0; i < 12; ++i) {
    Key k{K(std::to_string(i)), 0, rng() % 400, rng() % 600};
    DistributedStore* s = cluster_->store(i % 3);
    revkvpb::DkvRequest req;
    req.set_key(k.name);
    req.set_value("v" + std::to_string(i));
    req.set_expire_in(k.expire_in);
    req.set_delete_in(k.delete_in);
    absl::StatusOr<WriteAck> ack = s->Write(req);
    ASSERT_TRUE(ack.ok()) << ack.status();
    k.at = ack->index;
    keys.push_back(k);
  }
  auto expired = [](const Key& k, uint64_t a) {
    return (k.expire_in != 0 && a >= k.at + k.expire_in) ||
           (k.delete_in != 0 && a >= k.at + k.delete_in);
  };
  auto deleted = [](const Key& k, uint64_t a) {
    return k.delete_in != 0 && a >= k.at + k.delete_in;
  };
  const uint64_t end = keys.back().at + 620;
  int rounds = 0, saw_live = 0, saw_expired = 0, saw_deleted = 0;
  for (uint64_t a = cluster_->AdvancePast(0); a < end; a = cluster_->AdvancePast(a + 1)) {
    ++rounds;
    for (int m = 0; m < 3; ++m) {
      DistributedStore* s = cluster_->store(m);
      for (const Key& k : keys) {
        absl::StatusOr<GetResult> g = s->Get(k.name);
        absl::StatusOr<bool> h = s->Has(k.name);
        ASSERT_TRUE(g.ok() && h.ok());
        // No other writer: the member's clock is the last filler's index
        // (barriers are not applied entries).
        const uint64_t at = s->applied_index();
        ASSERT_EQ(at, a) << "member " << m;
        EXPECT_EQ(g->loaded, !expired(k, at)) << k.name << " at " << at << " member " << m;
        EXPECT_EQ(*h, !deleted(k, at)) << k.name << " at " << at << " member " << m;
        auto stored =
            cluster_->members().member(m)->db()->Range(LogApplier::StoreKey(k.name), "");
        ASSERT_TRUE(stored.ok());
        EXPECT_EQ(!stored->kvs.empty(), !deleted(k, at)) << k.name << " member " << m;
        saw_live += g->loaded;
        saw_expired += !g->loaded && *h;
        saw_deleted += !*h;
      }
    }
  }
  std::printf("%d rounds; live %d expired %d deleted %d observations\n", rounds, saw_live,
              saw_expired, saw_deleted);
  EXPECT_GE(rounds, 4);
  cluster_->ExpectSameHash();
  // Each member removed them itself, in the same entries.
  int64_t swept = -1;
  for (int m = 0; m < 3; ++m) {
    auto info = cluster_->store(m)->GetDBInfo();
    ASSERT_TRUE(info.ok());
    if (swept >= 0) {
      EXPECT_EQ(info->swept_keys, swept);
    }
    swept = info->swept_keys;
  }
}

// --- Restart ------------------------------------------------------------------------

// A follower stops with deletions pending; one comes due while it is down
// (it applies it from the log at restart), one after (its rebuilt queue).
// Both keys are removed there as on the others: equal HashKV.
TEST(DkvDistributedRestartTest, ARestartedMemberKeepsItsPendingDeletions) {
  Cluster c("dkv-dstore-restart");
  ASSERT_NO_FATAL_FAILURE(c.Start());
  const uint64_t n1 = c.SetE("down", "v", 0, 30);
  const uint64_t n2 = c.SetE("up", "v", 0, 200);
  const uint64_t n3 = c.SetE("stays", "v", 0, 0);
  ASSERT_GT(n3, n2);
  const int f = (c.leader() + 2) % 3;  // not the writer: a follower
  ASSERT_TRUE(c.Stored(f, "down") && c.Stored(f, "up"));
  {
    auto info = c.store(f)->GetDBInfo();
    ASSERT_TRUE(info.ok());
    EXPECT_GE(info->pending_deletes, 2);
  }
  c.store(f)->Close();
  c.members().Stop(f);
  c.AdvancePast(n1 + 30);
  ASSERT_TRUE(c.members().Start(f).ok());
  c.OpenStore(f);
  EXPECT_FALSE(Has(c.store(f), "down"));
  EXPECT_FALSE(c.Stored(f, "down"));
  EXPECT_TRUE(Has(c.store(f), "up"));
  c.AdvancePast(n2 + 200);
  EXPECT_FALSE(Has(c.store(f), "up"));
  EXPECT_FALSE(c.Stored(f, "up"));
  EXPECT_TRUE(c.Stored(f, "stays"));
  auto info = c.store(f)->GetDBInfo();
  ASSERT_TRUE(info.ok());
  EXPECT_GE(info->swept_keys, 1);  // "up", by the queue rebuilt at restart
  c.ExpectSameHash();
}

// --- Concurrency --------------------------------------------------------------------

// Writers and readers on every member at once (TSan: no data race); once
// quiet and past every deletion index, the members agree byte for byte and
// every key due is gone.
TEST(DkvDistributedConcurrencyTest, WritersAndReadersOnEveryMemberAgree) {
  const uint64_t seed = PrintSeed();
  Cluster c("dkv-dstore-conc");
  ASSERT_NO_FATAL_FAILURE(c.Start());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(seed + uint64_t(t));
      DistributedStore* s = c.store(t % 3);
      for (int i = 0; i < 25; ++i) {
        const std::string key = "c" + std::to_string(rng() % 20);
        absl::Status st;
        switch (rng() % 5) {
          case 0: st = s->SetE(key, "v", Millis(rng() % 10), Millis(rng() % 30)); break;
          case 1: st = s->SetEIfUnset(key, "w", Millis(0), Millis(1 + rng() % 20)); break;
          case 2: st = s->Expire(key); break;
          case 3: st = s->Delete(key); break;
          default: st = s->Get(key).status(); break;
        }
        if (!st.ok()) {
          ADD_FAILURE() << "thread " << t << ": " << st;
          ++failures;
          return;
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  ASSERT_EQ(failures.load(), 0);
  // Every delete index is at most 30 steps past the last write, which
  // member 0 has applied after a barrier.
  ASSERT_TRUE(c.members().member(0)->ReadBarrier().ok());
  c.AdvancePast(c.store(0)->applied_index() + 31);
  for (int m = 0; m < 3; ++m) {
    auto info = c.store(m)->GetDBInfo();
    ASSERT_TRUE(info.ok());
    for (int k = 0; k < 20; ++k) {
      const std::string key = "c" + std::to_string(k);
      auto r = c.members().member(m)->db()->Range(LogApplier::StoreKey(key), "");
      ASSERT_TRUE(r.ok());
      if (r->kvs.empty()) continue;
      auto e = DecodeEntry(r->kvs[0].value);
      ASSERT_TRUE(e.ok());
      EXPECT_EQ(e->delete_at.count(), 0) << key << " was due and is still stored";
    }
  }
  c.ExpectSameHash();
}

}  // namespace
}  // namespace revkv::kvstore::dkv
