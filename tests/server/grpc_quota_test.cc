// The backend quota and the alarms through a C++ gRPC client, for what
// etcdctl cannot show: which check refuses a request (the size check before
// proposing, or the applier's cap while NOSPACE is raised), etcd 3.4's
// request costs (nested txn puts are not counted), read-only txns refused
// once the backend size has reached the quota, alarm requests by type and
// member, and alarms restored from the backend with the quota switched off.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "revkv/db.h"
#include "server/proto/rpc.grpc.pb.h"
#include "server/quota.h"
#include "server/server.h"
#include "tests/cmd/process.h"

namespace revkv::testing {
namespace {

using etcdserverpb::AlarmRequest;

constexpr uint64_t kMember = 9;
const char kNoSpace[] = "etcdserver: mvcc: database space exceeded";

etcdserverpb::PutRequest PutOf(const std::string& k, size_t value_bytes) {
  etcdserverpb::PutRequest p;
  p.set_key(k);
  p.set_value(std::string(value_bytes, 'v'));
  return p;
}

TEST(QuotaCostTest, AsEtcd34Estimates) {
  EXPECT_EQ(server::QuotaCost(PutOf("key", 10)), 256 + 3 + 10);
  etcdserverpb::TxnRequest t;
  *t.add_success()->mutable_request_put() = PutOf("a", 100);
  *t.add_success()->mutable_request_put() = PutOf("b", 100);
  t.add_success()->mutable_request_delete_range()->set_key("c");
  *t.add_failure()->mutable_request_put() = PutOf("c", 300);
  EXPECT_EQ(server::QuotaCost(t), 2 * (256 + 1 + 100));  // the larger branch
  t.mutable_failure(0)->mutable_request_put()->set_value(std::string(1000, 'v'));
  EXPECT_EQ(server::QuotaCost(t), 256 + 1 + 1000);
  etcdserverpb::TxnRequest nested;
  *nested.add_success()->mutable_request_txn() = t;
  EXPECT_EQ(server::QuotaCost(nested), 0);  // etcd counts top-level puts only
  EXPECT_EQ(server::QuotaCost(etcdserverpb::LeaseGrantRequest()), 64);
}

class GrpcQuotaTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = NewTempDir("quota") + "/data"; }
  void TearDown() override { Stop(); }

  // Starts a server on a fresh or reopened DB; quota: `margin` bytes above
  // the backend size (its high-water mark) now (or `absolute` when set).
  void Start(int64_t margin, std::optional<int64_t> absolute = std::nullopt) {
    absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(dir_, {});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    server::ServerOptions options;
    options.listen_addresses = {"127.0.0.1:0"};
    options.member = {.cluster_id = 7, .member_id = kMember, .raft_term = 2, .name = "t",
                      .client_urls = {"http://127.0.0.1:1"}};
    options.quota_backend_bytes = absolute ? *absolute : int64_t(db_->backend()->Size()) + margin;
    absl::StatusOr<std::unique_ptr<server::Server>> s = server::Server::Start(db_.get(), options);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->ports()[0]),
                                       grpc::InsecureChannelCredentials());
    kv_ = etcdserverpb::KV::NewStub(channel);
    lease_ = etcdserverpb::Lease::NewStub(channel);
    maintenance_ = etcdserverpb::Maintenance::NewStub(channel);
  }
  void Stop() {
    if (server_) server_->Shutdown(std::chrono::seconds(5));
    server_.reset();
    if (db_) {
      EXPECT_TRUE(db_->Close().ok());
    }
    db_.reset();
  }

  grpc::Status Put(const etcdserverpb::PutRequest& req) {
    grpc::ClientContext ctx;
    etcdserverpb::PutResponse resp;
    return kv_->Put(&ctx, req, &resp);
  }
  grpc::Status Txn(const etcdserverpb::TxnRequest& req) {
    grpc::ClientContext ctx;
    etcdserverpb::TxnResponse resp;
    return kv_->Txn(&ctx, req, &resp);
  }
  grpc::Status Alarm(AlarmRequest::AlarmAction action, uint64_t member,
                     etcdserverpb::AlarmType type, etcdserverpb::AlarmResponse* resp) {
    grpc::ClientContext ctx;
    AlarmRequest req;
    req.set_action(action);
    req.set_memberid(member);
    req.set_alarm(type);
    return maintenance_->Alarm(&ctx, req, resp);
  }
  // "member:type" of every alarm raised.
  std::vector<std::string> Alarms(etcdserverpb::AlarmType type = etcdserverpb::NONE) {
    etcdserverpb::AlarmResponse resp;
    EXPECT_TRUE(Alarm(AlarmRequest::GET, 0, type, &resp).ok());
    EXPECT_FALSE(resp.has_header());  // etcd 3.4's alarm answers carry none
    std::vector<std::string> out;
    for (const auto& a : resp.alarms()) {
      out.push_back(std::to_string(a.memberid()) + ":" + etcdserverpb::AlarmType_Name(a.alarm()));
    }
    return out;
  }
  static void ExpectCorrupt(const grpc::Status& s, const std::string& what) {
    EXPECT_EQ(s.error_code(), grpc::DATA_LOSS) << what;
    EXPECT_EQ(s.error_message(), "etcdserver: corrupt cluster") << what;
  }
  static void ExpectNoSpace(const grpc::Status& s, const std::string& what) {
    EXPECT_EQ(s.error_code(), grpc::RESOURCE_EXHAUSTED) << what;
    EXPECT_EQ(s.error_message(), kNoSpace) << what;
  }

  std::string dir_;
  std::unique_ptr<DB> db_;
  std::unique_ptr<server::Server> server_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease_;
  std::unique_ptr<etcdserverpb::Maintenance::Stub> maintenance_;
};

