// The server through a C++ gRPC client (etcd's generated stubs of our
// protos): odd field combinations etcdctl never sends, malformed and
// oversized requests, and the exact gRPC codes and messages etcd answers.
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "revkv/db.h"
#include "server/proto/rpc.grpc.pb.h"
#include "server/server.h"
#include "tests/cmd/process.h"

namespace revkv::testing {
namespace {

using etcdserverpb::Compare;
using etcdserverpb::RangeRequest;

class GrpcKvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(NewTempDir("grpc") + "/data", {});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    server::ServerOptions options;
    options.listen_addresses = {"127.0.0.1:0"};
    options.member = {.cluster_id = 7, .member_id = 9, .raft_term = 2, .name = "t",
                      .client_urls = {"http://127.0.0.1:1"}};
    absl::StatusOr<std::unique_ptr<server::Server>> s = server::Server::Start(db_.get(), options);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
    grpc::ChannelArguments args;
    args.SetMaxSendMessageSize(64 << 20);
    channel_ = grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(server_->ports()[0]),
                                         grpc::InsecureChannelCredentials(), args);
    kv_ = etcdserverpb::KV::NewStub(channel_);
    maintenance_ = etcdserverpb::Maintenance::NewStub(channel_);
    cluster_ = etcdserverpb::Cluster::NewStub(channel_);
  }
  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::seconds(5));
    if (db_) {
      EXPECT_TRUE(db_->Close().ok());
    }
  }

  int64_t Put(const std::string& k, const std::string& v) {
    grpc::ClientContext ctx;
    etcdserverpb::PutRequest req;
    req.set_key(k);
    req.set_value(v);
    etcdserverpb::PutResponse resp;
    grpc::Status s = kv_->Put(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.header().revision();
  }
  grpc::Status Range(const RangeRequest& req, etcdserverpb::RangeResponse* resp) {
    grpc::ClientContext ctx;
    return kv_->Range(&ctx, req, resp);
  }
  grpc::Status PutReq(const etcdserverpb::PutRequest& req, etcdserverpb::PutResponse* resp) {
    grpc::ClientContext ctx;
    return kv_->Put(&ctx, req, resp);
  }
  grpc::Status Txn(const etcdserverpb::TxnRequest& req, etcdserverpb::TxnResponse* resp) {
    grpc::ClientContext ctx;
    return kv_->Txn(&ctx, req, resp);
  }
  static std::vector<std::string> Keys(const etcdserverpb::RangeResponse& r) {
    std::vector<std::string> out;
    for (const auto& kv : r.kvs()) out.push_back(kv.key());
    return out;
  }

  std::unique_ptr<DB> db_;
  std::unique_ptr<server::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
  std::unique_ptr<etcdserverpb::Maintenance::Stub> maintenance_;
  std::unique_ptr<etcdserverpb::Cluster::Stub> cluster_;
};

void ExpectError(const grpc::Status& s, grpc::StatusCode code, const std::string& message) {
  EXPECT_EQ(s.error_code(), code) << s.error_message();
  EXPECT_EQ(s.error_message(), message);
}

