// Maintenance.Hash of an in-process server, through a C++ gRPC client: it is
// etcd 3.4's algorithm (tests/interop/etcd_hash_test.cc checks that against
// a real etcd) over etcd's data: equal to the hash of the store's etcd
// export, the same for two stores given the same writes, moved by a write,
// kept by a defrag, by a consistent index that moves alone and by revkv's
// own key-ordered base.
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "interop/etcd/etcd_file.h"
#include "interop/etcd/export.h"
#include "mvcc/etcd_hash.h"
#include "revkv/db.h"
#include "server/proto/rpc.grpc.pb.h"
#include "server/server.h"
#include "tests/cmd/process.h"

namespace revkv::testing {
namespace {

// A DB served on a loopback port, and a client of it.
class Served {
 public:
  explicit Served(const std::string& dir) {
    absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(dir, {});
    EXPECT_TRUE(db.ok()) << db.status();
    if (!db.ok()) return;
    db_ = std::move(*db);
    server::ServerOptions options;
    options.listen_addresses = {"127.0.0.1:0"};
    options.member = {.cluster_id = 7, .member_id = 9, .raft_term = 2, .name = "t",
                      .client_urls = {"http://127.0.0.1:1"}};
    absl::StatusOr<std::unique_ptr<server::Server>> s = server::Server::Start(db_.get(), options);
    EXPECT_TRUE(s.ok()) << s.status();
    if (!s.ok()) return;
    server_ = std::move(*s);
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->ports()[0]),
                                       grpc::InsecureChannelCredentials());
    kv_ = etcdserverpb::KV::NewStub(channel);
    maintenance_ = etcdserverpb::Maintenance::NewStub(channel);
  }
  ~Served() {
    if (server_) server_->Shutdown(std::chrono::seconds(5));
    if (db_) {
      EXPECT_TRUE(db_->Close().ok());
    }
  }
  bool ok() const { return server_ != nullptr; }
  DB* db() { return db_.get(); }

  void Put(const std::string& k, const std::string& v) {
    grpc::ClientContext ctx;
    etcdserverpb::PutRequest req;
    req.set_key(k);
    req.set_value(v);
    etcdserverpb::PutResponse resp;
    grpc::Status s = kv_->Put(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
  }
  // Writes the same few changes every time.
  void Load() {
    for (int i = 0; i < 30; ++i) Put("k" + std::to_string(i % 12), std::string(size_t(i), 'x'));
    grpc::ClientContext ctx;
    etcdserverpb::DeleteRangeRequest del;
    del.set_key("k3");
    etcdserverpb::DeleteRangeResponse resp;
    EXPECT_TRUE(kv_->DeleteRange(&ctx, del, &resp).ok());
  }
  etcdserverpb::HashResponse Hash() {
    grpc::ClientContext ctx;
    etcdserverpb::HashResponse resp;
    grpc::Status s = maintenance_->Hash(&ctx, etcdserverpb::HashRequest(), &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }
  void Defragment() {
    grpc::ClientContext ctx;
    etcdserverpb::DefragmentResponse resp;
    EXPECT_TRUE(maintenance_->Defragment(&ctx, etcdserverpb::DefragmentRequest(), &resp).ok());
  }
  // The backend's etcd-algorithm hash with nothing ignored: sees every
  // change to the file's data.
  uint32_t Everything() {
    absl::StatusOr<uint32_t> h = db_->backend()->EtcdHash();
    EXPECT_TRUE(h.ok()) << h.status();
    return h.ok() ? *h : 0;
  }

 private:
  std::unique_ptr<DB> db_;
  std::unique_ptr<server::Server> server_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
  std::unique_ptr<etcdserverpb::Maintenance::Stub> maintenance_;
};

TEST(GrpcHashTest, AnswerIsTheHashOfTheEtcdExport) {
  const std::string dir = NewTempDir("grpc-hash");
  Served s(dir + "/data");
  ASSERT_TRUE(s.ok());
  s.Load();
  const etcdserverpb::HashResponse h = s.Hash();
  EXPECT_EQ(h.header().revision(), s.db()->Rev());
  EXPECT_EQ(h.header().member_id(), 9u);
  // The export is etcd's buckets only, written by the bbolt writer and
  // hashed by the bbolt reader: another path to the same number.
  ASSERT_TRUE(interop::etcd::SaveEtcdSnapshot(s.db()->store(), dir + "/export.db").ok());
  absl::StatusOr<interop::etcd::EtcdFile> f = interop::etcd::ReadEtcdFile(dir + "/export.db", true);
  ASSERT_TRUE(f.ok()) << f.status();
  absl::StatusOr<uint32_t> want = interop::etcd::EtcdBackendHash(*f->bolt, mvcc::IsEtcdHashIgnored);
  ASSERT_TRUE(want.ok()) << want.status();
  EXPECT_EQ(h.hash(), *want);
}

TEST(GrpcHashTest, SameWritesSameHashAndAWriteMovesIt) {
  const std::string dir = NewTempDir("grpc-hash");
  Served a(dir + "/a"), b(dir + "/b");
  ASSERT_TRUE(a.ok() && b.ok());
  a.Load();
  b.Load();
  const uint32_t h = a.Hash().hash();
  EXPECT_EQ(b.Hash().hash(), h);
  b.Put("k1", "other");
  EXPECT_NE(b.Hash().hash(), h);
}

TEST(GrpcHashTest, KeptByDefragConsistentIndexAndRevkvsOwnData) {
  const std::string dir = NewTempDir("grpc-hash");
  Served s(dir + "/data");
  ASSERT_TRUE(s.ok());
  s.Load();
  const uint32_t h = s.Hash().hash();

  s.Defragment();
  EXPECT_EQ(s.Hash().hash(), h) << "defrag";

  // A consistent index moving alone (a member that applied more entries
  // that changed nothing, saved by a later commit): written here directly.
  const uint32_t file_before = s.Everything();
  backend::BatchTx& tx = s.db()->backend()->batch_tx();
  tx.Lock();
  absl::Status put = tx.UnsafePut("meta", "consistent_index", std::string("\0\0\0\0\0\1\0\0", 8));
  tx.Unlock();
  ASSERT_TRUE(put.ok()) << put;
  EXPECT_NE(s.Everything(), file_before) << "the saved consistent index moved";
  EXPECT_EQ(s.Hash().hash(), h) << "consistent index";

  // A round now (one may have run in the background already): the file
  // holds a base, which only revkv's part of the ignore set leaves out.
  ASSERT_TRUE(s.db()->store()->RebuildKeyOrderBase().ok());
  EXPECT_EQ(s.Hash().hash(), h) << "key-ordered base";
  absl::StatusOr<uint32_t> etcds_ignores_only =
      s.db()->backend()->EtcdHash([](std::string_view bucket, std::string_view key) {
        return bucket == "meta" && key == "consistent_index";
      });
  ASSERT_TRUE(etcds_ignores_only.ok()) << etcds_ignores_only.status();
  EXPECT_NE(*etcds_ignores_only, h);
}

}  // namespace
}  // namespace revkv::testing