TEST_F(GrpcQuotaTest, SizeCheckRaisesTheAlarmAndTheApplierCapsUntilDisarmed) {
  Start(/*margin=*/1000);
  ASSERT_TRUE(Put(PutOf("a", 100)).ok());
  EXPECT_EQ(Alarms(), std::vector<std::string>{});
  // 256 + 1 + 800 does not fit in 1000: refused before proposing, alarm raised.
  ExpectNoSpace(Put(PutOf("b", 800)), "a put past the quota");
  EXPECT_EQ(Alarms(), std::vector<std::string>{"9:NOSPACE"});
  // A put that fits is refused by the applier while the alarm is raised.
  ExpectNoSpace(Put(PutOf("c", 100)), "a put under the alarm");
  etcdserverpb::TxnRequest with_put;
  *with_put.add_failure()->mutable_request_put() = PutOf("d", 1);
  ExpectNoSpace(Txn(with_put), "a txn with a put in its failure branch");
  {
    grpc::ClientContext ctx;
    etcdserverpb::LeaseGrantRequest g;
    g.set_ttl(60);
    etcdserverpb::LeaseGrantResponse resp;
    ExpectNoSpace(lease_->LeaseGrant(&ctx, g, &resp), "a lease grant");
  }
  // What etcd still applies: deletes, read-only txns, and (its quirk) puts
  // nested in a txn, which its cost estimate does not count.
  etcdserverpb::TxnRequest del;
  del.add_success()->mutable_request_delete_range()->set_key("a");
  EXPECT_TRUE(Txn(del).ok());
  etcdserverpb::TxnRequest nested;
  *nested.add_success()->mutable_request_txn()->add_success()->mutable_request_put() = PutOf("n", 1);
  EXPECT_TRUE(Txn(nested).ok());
  {
    grpc::ClientContext ctx;
    etcdserverpb::StatusResponse st;
    ASSERT_TRUE(maintenance_->Status(&ctx, etcdserverpb::StatusRequest(), &st).ok());
    ASSERT_EQ(st.errors_size(), 1);
    EXPECT_EQ(st.errors(0), "memberID:9 alarm:NOSPACE ");
  }
  // Disarming another member's alarm clears nothing.
  etcdserverpb::AlarmResponse off;
  ASSERT_TRUE(Alarm(AlarmRequest::DEACTIVATE, 8, etcdserverpb::NOSPACE, &off).ok());
  EXPECT_EQ(off.alarms_size(), 0);
  ExpectNoSpace(Put(PutOf("c", 100)), "still raised");
  ASSERT_TRUE(Alarm(AlarmRequest::DEACTIVATE, kMember, etcdserverpb::NOSPACE, &off).ok());
  ASSERT_EQ(off.alarms_size(), 1);
  EXPECT_EQ(off.alarms(0).memberid(), kMember);
  EXPECT_EQ(off.alarms(0).alarm(), etcdserverpb::NOSPACE);
  EXPECT_TRUE(Put(PutOf("c", 100)).ok());
  EXPECT_EQ(Alarms(), std::vector<std::string>{});
}

