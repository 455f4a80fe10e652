// The apply path of membership entries (revkvpb.MemberChangeRequest and
// member_attr) on a cluster member's Fsm, driven directly (no raft): the
// member table after SEED, ADD (voter, learner), PROMOTE, UPDATE and
// REMOVE; etcd's refusals, each leaving the table as it was; a removed
// member's late publication ignored; an entry applied again changes
// nothing; the table survives a reopen and travels in a snapshot.
#include <map>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "raft/fsm.h"
#include "server/errors.h"
#include "tests/cmd/process.h"

namespace revkv::cluster {
namespace {

using Change = revkvpb::MemberChangeRequest;

std::unique_ptr<Fsm> OpenFsm(const std::string& dir) {
  absl::StatusOr<std::unique_ptr<Fsm>> f = Fsm::Open(dir, revkv::Options{});
  EXPECT_TRUE(f.ok()) << f.status();
  return f.ok() ? *std::move(f) : nullptr;
}

// Applies `req` at the next index; the entry's answer.
absl::Status Apply(Fsm* f, const revkvpb::InternalRequest& req) {
  std::string bytes;
  EXPECT_TRUE(req.SerializeToString(&bytes));
  const uint64_t index = f->applied_index() + 1;
  absl::Status s = f->applier()->Apply(index, bytes).status();
  EXPECT_EQ(f->applied_index(), index);  // applied, whatever it answered
  return s;
}

absl::Status ApplyChange(Fsm* f, Change::Op op, uint64_t id, std::vector<std::string> urls = {},
                         bool learner = false) {
  revkvpb::InternalRequest req;
  Change* c = req.mutable_member_change();
  c->set_op(op);
  c->set_id(id);
  for (const std::string& u : urls) c->add_peer_urls(u);
  c->set_is_learner(learner);
  return Apply(f, req);
}

absl::Status Seed(Fsm* f) {
  revkvpb::InternalRequest req;
  Change* c = req.mutable_member_change();
  c->set_op(Change::SEED);
  for (uint64_t id : {1, 2, 3}) {
    etcdserverpb::Member* m = c->add_seed();
    m->set_id(id);
    m->set_name(std::string(1, char('a' + id - 1)));
    m->add_peerurls("http://127.0.0.1:" + std::to_string(2380 + id));
  }
  return Apply(f, req);
}

// "id:name:peer URLs:client URLs:learner" of every member, in id order.
std::string Table(Fsm* f) {
  std::string out;
  for (const auto& [id, m] : f->members()->All()) {
    out += std::to_string(id) + ":" + m.name() + ":";
    for (const std::string& u : m.peerurls()) out += u + " ";
    out += ":";
    for (const std::string& u : m.clienturls()) out += u + " ";
    out += m.islearner() ? ":learner;" : ":voter;";
  }
  return out;
}

TEST(MembershipApplyTest, ChangesRefusalsReplayReopenAndSnapshot) {
  const std::string root = revkv::testing::NewTempDir("raftmembers");
  std::unique_ptr<Fsm> f = OpenFsm(root + "/a");
  ASSERT_TRUE(f);
  const std::string d_url = "http://127.0.0.1:2390";

  // Before the seed, nothing but a publication and the seed itself.
  EXPECT_TRUE(server::IsEtcdError(ApplyChange(f.get(), Change::ADD, 9, {d_url}), "not-capable"));
  revkvpb::InternalRequest attr;
  attr.mutable_member_attr()->set_id(2);
  attr.mutable_member_attr()->set_name("b");
  attr.mutable_member_attr()->add_client_urls("http://127.0.0.1:2379");
  ASSERT_TRUE(Apply(f.get(), attr).ok());
  EXPECT_FALSE(f->members()->seeded());
  ASSERT_TRUE(Seed(f.get()).ok());
  EXPECT_TRUE(f->members()->seeded());
  // The seed keeps what b published.
  const std::string seeded =
      "1:a:http://127.0.0.1:2381 ::voter;2:b:http://127.0.0.1:2382 :http://127.0.0.1:2379 "
      ":voter;3:c:http://127.0.0.1:2383 ::voter;";
  EXPECT_EQ(Table(f.get()), seeded);
  ASSERT_TRUE(Seed(f.get()).ok());  // a second seed (another leader's): nothing
  EXPECT_EQ(Table(f.get()), seeded);

  // A learner; a second learner, a taken URL, a taken id: refused.
  ASSERT_TRUE(ApplyChange(f.get(), Change::ADD, 9, {d_url}, true).ok());
  const std::string with_d = Table(f.get());
  EXPECT_NE(with_d.find("9::" + d_url + " ::learner;"), std::string::npos) << with_d;
  EXPECT_TRUE(server::IsEtcdError(
      ApplyChange(f.get(), Change::ADD, 10, {"http://127.0.0.1:2391"}, true), "too-many-learners"));
  EXPECT_TRUE(
      server::IsEtcdError(ApplyChange(f.get(), Change::ADD, 10, {d_url}), "peer-url-exist"));
  EXPECT_TRUE(server::IsEtcdError(ApplyChange(f.get(), Change::ADD, 9, {"http://127.0.0.1:2392"}),
                                  "member-exist"));
  EXPECT_TRUE(server::IsEtcdError(ApplyChange(f.get(), Change::ADD, 11, {}), "member-bad-urls"));
  EXPECT_EQ(Table(f.get()), with_d);

  // Promote: a voter and an unknown id refused, the learner promoted.
  EXPECT_TRUE(server::IsEtcdError(ApplyChange(f.get(), Change::PROMOTE, 1), "member-not-learner"));
  EXPECT_TRUE(server::IsEtcdError(ApplyChange(f.get(), Change::PROMOTE, 77), "member-not-found"));
  ASSERT_TRUE(ApplyChange(f.get(), Change::PROMOTE, 9).ok());
  EXPECT_NE(Table(f.get()).find("9::" + d_url + " ::voter;"), std::string::npos);

  // d publishes: its peer URL and role stay.
  attr.mutable_member_attr()->set_id(9);
  attr.mutable_member_attr()->set_name("d");
  ASSERT_TRUE(Apply(f.get(), attr).ok());
  EXPECT_NE(Table(f.get()).find("9:d:" + d_url + " :http://127.0.0.1:2379 :voter;"),
            std::string::npos);

  // Update: another's URL refused, its own kept or a new one taken.
  EXPECT_TRUE(server::IsEtcdError(
      ApplyChange(f.get(), Change::UPDATE, 9, {"http://127.0.0.1:2381"}), "peer-url-exist"));
  EXPECT_TRUE(ApplyChange(f.get(), Change::UPDATE, 9, {d_url}).ok());
  ASSERT_TRUE(ApplyChange(f.get(), Change::UPDATE, 9, {"http://127.0.0.1:2399"}).ok());
  EXPECT_NE(Table(f.get()).find("9:d:http://127.0.0.1:2399 :"), std::string::npos);
  EXPECT_TRUE(server::IsEtcdError(
      ApplyChange(f.get(), Change::UPDATE, 77, {"http://127.0.0.1:2398"}), "member-not-found"));

  // Remove: unknown refused; a removed member stays out.
  EXPECT_TRUE(server::IsEtcdError(ApplyChange(f.get(), Change::REMOVE, 77), "member-not-found"));
  ASSERT_TRUE(ApplyChange(f.get(), Change::REMOVE, 1).ok());
  EXPECT_TRUE(f->members()->removed(1));
  EXPECT_FALSE(f->members()->Get(1).has_value());
  EXPECT_TRUE(server::IsEtcdError(ApplyChange(f.get(), Change::REMOVE, 1), "member-not-found"));
  EXPECT_TRUE(server::IsEtcdError(ApplyChange(f.get(), Change::ADD, 1, {"http://127.0.0.1:2381"}),
                                  "member-exist"));
  attr.mutable_member_attr()->set_id(1);
  attr.mutable_member_attr()->set_name("a");
  ASSERT_TRUE(Apply(f.get(), attr).ok());  // late publication: ignored
  EXPECT_FALSE(f->members()->Get(1).has_value());
  const std::string final_table = Table(f.get());
  EXPECT_EQ(f->members()->All().size(), 3u) << final_table;

  // The last entry again (a replay at an index the DB has): nothing.
  {
    revkvpb::InternalRequest req;
    req.mutable_member_change()->set_op(Change::REMOVE);
    req.mutable_member_change()->set_id(2);
    std::string bytes;
    ASSERT_TRUE(req.SerializeToString(&bytes));
    f->applier()->Apply(f->applied_index(), bytes).status().IgnoreError();
    EXPECT_EQ(Table(f.get()), final_table);
  }

  // Reopened, and restored from a snapshot elsewhere: the same table.
  absl::StatusOr<std::string> snap = f->SnapshotBytes(f->applied_index());
  ASSERT_TRUE(snap.ok()) << snap.status();
  f.reset();
  f = OpenFsm(root + "/a");
  ASSERT_TRUE(f);
  EXPECT_EQ(Table(f.get()), final_table);
  EXPECT_TRUE(f->members()->seeded());
  EXPECT_TRUE(f->members()->removed(1));
  std::unique_ptr<Fsm> g = OpenFsm(root + "/b");
  ASSERT_TRUE(g);
  ASSERT_TRUE(g->Restore(*snap).ok());
  EXPECT_EQ(Table(g.get()), final_table);
  EXPECT_TRUE(g->members()->seeded());
  EXPECT_TRUE(g->members()->removed(1));
}

}  // namespace
}  // namespace revkv::cluster
