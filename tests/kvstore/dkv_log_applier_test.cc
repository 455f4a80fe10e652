// The replicated half of dKV's distributed store (kvstore/dkv/
// log_applier.h) driven through raft/fsm.h's applier, snapshot and
// restore without raft: times made absolute with the entry's index; a
// member restored from a raft snapshot rebuilds its deletion queue and
// removes what a member that never stopped removes, in the same order
// (equal HashKV) even when their queues hold different stale hints.
#include "kvstore/dkv/log_applier.h"

#include <string>

#include "gtest/gtest.h"
#include "kvstore/dkv/entry.h"
#include "raft/fsm.h"
#include "server/errors.h"
#include "tests/cmd/process.h"

namespace revkv::kvstore::dkv {
namespace {

std::unique_ptr<cluster::Fsm> OpenFsm(const std::string& dir) {
  absl::StatusOr<std::unique_ptr<cluster::Fsm>> f = cluster::Fsm::Open(dir, revkv::Options{});
  EXPECT_TRUE(f.ok()) << f.status();
  return f.ok() ? *std::move(f) : nullptr;
}

revkvpb::DkvRequest Set(const std::string& k, uint64_t expire_in, uint64_t delete_in) {
  revkvpb::DkvRequest r;
  r.set_key(k);
  r.set_value("v-" + k);
  r.set_expire_in(expire_in);
  r.set_delete_in(delete_in);
  return r;
}

// Applies `req` as entry `index`; its answer.
absl::StatusOr<server::ApplyResult> Apply(cluster::Fsm* f, uint64_t index,
                                          const revkvpb::DkvRequest& req) {
  revkvpb::InternalRequest entry;
  *entry.mutable_dkv() = req;
  return f->applier()->Apply(index, entry.SerializeAsString());
}

absl::StatusOr<Entry> Stored(cluster::Fsm* f, const std::string& k) {
  auto r = f->db()->Range(LogApplier::StoreKey(k), "");
  if (!r.ok()) return r.status();
  if (r->kvs.empty()) return absl::NotFoundError(k);
  return DecodeEntry(r->kvs[0].value);
}

mvcc::HashResult Hash(cluster::Fsm* f) {
  absl::StatusOr<mvcc::HashResult> h = f->db()->HashKV(0);
  EXPECT_TRUE(h.ok()) << h.status();
  return h.ok() ? *h : mvcc::HashResult{};
}

TEST(DkvLogApplierTest, TimesAreTheEntrysIndexPlusTheSteps) {
  const std::string root = revkv::testing::NewTempDir("dkv-log-applier");
  std::unique_ptr<cluster::Fsm> f = OpenFsm(root + "/a");
  ASSERT_TRUE(f);
  absl::StatusOr<server::ApplyResult> r = Apply(f.get(), 7, Set("k", 5, 9));
  ASSERT_TRUE(r.ok()) << r.status();
  const auto* resp = std::get_if<revkvpb::DkvResponse>(&*r);
  ASSERT_NE(resp, nullptr);
  EXPECT_EQ(resp->index(), 7u);
  EXPECT_TRUE(resp->changed());
  EXPECT_EQ(resp->revision(), f->db()->Rev());
  absl::StatusOr<Entry> e = Stored(f.get(), "k");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->expire_at, Millis(12));
  EXPECT_EQ(e->delete_at, Millis(16));
  EXPECT_EQ(e->value, "v-k");
  EXPECT_EQ(f->applier()->dkv().pending(), 1);
  // Not yet at 15; removed by the entry at 16, whatever that entry is.
  ASSERT_TRUE(Apply(f.get(), 15, Set("other", 0, 0)).ok());
  EXPECT_TRUE(Stored(f.get(), "k").ok());
  revkvpb::InternalRequest put;
  put.mutable_put()->set_key("etcd-key");
  put.mutable_put()->set_value("x");
  ASSERT_TRUE(f->applier()->Apply(16, put.SerializeAsString()).ok());
  EXPECT_TRUE(absl::IsNotFound(Stored(f.get(), "k").status()));
  EXPECT_EQ(f->applier()->dkv().swept(), 1);
  EXPECT_EQ(f->applier()->dkv().pending(), 0);
}

// Member a keeps a stale hint (x due at 4, rewritten due at 5); member b
// restores a's snapshot and rebuilds its queue from the store (x and y due
// at 5). Entry 4 is raft's own (no apply): at entry 5 both remove x and y
// in one revision, in byte order -- so their sub revisions, and HashKV,
// agree.
TEST(DkvLogApplierTest, ARestoredMemberRemovesTheSameKeysInTheSameOrder) {
  const std::string root = revkv::testing::NewTempDir("dkv-log-applier");
  std::unique_ptr<cluster::Fsm> a = OpenFsm(root + "/a"), b = OpenFsm(root + "/b");
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(Apply(a.get(), 1, Set("y", 0, 3)).ok());  // due at 4
  ASSERT_TRUE(Apply(a.get(), 2, Set("y", 0, 3)).ok());  // due at 5
  ASSERT_TRUE(Apply(a.get(), 3, Set("x", 0, 2)).ok());  // due at 5
  EXPECT_EQ(Apply(a.get(), 3, Set("z", 0, 0)).status().code(),
            absl::StatusCode::kFailedPrecondition);  // already applied
  absl::StatusOr<std::string> snap = a->SnapshotBytes(3);
  ASSERT_TRUE(snap.ok()) << snap.status();
  ASSERT_TRUE(b->Restore(*snap).ok());
  EXPECT_EQ(b->applied_index(), 3u);
  EXPECT_EQ(Hash(a.get()).hash, Hash(b.get()).hash);
  EXPECT_EQ(a->applier()->dkv().pending(), 3);  // two hints for y
  EXPECT_EQ(b->applier()->dkv().pending(), 0);  // rebuilt at its first entry

  for (cluster::Fsm* f : {a.get(), b.get()}) {
    ASSERT_TRUE(Apply(f, 5, Set("z", 0, 0)).ok());
    EXPECT_TRUE(absl::IsNotFound(Stored(f, "x").status()));
    EXPECT_TRUE(absl::IsNotFound(Stored(f, "y").status()));
    EXPECT_TRUE(Stored(f, "z").ok());
    EXPECT_EQ(f->applier()->dkv().swept(), 2);
  }
  const mvcc::HashResult ha = Hash(a.get()), hb = Hash(b.get());
  EXPECT_EQ(ha.rev, hb.rev);
  EXPECT_EQ(ha.hash, hb.hash);
}

// A reopened DB (a restart) rebuilds the queue too: a key due while the
// member was down goes with its next entry.
TEST(DkvLogApplierTest, AReopenedMemberRemovesKeysDueWhileItWasDown) {
  const std::string root = revkv::testing::NewTempDir("dkv-log-applier");
  std::unique_ptr<cluster::Fsm> a = OpenFsm(root + "/a");
  ASSERT_TRUE(a);
  ASSERT_TRUE(Apply(a.get(), 1, Set("k", 0, 4)).ok());  // due at 5
  a.reset();
  a = OpenFsm(root + "/a");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->applied_index(), 1u);
  EXPECT_TRUE(Stored(a.get(), "k").ok());
  ASSERT_TRUE(Apply(a.get(), 9, Set("other", 0, 0)).ok());
  EXPECT_TRUE(absl::IsNotFound(Stored(a.get(), "k").status()));
  EXPECT_EQ(a->applier()->dkv().swept(), 1);
}

