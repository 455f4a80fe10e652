// The Lease service through a C++ gRPC client against an in-process server
// whose lessor runs on a lease::FakeClock and whose expirer passes only
// when kicked: grants (chosen and given ids, duplicates, TTL limits),
// puts and txns attaching leases, revokes and expiries deleting the keys in
// one revision, the KeepAlive stream, restart restoring leases with a
// fresh TTL, and etcd's codes and messages.
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "lease/clock.h"
#include "revkv/db.h"
#include "server/proto/rpc.grpc.pb.h"
#include "server/server.h"
#include "tests/cmd/process.h"

namespace revkv::testing {
namespace {

using namespace std::chrono_literals;
using etcdserverpb::LeaseKeepAliveRequest;
using etcdserverpb::LeaseKeepAliveResponse;

class GrpcLeaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = NewTempDir("grpc-lease") + "/data";
    Open();
  }
  void TearDown() override { Close(); }

  void Open() {
    Options o;
    o.lease.clock = &clock_;
    o.lease.min_ttl = 1;
    absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(dir_, o);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    server::ServerOptions options;
    options.listen_addresses = {"127.0.0.1:0"};
    options.member = {.cluster_id = 7, .member_id = 9, .raft_term = 2, .name = "t",
                      .client_urls = {"http://127.0.0.1:1"}};
    // Passes only when a test kicks the expirer.
    options.lease_check_interval = std::chrono::hours(1);
    absl::StatusOr<std::unique_ptr<server::Server>> s = server::Server::Start(db_.get(), options);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->ports()[0]),
                                       grpc::InsecureChannelCredentials());
    kv_ = etcdserverpb::KV::NewStub(channel);
    lease_ = etcdserverpb::Lease::NewStub(channel);
  }
  void Close() {
    if (server_) server_->Shutdown(5s);
    server_.reset();
    if (db_) {
      EXPECT_TRUE(db_->Close().ok());
    }
    db_.reset();
  }

  grpc::Status Grant(int64_t id, int64_t ttl, etcdserverpb::LeaseGrantResponse* resp) {
    grpc::ClientContext ctx;
    etcdserverpb::LeaseGrantRequest req;
    req.set_id(id);
    req.set_ttl(ttl);
    return lease_->LeaseGrant(&ctx, req, resp);
  }
  int64_t MustGrant(int64_t ttl) {
    etcdserverpb::LeaseGrantResponse resp;
    grpc::Status s = Grant(0, ttl, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.id();
  }
  grpc::Status Revoke(int64_t id, etcdserverpb::LeaseRevokeResponse* resp) {
    grpc::ClientContext ctx;
    etcdserverpb::LeaseRevokeRequest req;
    req.set_id(id);
    return lease_->LeaseRevoke(&ctx, req, resp);
  }
  etcdserverpb::LeaseTimeToLiveResponse TimeToLive(int64_t id) {
    grpc::ClientContext ctx;
    etcdserverpb::LeaseTimeToLiveRequest req;
    req.set_id(id);
    req.set_keys(true);
    etcdserverpb::LeaseTimeToLiveResponse resp;
    grpc::Status s = lease_->LeaseTimeToLive(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }
  grpc::Status Put(const std::string& k, int64_t lease, etcdserverpb::PutResponse* resp) {
    grpc::ClientContext ctx;
    etcdserverpb::PutRequest req;
    req.set_key(k);
    req.set_value("v-" + k);
    req.set_lease(lease);
    return kv_->Put(&ctx, req, resp);
  }
  void MustPut(const std::string& k, int64_t lease) {
    etcdserverpb::PutResponse resp;
    grpc::Status s = Put(k, lease, &resp);
    EXPECT_TRUE(s.ok()) << k << ": " << s.error_message();
  }
  // The key's lease, or -1 if the key is absent.
  int64_t LeaseOf(const std::string& k) {
    grpc::ClientContext ctx;
    etcdserverpb::RangeRequest req;
    req.set_key(k);
    etcdserverpb::RangeResponse resp;
    EXPECT_TRUE(kv_->Range(&ctx, req, &resp).ok());
    return resp.kvs_size() == 0 ? -1 : resp.kvs(0).lease();
  }
  static std::vector<std::string> Keys(const etcdserverpb::LeaseTimeToLiveResponse& r) {
    return {r.keys().begin(), r.keys().end()};
  }
  // Advances the clock, kicks the expirer and waits (bounded) until it has
  // revoked `n` more leases.
  bool Expire(std::chrono::nanoseconds by, uint64_t n) {
    const uint64_t before = server_->lease_expirer().revoked();
    clock_.Advance(by);
    server_->lease_expirer().Kick();
    return server_->lease_expirer().WaitRevoked(before + n, 20s);
  }

  lease::FakeClock clock_;  // outlives the DB
  std::string dir_;
  std::unique_ptr<DB> db_;
  std::unique_ptr<server::Server> server_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease_;
};

void ExpectError(const grpc::Status& s, grpc::StatusCode code, const std::string& message) {
  EXPECT_EQ(s.error_code(), code) << s.error_message();
  EXPECT_EQ(s.error_message(), message);
}

TEST_F(GrpcLeaseTest, GrantChoosesOrHonoursIdsWithEtcdsErrors) {
  etcdserverpb::LeaseGrantResponse g;
  ASSERT_TRUE(Grant(0, 60, &g).ok());
  EXPECT_EQ(g.id(), 1) << "ids are deterministic: the first is 1";
  EXPECT_EQ(g.ttl(), 60);
  EXPECT_EQ(g.header().member_id(), 9u);
  EXPECT_EQ(g.header().revision(), 1) << "a grant writes no revision";
  ASSERT_TRUE(Grant(100, 30, &g).ok());
  EXPECT_EQ(g.id(), 100);
  ExpectError(Grant(100, 30, &g), grpc::FAILED_PRECONDITION, "etcdserver: lease already exists");
  ExpectError(Grant(5, 9'000'000'001, &g), grpc::OUT_OF_RANGE, "etcdserver: too large lease TTL");
  ASSERT_TRUE(Grant(0, 0, &g).ok());
  EXPECT_EQ(g.id(), 2) << "the one after the last chosen";
  EXPECT_EQ(g.ttl(), 1) << "raised to the minimum TTL";

  etcdserverpb::LeaseRevokeResponse r;
  ExpectError(Revoke(55, &r), grpc::NOT_FOUND, "etcdserver: requested lease not found");
  etcdserverpb::LeaseTimeToLiveResponse t = TimeToLive(55);
  EXPECT_EQ(t.id(), 55);
  EXPECT_EQ(t.ttl(), -1) << "etcd answers an unknown lease with TTL -1, not an error";
  t = TimeToLive(1);
  EXPECT_EQ(t.ttl(), 60);
  EXPECT_EQ(t.grantedttl(), 60);

  grpc::ClientContext ctx;
  etcdserverpb::LeaseLeasesResponse l;
  ASSERT_TRUE(lease_->LeaseLeases(&ctx, {}, &l).ok());
  std::vector<int64_t> ids;
  for (const auto& s : l.leases()) ids.push_back(s.id());
  EXPECT_EQ(ids, (std::vector<int64_t>{2, 100, 1})) << "by expiry, soonest first";
}

TEST_F(GrpcLeaseTest, PutsAttachAndRevokeDeletesInOneRevision) {
  const int64_t l = MustGrant(60);
  MustPut("a", l);
  MustPut("b", l);
  MustPut("c", 0);
  // A txn attaches too; a put naming a missing lease fails the whole txn,
  // the put before it included.
  {
    grpc::ClientContext ctx;
    etcdserverpb::TxnRequest txn;
    auto* p = txn.add_success()->mutable_request_put();
    p->set_key("d");
    p->set_lease(l);
    etcdserverpb::TxnResponse resp;
    ASSERT_TRUE(kv_->Txn(&ctx, txn, &resp).ok());
  }
  const int64_t before = db_->Rev();
  {
    grpc::ClientContext ctx;
    etcdserverpb::TxnRequest txn;
    txn.add_success()->mutable_request_put()->set_key("e");
    auto* p = txn.add_success()->mutable_request_put();
    p->set_key("f");
    p->set_lease(999);
    etcdserverpb::TxnResponse resp;
    ExpectError(kv_->Txn(&ctx, txn, &resp), grpc::NOT_FOUND, "etcdserver: requested lease not found");
  }
  etcdserverpb::PutResponse pr;
  ExpectError(Put("g", 999, &pr), grpc::NOT_FOUND, "etcdserver: requested lease not found");
  EXPECT_EQ(db_->Rev(), before) << "nothing written";
  EXPECT_EQ(LeaseOf("e"), -1);
  // ignore_lease keeps the key's lease.
  {
    grpc::ClientContext ctx;
    etcdserverpb::PutRequest req;
    req.set_key("a");
    req.set_value("new");
    req.set_ignore_lease(true);
    ASSERT_TRUE(kv_->Put(&ctx, req, &pr).ok());
  }
  EXPECT_EQ(LeaseOf("a"), l);
  EXPECT_EQ(LeaseOf("c"), 0);
  // Moving a key to no lease detaches it.
  MustPut("b", 0);
  MustPut("b", l);
  EXPECT_EQ(Keys(TimeToLive(l)), (std::vector<std::string>{"a", "b", "d"}));

  const int64_t rev = db_->Rev();
  etcdserverpb::LeaseRevokeResponse r;
  ASSERT_TRUE(Revoke(l, &r).ok());
  EXPECT_EQ(r.header().revision(), rev + 1) << "three keys, one revision";
  EXPECT_EQ(db_->Rev(), rev + 1);
  for (const char* k : {"a", "b", "d"}) EXPECT_EQ(LeaseOf(k), -1) << k;
  EXPECT_EQ(LeaseOf("c"), 0);
  EXPECT_EQ(TimeToLive(l).ttl(), -1);
  // A lease without keys revokes without a revision.
  const int64_t empty = MustGrant(60);
  ASSERT_TRUE(Revoke(empty, &r).ok());
  EXPECT_EQ(r.header().revision(), rev + 1);
}

TEST_F(GrpcLeaseTest, KeepAliveStreamRenews) {
  const int64_t l = MustGrant(10);
  MustPut("k", l);
  grpc::ClientContext ctx;
  auto stream = lease_->LeaseKeepAlive(&ctx);
  LeaseKeepAliveRequest req;
  LeaseKeepAliveResponse resp;
  for (int i = 0; i < 3; ++i) {
    clock_.Advance(4s);  // 12 s in all: alive only because renewed
    req.set_id(l);
    ASSERT_TRUE(stream->Write(req));
    ASSERT_TRUE(stream->Read(&resp));
    EXPECT_EQ(resp.id(), l);
    EXPECT_EQ(resp.ttl(), 10);
    EXPECT_EQ(resp.header().revision(), db_->Rev());
    EXPECT_EQ(TimeToLive(l).ttl(), 10) << "a full TTL from now";
  }
  req.set_id(12345);
  ASSERT_TRUE(stream->Write(req));
  ASSERT_TRUE(stream->Read(&resp));
  EXPECT_EQ(resp.id(), 12345);
  EXPECT_EQ(resp.ttl(), 0) << "etcd answers an unknown lease with TTL 0";
  ASSERT_TRUE(stream->WritesDone());
  EXPECT_FALSE(stream->Read(&resp));
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(LeaseOf("k"), l);
}

TEST_F(GrpcLeaseTest, ExpiryRevokesThroughTheLogInOneRevision) {
  const int64_t dies = MustGrant(5);
  const int64_t renewed = MustGrant(5);
  for (const char* k : {"x", "y", "z"}) MustPut(k, dies);
  MustPut("r", renewed);
  clock_.Advance(3s);
  {
    grpc::ClientContext ctx;
    auto stream = lease_->LeaseKeepAlive(&ctx);
    LeaseKeepAliveRequest req;
    req.set_id(renewed);
    LeaseKeepAliveResponse resp;
    ASSERT_TRUE(stream->Write(req));
    ASSERT_TRUE(stream->Read(&resp));
    EXPECT_EQ(resp.ttl(), 5);
    stream->WritesDone();
    EXPECT_TRUE(stream->Finish().ok());
  }
  const int64_t rev = db_->Rev();
  // 6 s after the grants: `dies` expired, `renewed` (renewed at 3 s) not.
  // One pass handles every expired lease, so after it `renewed` must stand.
  ASSERT_TRUE(Expire(3s, 1)) << "the expirer revoked nothing in time";
  EXPECT_EQ(db_->Rev(), rev + 1) << "three keys, one revision";
  for (const char* k : {"x", "y", "z"}) EXPECT_EQ(LeaseOf(k), -1) << k;
  EXPECT_EQ(TimeToLive(dies).ttl(), -1);
  EXPECT_EQ(LeaseOf("r"), renewed);
  EXPECT_EQ(TimeToLive(renewed).ttl(), 2);
  ASSERT_TRUE(Expire(3s, 1));
  EXPECT_EQ(LeaseOf("r"), -1);
  EXPECT_EQ(db_->Rev(), rev + 2);
}

TEST_F(GrpcLeaseTest, KeepAliveOfAnExpiredLeaseAnswersOnceRevoked) {
  const int64_t l = MustGrant(2);
  clock_.Advance(3s);  // expired; the expirer has not passed yet
  LeaseKeepAliveResponse resp;
  std::thread client([&] {
    grpc::ClientContext ctx;
    auto stream = lease_->LeaseKeepAlive(&ctx);
    LeaseKeepAliveRequest req;
    req.set_id(l);
    if (stream->Write(req)) stream->Read(&resp);
    stream->WritesDone();
    stream->Finish();
  });
  // Whether the renew waits already or comes after the revoke, it must not
  // bring the lease back.
  server_->lease_expirer().Kick();
  EXPECT_TRUE(server_->lease_expirer().WaitRevoked(1, 20s));
  client.join();
  EXPECT_EQ(resp.id(), l);
  EXPECT_EQ(resp.ttl(), 0);
  EXPECT_EQ(TimeToLive(l).ttl(), -1);
}

TEST_F(GrpcLeaseTest, RestartRestoresLeasesWithAFreshTtl) {
  const int64_t l = MustGrant(100);
  MustPut("kept", l);
  clock_.Advance(90s);
  EXPECT_EQ(TimeToLive(l).ttl(), 10);
  Close();
  Open();
  etcdserverpb::LeaseTimeToLiveResponse t = TimeToLive(l);
  EXPECT_EQ(t.ttl(), 100) << "a restored lease gets its full TTL again";
  EXPECT_EQ(t.grantedttl(), 100);
  EXPECT_EQ(Keys(t), std::vector<std::string>{"kept"});
  EXPECT_EQ(MustGrant(10), l + 1) << "chosen ids continue after the restored ones";
  ASSERT_TRUE(Expire(101s, 2));
  EXPECT_EQ(LeaseOf("kept"), -1);
}

TEST_F(GrpcLeaseTest, ShutdownEndsAnOpenKeepAliveStream) {
  const int64_t l = MustGrant(10);
  grpc::ClientContext ctx;
  auto stream = lease_->LeaseKeepAlive(&ctx);
  LeaseKeepAliveRequest req;
  req.set_id(l);
  LeaseKeepAliveResponse resp;
  ASSERT_TRUE(stream->Write(req));
  ASSERT_TRUE(stream->Read(&resp));
  // The stream stays open; Shutdown cancels it after the grace and returns.
  const auto start = std::chrono::steady_clock::now();
  server_->Shutdown(200ms);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  EXPECT_FALSE(stream->Read(&resp));
  EXPECT_FALSE(stream->Finish().ok());
}

}  // namespace
}  // namespace revkv::testing
