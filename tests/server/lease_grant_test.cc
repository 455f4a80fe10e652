// LeaseGrant with an id chosen by the server (a request's id 0), when the
// id it chose is taken before its grant applies -- by a grant naming that
// id, or in a cluster by another member's choice still in the log. The
// proposer here lets such a grant in first, as many times as asked: the
// client still gets a lease with a fresh id while the service has attempts
// left (LeaseService::kGrantAttempts), etcd's "lease already exists" after.
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "lease/errors.h"
#include "revkv/db.h"
#include "server/alarm_store.h"
#include "server/applier.h"
#include "server/lease_service.h"
#include "server/proposer.h"
#include "server/quota.h"
#include "tests/cmd/process.h"

namespace revkv::testing {
namespace {

// Before each of the first `steals` grants it proposes, proposes a grant of
// the same id itself (the grant that got there first).
class StealingProposer : public server::Proposer {
 public:
  StealingProposer(server::Proposer* inner, int steals) : inner_(inner), steals_(steals) {}

  absl::StatusOr<server::ApplyResult> Propose(revkvpb::InternalRequest req) override {
    if (req.has_lease_grant() && steals_ > 0) {
      --steals_;
      revkvpb::InternalRequest first;
      first.mutable_lease_grant()->set_id(req.lease_grant().id());
      first.mutable_lease_grant()->set_ttl(100);
      absl::StatusOr<server::ApplyResult> r = inner_->Propose(first);
      EXPECT_TRUE(r.ok()) << r.status();
      stolen_.push_back(req.lease_grant().id());
    }
    return inner_->Propose(std::move(req));
  }
  uint64_t last_index() const override { return inner_->last_index(); }

  const std::vector<int64_t>& stolen() const { return stolen_; }

 private:
  server::Proposer* const inner_;
  int steals_;
  std::vector<int64_t> stolen_;
};

class LeaseGrantTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = NewTempDir("lease-grant");
    absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(dir_ + "/data", Options());
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    absl::StatusOr<std::unique_ptr<server::AlarmStore>> alarms =
        server::AlarmStore::Open(db_->backend());
    ASSERT_TRUE(alarms.ok()) << alarms.status();
    alarms_ = *std::move(alarms);
    applier_ = std::make_unique<server::Applier>(db_.get(), alarms_.get());
    absl::StatusOr<std::unique_ptr<server::LocalProposer>> p =
        server::LocalProposer::Open(db_.get(), applier_.get(), dir_ + "/wal", 1536 * 1024);
    ASSERT_TRUE(p.ok()) << p.status();
    proposer_ = *std::move(p);
    member_.cluster_id = 1;
    member_.member_id = 2;
  }

  // A grant of `ttl` with the id left to the service, through a proposer
  // that lets `steals` grants of the chosen id in first.
  grpc::Status Grant(int steals, etcdserverpb::LeaseGrantResponse* resp,
                     std::vector<int64_t>* stolen) {
    StealingProposer stealing(proposer_.get(), steals);
    server::QuotaGuard quota(db_->backend(), &stealing, alarms_.get(), member_.member_id, 0);
    server::LeaseService leases(db_.get(), &stealing, &quota, &member_);
    etcdserverpb::LeaseGrantRequest req;
    req.set_ttl(60);
    grpc::Status s = leases.LeaseGrant(nullptr, &req, resp);
    *stolen = stealing.stolen();
    return s;
  }

  std::string dir_;
  std::unique_ptr<DB> db_;
  std::unique_ptr<server::AlarmStore> alarms_;
  std::unique_ptr<server::Applier> applier_;
  std::unique_ptr<server::LocalProposer> proposer_;
  server::Member member_;
};

TEST_F(LeaseGrantTest, AChosenIdTakenFirstIsChosenAgain) {
  for (int steals : {1, server::LeaseService::kGrantAttempts - 1}) {
    SCOPED_TRACE(steals);
    etcdserverpb::LeaseGrantResponse resp;
    std::vector<int64_t> stolen;
    grpc::Status s = Grant(steals, &resp, &stolen);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_EQ(stolen.size(), size_t(steals));
    for (int64_t id : stolen) EXPECT_NE(resp.id(), id);
    EXPECT_EQ(resp.ttl(), 60);
    // The lease granted is the one answered, with the client's TTL; the
    // ones taken first are there too, with theirs.
    absl::StatusOr<lease::LeaseStatus> st = db_->lessor()->TimeToLive(resp.id(), false);
    ASSERT_TRUE(st.ok()) << st.status();
    EXPECT_EQ(st->granted_ttl, 60);
    for (int64_t id : stolen) {
      st = db_->lessor()->TimeToLive(id, false);
      ASSERT_TRUE(st.ok()) << st.status();
      EXPECT_EQ(st->granted_ttl, 100);
    }
  }
}

TEST_F(LeaseGrantTest, AfterEveryAttemptIsTakenTheClientHearsEtcdsError) {
  etcdserverpb::LeaseGrantResponse resp;
  std::vector<int64_t> stolen;
  grpc::Status s = Grant(server::LeaseService::kGrantAttempts, &resp, &stolen);
  EXPECT_EQ(s.error_code(), grpc::FAILED_PRECONDITION);
  EXPECT_EQ(s.error_message(), "etcdserver: lease already exists");
  EXPECT_EQ(stolen.size(), size_t(server::LeaseService::kGrantAttempts));
}

}  // namespace
}  // namespace revkv::testing