TEST_F(GrpcKvTest, HeadersCarryTheMember) {
  grpc::ClientContext ctx;
  etcdserverpb::PutRequest req;
  req.set_key("a");
  etcdserverpb::PutResponse resp;
  ASSERT_TRUE(kv_->Put(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.header().cluster_id(), 7u);
  EXPECT_EQ(resp.header().member_id(), 9u);
  EXPECT_EQ(resp.header().raft_term(), 2u);
  EXPECT_EQ(resp.header().revision(), 2);
}

TEST_F(GrpcKvTest, RangeFiltersCountBeforePruning) {
  Put("k1", "a");  // rev 2
  Put("k2", "b");  // rev 3
  Put("k3", "c");  // rev 4
  Put("k1", "d");  // rev 5: k1 mod 5, create 2
  RangeRequest req;
  req.set_key("k");
  req.set_range_end("l");
  req.set_min_mod_revision(4);
  etcdserverpb::RangeResponse resp;
  ASSERT_TRUE(Range(req, &resp).ok());
  EXPECT_EQ(Keys(resp), (std::vector<std::string>{"k1", "k3"}));
  EXPECT_EQ(resp.count(), 3);  // etcd counts before its filters
  req.clear_min_mod_revision();
  req.set_max_create_revision(3);
  req.set_min_create_revision(3);
  ASSERT_TRUE(Range(req, &resp).ok());
  EXPECT_EQ(Keys(resp), (std::vector<std::string>{"k2"}));
  req.clear_min_create_revision();
  req.clear_max_create_revision();
  req.set_max_mod_revision(4);
  req.set_limit(1);
  ASSERT_TRUE(Range(req, &resp).ok());
  EXPECT_EQ(Keys(resp), (std::vector<std::string>{"k2"}));
  EXPECT_TRUE(resp.more());
}

TEST_F(GrpcKvTest, RangeEndFormsSortAndCounts) {
  Put("a", "3");
  Put("b", "1");
  Put("c", "2");
  RangeRequest req;
  etcdserverpb::RangeResponse resp;
  req.set_key(std::string(1, '\0'));
  req.set_range_end(std::string(1, '\0'));  // every key
  ASSERT_TRUE(Range(req, &resp).ok());
  EXPECT_EQ(Keys(resp), (std::vector<std::string>{"a", "b", "c"}));
  req.set_key("b");  // every key >= b
  ASSERT_TRUE(Range(req, &resp).ok());
  EXPECT_EQ(Keys(resp), (std::vector<std::string>{"b", "c"}));
  req.set_key("c");
  req.set_range_end("a");  // end before key: nothing, no error
  ASSERT_TRUE(Range(req, &resp).ok());
  EXPECT_EQ(resp.kvs_size(), 0);
  req.set_key("a");
  req.set_range_end("z");
  req.set_sort_target(RangeRequest::VALUE);
  req.set_sort_order(RangeRequest::DESCEND);
  req.set_limit(2);
  ASSERT_TRUE(Range(req, &resp).ok());
  EXPECT_EQ(Keys(resp), (std::vector<std::string>{"a", "c"}));
  EXPECT_TRUE(resp.more());
  EXPECT_EQ(resp.count(), 3);
  req.set_count_only(true);
  ASSERT_TRUE(Range(req, &resp).ok());
  EXPECT_EQ(resp.kvs_size(), 0);
  EXPECT_EQ(resp.count(), 3);
  req.set_count_only(false);
  req.set_keys_only(true);
  req.set_serializable(true);
  ASSERT_TRUE(Range(req, &resp).ok());
  ASSERT_EQ(resp.kvs_size(), 2);
  EXPECT_EQ(resp.kvs(0).value(), "");
  EXPECT_EQ(resp.kvs(0).version(), 1);
}

TEST_F(GrpcKvTest, RangeErrors) {
  Put("a", "1");
  Put("a", "2");
  RangeRequest req;
  etcdserverpb::RangeResponse resp;
  ExpectError(Range(req, &resp), grpc::INVALID_ARGUMENT, "etcdserver: key is not provided");
  req.set_key("a");
  req.set_revision(100);
  ExpectError(Range(req, &resp), grpc::OUT_OF_RANGE,
              "etcdserver: mvcc: required revision is a future revision");
  req.set_revision(0);
  req.set_sort_order(RangeRequest::SortOrder(9));
  ExpectError(Range(req, &resp), grpc::INVALID_ARGUMENT, "etcdserver: invalid sort option");
  req.set_sort_order(RangeRequest::NONE);
  req.set_sort_target(RangeRequest::SortTarget(-1));
  ExpectError(Range(req, &resp), grpc::INVALID_ARGUMENT, "etcdserver: invalid sort option");

  grpc::ClientContext ctx;
  etcdserverpb::CompactionRequest c;
  c.set_revision(3);
  c.set_physical(true);
  etcdserverpb::CompactionResponse cr;
  ASSERT_TRUE(kv_->Compact(&ctx, c, &cr).ok());
  EXPECT_EQ(cr.header().revision(), 3);
  req = RangeRequest();
  req.set_key("a");
  req.set_revision(2);
  ExpectError(Range(req, &resp), grpc::OUT_OF_RANGE,
              "etcdserver: mvcc: required revision has been compacted");
  req.set_revision(3);
  ASSERT_TRUE(Range(req, &resp).ok());
  EXPECT_EQ(resp.kvs(0).value(), "2");
  grpc::ClientContext ctx2;
  ExpectError(kv_->Compact(&ctx2, c, &cr), grpc::OUT_OF_RANGE,
              "etcdserver: mvcc: required revision has been compacted");
}

TEST_F(GrpcKvTest, PutFieldCombinations) {
  etcdserverpb::PutRequest req;
  etcdserverpb::PutResponse resp;
  req.set_key("k");
  req.set_ignore_value(true);
  ExpectError(PutReq(req, &resp), grpc::INVALID_ARGUMENT, "etcdserver: key not found");
  req.set_value("v");
  ExpectError(PutReq(req, &resp), grpc::INVALID_ARGUMENT, "etcdserver: value is provided");
  req = etcdserverpb::PutRequest();
  req.set_key("k");
  req.set_lease(5);
  ExpectError(PutReq(req, &resp), grpc::NOT_FOUND, "etcdserver: requested lease not found");
  req.set_ignore_lease(true);
  ExpectError(PutReq(req, &resp), grpc::INVALID_ARGUMENT, "etcdserver: lease is provided");
  req.clear_lease();
  ExpectError(PutReq(req, &resp), grpc::INVALID_ARGUMENT, "etcdserver: key not found");

  Put("k", "v1");
  req = etcdserverpb::PutRequest();
  req.set_key("k");
  req.set_ignore_value(true);
  req.set_prev_kv(true);
  ASSERT_TRUE(PutReq(req, &resp).ok());
  EXPECT_EQ(resp.prev_kv().value(), "v1");
  req = etcdserverpb::PutRequest();
  req.set_key("k");
  req.set_ignore_lease(true);
  req.set_value("v2");
  ASSERT_TRUE(PutReq(req, &resp).ok());
  RangeRequest get;
  get.set_key("k");
  etcdserverpb::RangeResponse got;
  ASSERT_TRUE(Range(get, &got).ok());
  ASSERT_EQ(got.kvs_size(), 1);
  EXPECT_EQ(got.kvs(0).value(), "v2");
  EXPECT_EQ(got.kvs(0).version(), 3);
}

Compare Cmp(const std::string& key, Compare::CompareTarget t, Compare::CompareResult r) {
  Compare c;
  c.set_key(key);
  c.set_target(t);
  c.set_result(r);
  return c;
}

TEST_F(GrpcKvTest, TxnCompareTargetsResultsAndRanges) {
  Put("p/1", "x");  // 2
  Put("p/2", "y");  // 3
  struct Case {
    Compare c;
    bool want;
  };
  std::vector<Case> cases;
  Compare c = Cmp("p/", Compare::VERSION, Compare::EQUAL);
  c.set_range_end("p0");
  c.set_version(1);
  cases.push_back({c, true});  // every key of the range has version 1
  c = Cmp("p/", Compare::MOD, Compare::GREATER);
  c.set_range_end("p0");
  c.set_mod_revision(2);
  cases.push_back({c, false});  // p/1's mod revision is not > 2
  c = Cmp("p/1", Compare::VALUE, Compare::NOT_EQUAL);
  c.set_value("y");
  cases.push_back({c, true});
  c = Cmp("nosuch", Compare::VALUE, Compare::NOT_EQUAL);
  c.set_value("y");
  cases.push_back({c, false});  // a value compare on no key fails
  c = Cmp("nosuch", Compare::CREATE, Compare::EQUAL);
  c.set_create_revision(0);
  cases.push_back({c, true});
  c = Cmp("p/1", Compare::LEASE, Compare::EQUAL);
  c.set_lease(0);
  cases.push_back({c, true});
  c = Cmp("p/2", Compare::CREATE, Compare::LESS);
  c.set_value("zzz");  // another target's field: compares against 0
  cases.push_back({c, false});
  c = Cmp("p/", Compare::VERSION, Compare::EQUAL);
  c.set_range_end(std::string(1, '\0'));  // every key >= p/
  c.set_version(1);
  cases.push_back({c, true});
  for (size_t i = 0; i < cases.size(); ++i) {
    etcdserverpb::TxnRequest t;
    *t.add_compare() = cases[i].c;
    etcdserverpb::TxnResponse resp;
    ASSERT_TRUE(Txn(t, &resp).ok()) << i;
    EXPECT_EQ(resp.succeeded(), cases[i].want) << "case " << i;
    EXPECT_EQ(resp.header().revision(), 3) << "a txn without ops writes nothing";
  }
}

TEST_F(GrpcKvTest, NestedTxn) {
  Put("x", "1");  // 2
  etcdserverpb::TxnRequest t;
  auto* put = t.add_success()->mutable_request_put();
  put->set_key("y");
  put->set_value("new");
  etcdserverpb::TxnRequest* inner = t.add_success()->mutable_request_txn();
  // Evaluated against the store as the outer txn starts: y is missing then.
  Compare c = Cmp("y", Compare::VERSION, Compare::EQUAL);
  c.set_version(0);
  *inner->add_compare() = c;
  inner->add_success()->mutable_request_range()->set_key("y");
  auto* del = inner->add_success()->mutable_request_delete_range();
  del->set_key("x");
  del->set_prev_kv(true);
  inner->add_failure()->mutable_request_put()->set_key("never");
  etcdserverpb::TxnResponse resp;
  grpc::Status s = Txn(t, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(resp.succeeded());
  EXPECT_EQ(resp.header().revision(), 3);
  ASSERT_EQ(resp.responses_size(), 2);
  EXPECT_EQ(resp.responses(0).response_put().header().revision(), 3);
  const etcdserverpb::TxnResponse& in = resp.responses(1).response_txn();
  EXPECT_TRUE(in.succeeded());
  EXPECT_EQ(in.header().revision(), 0);
  ASSERT_EQ(in.responses_size(), 2);
  ASSERT_EQ(in.responses(0).response_range().kvs_size(), 1);  // sees the outer put
  EXPECT_EQ(in.responses(0).response_range().kvs(0).value(), "new");
  EXPECT_EQ(in.responses(1).response_delete_range().deleted(), 1);
  EXPECT_EQ(in.responses(1).response_delete_range().prev_kvs(0).value(), "1");

  // Both branches of a nested txn may put the same key; the outer one may not.
  etcdserverpb::TxnRequest d;
  etcdserverpb::TxnRequest* n = d.add_success()->mutable_request_txn();
  n->add_success()->mutable_request_put()->set_key("z");
  n->add_failure()->mutable_request_put()->set_key("z");
  ASSERT_TRUE(Txn(d, &resp).ok());
  d.add_success()->mutable_request_put()->set_key("z");
  ExpectError(Txn(d, &resp), grpc::INVALID_ARGUMENT,
              "etcdserver: duplicate key given in txn request");
  etcdserverpb::TxnRequest r;
  auto* dr = r.add_failure()->mutable_request_delete_range();
  dr->set_key("a");
  dr->set_range_end("c");
  r.add_failure()->mutable_request_txn()->add_success()->mutable_request_put()->set_key("b");
  ExpectError(Txn(r, &resp), grpc::INVALID_ARGUMENT,
              "etcdserver: duplicate key given in txn request");
}

TEST_F(GrpcKvTest, TxnLimitsAndErrorsApplyNothing) {
  etcdserverpb::TxnRequest t;
  for (int i = 0; i < 128; ++i) {
    auto* p = t.add_success()->mutable_request_put();
    p->set_key("k" + std::to_string(i));
  }
  etcdserverpb::TxnResponse resp;
  ASSERT_TRUE(Txn(t, &resp).ok());
  EXPECT_EQ(resp.header().revision(), 2);
  t.add_success()->mutable_request_put()->set_key("k128");
  ExpectError(Txn(t, &resp), grpc::INVALID_ARGUMENT,
              "etcdserver: too many operations in txn request");

  etcdserverpb::TxnRequest f;
  f.add_success()->mutable_request_put()->set_key("ok");
  f.add_success()->mutable_request_range()->set_key("k1");
  f.mutable_success(1)->mutable_request_range()->set_revision(99);
  ExpectError(Txn(f, &resp), grpc::OUT_OF_RANGE,
              "etcdserver: mvcc: required revision is a future revision");
  RangeRequest get;
  get.set_key("ok");
  etcdserverpb::RangeResponse got;
  ASSERT_TRUE(Range(get, &got).ok());
  EXPECT_EQ(got.kvs_size(), 0) << "a failed txn applies nothing";
  EXPECT_EQ(got.header().revision(), 2);

  etcdserverpb::TxnRequest e;
  e.add_compare()->set_target(Compare::VALUE);
  ExpectError(Txn(e, &resp), grpc::INVALID_ARGUMENT, "etcdserver: key is not provided");
}

TEST_F(GrpcKvTest, OversizedAndMalformedRequests) {
  etcdserverpb::PutRequest req;
  etcdserverpb::PutResponse resp;
  req.set_key("big");
  // Over --max-request-bytes (1.5 MiB) but within gRPC's limit (+512 KiB):
  // etcd's own error.
  req.set_value(std::string(1600 * 1024, 'x'));
  ExpectError(PutReq(req, &resp), grpc::INVALID_ARGUMENT, "etcdserver: request is too large");
  // Over gRPC's limit: refused by the transport.
  req.set_value(std::string(3 << 20, 'x'));
  EXPECT_EQ(PutReq(req, &resp).error_code(), grpc::RESOURCE_EXHAUSTED);
  // Bytes that are no PutRequest.
  grpc::GenericStub generic(channel_);
  grpc::ClientContext ctx;
  const std::string junk = "\xff\xff\xff\xff\x0f";
  grpc::Slice slice(junk);
  grpc::ByteBuffer in(&slice, 1), out;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  grpc::Status status;
  generic.UnaryCall(&ctx, "/etcdserverpb.KV/Put", grpc::StubOptions(), &in, &out,
                    [&](grpc::Status s) {
                      std::lock_guard<std::mutex> l(mu);
                      status = s;
                      done = true;
                      cv.notify_all();
                    });
  {
    std::unique_lock<std::mutex> l(mu);
    ASSERT_TRUE(cv.wait_for(l, std::chrono::seconds(20), [&] { return done; }));
  }
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.error_code(), grpc::UNIMPLEMENTED);
  // Still serving, nothing written.
  EXPECT_EQ(Put("after", "1"), 2);
}

TEST_F(GrpcKvTest, MaintenanceAndCluster) {
  Put("a", "1");
  Put("a", "2");
  {
    grpc::ClientContext ctx;
    etcdserverpb::StatusResponse st;
    ASSERT_TRUE(maintenance_->Status(&ctx, etcdserverpb::StatusRequest(), &st).ok());
    EXPECT_EQ(st.version(), "3.4.23");
    EXPECT_EQ(st.leader(), 9u);
    EXPECT_EQ(st.raftindex(), 2u);  // two proposals
    EXPECT_EQ(st.raftappliedindex(), 2u);
    EXPECT_EQ(st.raftterm(), 2u);
    EXPECT_GT(st.dbsize(), 0);
    EXPECT_GT(st.dbsizeinuse(), 0);
    EXPECT_LE(st.dbsizeinuse(), st.dbsize());
    EXPECT_EQ(st.header().revision(), 3);
  }
  etcdserverpb::HashKVResponse h1, h2;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(maintenance_->HashKV(&ctx, etcdserverpb::HashKVRequest(), &h1).ok());
    EXPECT_EQ(h1.compact_revision(), -1);
    EXPECT_EQ(h1.header().revision(), 3);
  }
  {
    grpc::ClientContext ctx;
    etcdserverpb::DefragmentResponse d;
    ASSERT_TRUE(maintenance_->Defragment(&ctx, etcdserverpb::DefragmentRequest(), &d).ok());
  }
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(maintenance_->HashKV(&ctx, etcdserverpb::HashKVRequest(), &h2).ok());
    EXPECT_EQ(h1.hash(), h2.hash()) << "defrag keeps the keyspace";
  }
  {
    grpc::ClientContext ctx;
    etcdserverpb::HashKVRequest req;
    req.set_revision(10);
    ExpectError(maintenance_->HashKV(&ctx, req, &h2), grpc::OUT_OF_RANGE,
                "etcdserver: mvcc: required revision is a future revision");
  }
  {
    grpc::ClientContext ctx;
    etcdserverpb::HashResponse h;
    ASSERT_TRUE(maintenance_->Hash(&ctx, etcdserverpb::HashRequest(), &h).ok());
    EXPECT_EQ(h.header().member_id(), 9u);
  }
  {
    grpc::ClientContext ctx;
    etcdserverpb::AlarmResponse a;
    ASSERT_TRUE(maintenance_->Alarm(&ctx, etcdserverpb::AlarmRequest(), &a).ok());
    EXPECT_EQ(a.alarms_size(), 0);
  }
  {
    grpc::ClientContext ctx;
    etcdserverpb::MemberListResponse m;
    ASSERT_TRUE(cluster_->MemberList(&ctx, etcdserverpb::MemberListRequest(), &m).ok());
    ASSERT_EQ(m.members_size(), 1);
    EXPECT_EQ(m.members(0).id(), 9u);
    EXPECT_EQ(m.members(0).name(), "t");
    EXPECT_EQ(m.members(0).clienturls(0), "http://127.0.0.1:1");
    EXPECT_EQ(m.header().cluster_id(), 7u);
  }
  {
    // A read-only txn is not proposed: the raft index stays (at the two
    // puts' entries and the alarm GET's, a log entry as in etcd 3.4).
    etcdserverpb::TxnRequest t;
    t.add_success()->mutable_request_range()->set_key("a");
    etcdserverpb::TxnResponse resp;
    ASSERT_TRUE(Txn(t, &resp).ok());
    grpc::ClientContext ctx;
    etcdserverpb::StatusResponse st;
    ASSERT_TRUE(maintenance_->Status(&ctx, etcdserverpb::StatusRequest(), &st).ok());
    EXPECT_EQ(st.raftindex(), 3u);
  }
  {
    grpc::ClientContext ctx;
    etcdserverpb::SnapshotRequest req;
    auto reader = maintenance_->Snapshot(&ctx, req);
    etcdserverpb::SnapshotResponse r, last;
    while (reader->Read(&r)) last = r;
    // Served now (grpc_snapshot_test): ends with the 32-byte SHA-256.
    EXPECT_TRUE(reader->Finish().ok());
    EXPECT_EQ(last.blob().size(), 32u);
  }
  {
    grpc::ClientContext ctx;
    etcdserverpb::MoveLeaderResponse resp;
    EXPECT_EQ(maintenance_->MoveLeader(&ctx, etcdserverpb::MoveLeaderRequest(), &resp).error_code(),
              grpc::UNIMPLEMENTED);
  }
}

}  // namespace
}  // namespace revkv::testing