TEST_F(GrpcQuotaTest, ReadOnlyTxnIsRefusedOnceTheSizeHasReachedTheQuota) {
  Start(/*margin=*/0);  // size + 0 < quota is false
  etcdserverpb::TxnRequest read;
  read.add_success()->mutable_request_range()->set_key("a");
  ExpectNoSpace(Txn(read), "a read-only txn");
  EXPECT_EQ(Alarms(), std::vector<std::string>{"9:NOSPACE"});
  grpc::ClientContext ctx;
  etcdserverpb::RangeRequest r;
  r.set_key("a");
  etcdserverpb::RangeResponse resp;
  EXPECT_TRUE(kv_->Range(&ctx, r, &resp).ok());  // plain reads are not checked
}

TEST_F(GrpcQuotaTest, AlarmsAreFilteredByTypeAndSurviveARestartWithoutQuota) {
  Start(/*margin=*/0);
  ExpectNoSpace(Put(PutOf("a", 1)), "past the quota");
  etcdserverpb::AlarmResponse on;
  ASSERT_TRUE(Alarm(AlarmRequest::ACTIVATE, 5, etcdserverpb::CORRUPT, &on).ok());
  ASSERT_EQ(on.alarms_size(), 1);
  EXPECT_EQ(on.alarms(0).memberid(), 5u);
  EXPECT_EQ(Alarms(), (std::vector<std::string>{"9:NOSPACE", "5:CORRUPT"}));
  EXPECT_EQ(Alarms(etcdserverpb::CORRUPT), std::vector<std::string>{"5:CORRUPT"});
  Stop();
  Start(0, /*absolute=*/-1);  // no quota: only the restored alarm refuses
  EXPECT_EQ(Alarms(), (std::vector<std::string>{"9:NOSPACE", "5:CORRUPT"}));
  // CORRUPT refuses every write, before NOSPACE would.
  ExpectCorrupt(Put(PutOf("a", 1)), "restored alarms");
  etcdserverpb::AlarmResponse off;
  ASSERT_TRUE(Alarm(AlarmRequest::DEACTIVATE, 5, etcdserverpb::CORRUPT, &off).ok());
  ExpectNoSpace(Put(PutOf("a", 1)), "restored NOSPACE");
  etcdserverpb::DeleteRangeRequest del;
  del.set_key("a");
  {
    grpc::ClientContext ctx;
    etcdserverpb::DeleteRangeResponse resp;
    EXPECT_TRUE(kv_->DeleteRange(&ctx, del, &resp).ok());
  }
  ASSERT_TRUE(Alarm(AlarmRequest::ACTIVATE, 5, etcdserverpb::CORRUPT, &on).ok());
  {
    grpc::ClientContext ctx;
    etcdserverpb::DeleteRangeResponse resp;
    ExpectCorrupt(kv_->DeleteRange(&ctx, del, &resp), "a delete under CORRUPT");
  }
  ASSERT_TRUE(Alarm(AlarmRequest::DEACTIVATE, kMember, etcdserverpb::NOSPACE, &off).ok());
  Stop();
  Start(0, -1);  // a write refused under CORRUPT may be replayed: the start goes on
  EXPECT_EQ(Alarms(), std::vector<std::string>{"5:CORRUPT"});
  ASSERT_TRUE(Alarm(AlarmRequest::DEACTIVATE, 5, etcdserverpb::CORRUPT, &off).ok());
  EXPECT_TRUE(Put(PutOf("b", 1)).ok());
}

}  // namespace
}  // namespace revkv::testing