// While NOSPACE is raised, dKV sets are refused like etcd puts; expiring,
// deleting and the sweep still free space.
TEST(DkvLogApplierTest, NoSpaceRefusesSetsButNotDeletions) {
  const std::string root = revkv::testing::NewTempDir("dkv-log-applier");
  std::unique_ptr<cluster::Fsm> f = OpenFsm(root + "/a");
  ASSERT_TRUE(f);
  ASSERT_TRUE(Apply(f.get(), 1, Set("k", 0, 5)).ok());  // due at 6
  ASSERT_TRUE(Apply(f.get(), 2, Set("j", 0, 0)).ok());
  revkvpb::InternalRequest alarm;
  alarm.mutable_alarm()->set_action(etcdserverpb::AlarmRequest::ACTIVATE);
  alarm.mutable_alarm()->set_memberid(1);
  alarm.mutable_alarm()->set_alarm(etcdserverpb::NOSPACE);
  ASSERT_TRUE(f->applier()->Apply(3, alarm.SerializeAsString()).ok());
  absl::StatusOr<server::ApplyResult> r = Apply(f.get(), 4, Set("new", 0, 0));
  EXPECT_TRUE(server::IsEtcdError(r.status(), "no-space")) << r.status();
  revkvpb::DkvRequest unset = Set("new", 0, 0);
  unset.set_op(revkvpb::DkvRequest::SET_IF_UNSET);
  EXPECT_TRUE(server::IsEtcdError(Apply(f.get(), 5, unset).status(), "no-space"));
  EXPECT_TRUE(absl::IsNotFound(Stored(f.get(), "new").status()));
  revkvpb::DkvRequest del;
  del.set_op(revkvpb::DkvRequest::DELETE);
  del.set_key("j");
  ASSERT_TRUE(Apply(f.get(), 6, del).ok());
  EXPECT_TRUE(absl::IsNotFound(Stored(f.get(), "j").status()));
  EXPECT_TRUE(absl::IsNotFound(Stored(f.get(), "k").status()));  // swept at 6
}

}  // namespace
}  // namespace revkv::kvstore::dkv
