// Test helper: an in-process `revkv serve` (server::Server on a free
// loopback port over a fresh DB) and etcd Watch streams against it through
// the generated C++ stubs, each bounded by a deadline so that a missing
// response fails the test instead of hanging it.
//
// Thread-safety: not thread-safe.
#ifndef REVKV_TESTS_SERVER_WATCH_TEST_CLIENT_H_
#define REVKV_TESTS_SERVER_WATCH_TEST_CLIENT_H_

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "revkv/db.h"
#include "server/proto/rpc.grpc.pb.h"
#include "server/server.h"
#include "tests/cmd/process.h"

namespace revkv::testing {

class WatchClient {
 public:
  explicit WatchClient(etcdserverpb::Watch::Stub* stub,
                       std::chrono::seconds bound = std::chrono::seconds(30)) {
    ctx_.set_deadline(std::chrono::system_clock::now() + bound);
    stream_ = stub->Watch(&ctx_);
  }
  ~WatchClient() { ctx_.TryCancel(); }

  bool Send(const etcdserverpb::WatchRequest& r) { return stream_->Write(r); }
  // A create request; the created response is read and returned.
  etcdserverpb::WatchResponse Create(const etcdserverpb::WatchCreateRequest& c) {
    etcdserverpb::WatchRequest r;
    *r.mutable_create_request() = c;
    EXPECT_TRUE(Send(r));
    etcdserverpb::WatchResponse resp;
    EXPECT_TRUE(Read(&resp));
    EXPECT_TRUE(resp.created()) << resp.DebugString();
    return resp;
  }
  etcdserverpb::WatchResponse Create(const std::string& key, const std::string& end = "",
                                     int64_t start = 0) {
    etcdserverpb::WatchCreateRequest c;
    c.set_key(key);
    c.set_range_end(end);
    c.set_start_revision(start);
    return Create(c);
  }
  bool Cancel(int64_t id) {
    etcdserverpb::WatchRequest r;
    r.mutable_cancel_request()->set_watch_id(id);
    return Send(r);
  }
  bool RequestProgress() {
    etcdserverpb::WatchRequest r;
    r.mutable_progress_request();
    return Send(r);
  }
  // False once the stream ended (or the deadline passed).
  bool Read(etcdserverpb::WatchResponse* resp) { return stream_->Read(resp); }
  void CloseSend() { stream_->WritesDone(); }
  // The call's status, once Read has returned false.
  grpc::Status Finish() { return stream_->Finish(); }

 private:
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReaderWriter<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>>
      stream_;
};

class ServerFixture : public ::testing::Test {
 protected:
  void StartServer(server::ServerOptions options = {}) {
    absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(NewTempDir("grpcw") + "/data", {});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    options.listen_addresses = {"127.0.0.1:0"};
    options.member = {.cluster_id = 7, .member_id = 9, .raft_term = 2, .name = "t",
                      .client_urls = {"http://127.0.0.1:1"}};
    absl::StatusOr<std::unique_ptr<server::Server>> s = server::Server::Start(db_.get(), options);
    ASSERT_TRUE(s.ok()) << s.status();
    server_ = std::move(*s);
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 << 20);
    channel_ = grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(server_->ports()[0]),
                                         grpc::InsecureChannelCredentials(), args);
    kv_ = etcdserverpb::KV::NewStub(channel_);
    watch_ = etcdserverpb::Watch::NewStub(channel_);
    maintenance_ = etcdserverpb::Maintenance::NewStub(channel_);
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
  int64_t Delete(const std::string& k) {
    grpc::ClientContext ctx;
    etcdserverpb::DeleteRangeRequest req;
    req.set_key(k);
    etcdserverpb::DeleteRangeResponse resp;
    EXPECT_TRUE(kv_->DeleteRange(&ctx, req, &resp).ok());
    return resp.header().revision();
  }
  void Compact(int64_t rev) {
    grpc::ClientContext ctx;
    etcdserverpb::CompactionRequest c;
    c.set_revision(rev);
    c.set_physical(true);
    etcdserverpb::CompactionResponse cr;
    ASSERT_TRUE(kv_->Compact(&ctx, c, &cr).ok());
  }

  std::unique_ptr<DB> db_;
  std::unique_ptr<server::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
  std::unique_ptr<etcdserverpb::Watch::Stub> watch_;
  std::unique_ptr<etcdserverpb::Maintenance::Stub> maintenance_;
};

}  // namespace revkv::testing

#endif  // REVKV_TESTS_SERVER_WATCH_TEST_CLIENT_H_
