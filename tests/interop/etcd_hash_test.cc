// Maintenance.Hash is etcd 3.4's algorithm, checked against a real etcd
// 3.4.23 (skipped when /usr/bin/etcd is absent): after puts, a delete, a
// lease with a key and a compaction, etcd's own Maintenance.Hash answer must
// equal EtcdBackendHash of the bbolt file `etcdctl snapshot save` wrote
// (the same data: nothing writes between the two but what the ignore set
// leaves out, which the test checks by hashing again afterwards).
//
// And revkv's side of the same algorithm: Backend::EtcdHash of a store
// equals EtcdBackendHash of the store's etcd export (`snapshot save
// --format etcd`: a bbolt file written by other code, read by the bbolt
// reader), so the two implementations agree with each other.
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "interop/etcd/etcd_file.h"
#include "interop/etcd/export.h"
#include "mvcc/etcd_hash.h"
#include "revkv/db.h"
#include "server/proto/rpc.grpc.pb.h"
#include "tests/cmd/etcd_server.h"
#include "tests/cmd/process.h"

namespace revkv::interop::etcd::testing {
namespace {

using revkv::testing::EtcdServer;
using revkv::testing::NewTempDir;
using revkv::testing::ProcessResult;

class Client {
 public:
  explicit Client(const std::string& endpoint)
      : channel_(grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials())),
        kv_(etcdserverpb::KV::NewStub(channel_)),
        lease_(etcdserverpb::Lease::NewStub(channel_)),
        maintenance_(etcdserverpb::Maintenance::NewStub(channel_)) {}

  int64_t Put(const std::string& k, const std::string& v, int64_t lease = 0) {
    etcdserverpb::PutRequest req;
    req.set_key(k);
    req.set_value(v);
    req.set_lease(lease);
    etcdserverpb::PutResponse resp;
    auto ctx = Context();
    grpc::Status s = kv_->Put(ctx.get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.header().revision();
  }
  void Delete(const std::string& k) {
    etcdserverpb::DeleteRangeRequest req;
    req.set_key(k);
    etcdserverpb::DeleteRangeResponse resp;
    auto ctx = Context();
    grpc::Status s = kv_->DeleteRange(ctx.get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(resp.deleted(), 1);
  }
  int64_t Grant(int64_t ttl) {
    etcdserverpb::LeaseGrantRequest req;
    req.set_ttl(ttl);
    etcdserverpb::LeaseGrantResponse resp;
    auto ctx = Context();
    grpc::Status s = lease_->LeaseGrant(ctx.get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.id();
  }
  // physical: answers once the compaction is done, so that it writes
  // nothing afterwards.
  void Compact(int64_t rev) {
    etcdserverpb::CompactionRequest req;
    req.set_revision(rev);
    req.set_physical(true);
    etcdserverpb::CompactionResponse resp;
    auto ctx = Context();
    grpc::Status s = kv_->Compact(ctx.get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
  }
  etcdserverpb::HashResponse Hash() {
    etcdserverpb::HashResponse resp;
    auto ctx = Context();
    grpc::Status s = maintenance_->Hash(ctx.get(), etcdserverpb::HashRequest(), &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }

 private:
  static std::unique_ptr<grpc::ClientContext> Context() {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return ctx;
  }
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease_;
  std::unique_ptr<etcdserverpb::Maintenance::Stub> maintenance_;
};

// The hash of an etcd snapshot's bbolt content (the SHA-256 trailer cut
// off unread).
absl::StatusOr<uint32_t> FileHash(
    const std::string& path,
    const std::function<bool(std::string_view, std::string_view)>& ignores) {
  absl::StatusOr<EtcdFile> f = ReadEtcdFile(path, /*check_hash=*/false);
  if (!f.ok()) return f.status();
  return EtcdBackendHash(*f->bolt, ignores);
}

TEST(EtcdHash, EtcdsAnswerIsTheHashOfItsSnapshot) {
  if (!EtcdServer::Available()) GTEST_SKIP() << "etcd 3.4 is not installed";
  EtcdServer etcd;
  std::string error;
  ASSERT_TRUE(etcd.Start(&error)) << error;
  Client c(etcd.endpoint());
  for (int i = 0; i < 20; ++i) c.Put("k" + std::to_string(i), std::string(size_t(i * 37), 'v'));
  c.Put("k3", "again");
  c.Delete("k4");
  const int64_t lease = c.Grant(3600);
  ASSERT_NE(lease, 0);
  const int64_t rev = c.Put("leased", "x", lease);
  c.Compact(rev - 2);
  c.Put("after-compaction", "y");

  // etcd's answer, its snapshot, its answer again: a startup write landing
  // in between (its cluster version, say) shows as two answers that differ;
  // then try again (bounded).
  const std::string dir = NewTempDir("etcd-hash");
  etcdserverpb::HashResponse before, after;
  std::string snap;
  for (int attempt = 0; attempt < 5; ++attempt) {
    snap = dir + "/snap" + std::to_string(attempt) + ".db";
    before = c.Hash();
    ProcessResult saved = etcd.Etcdctl({"snapshot", "save", snap});
    ASSERT_EQ(saved.exit_code, 0) << saved.err;
    after = c.Hash();
    if (before.hash() == after.hash()) break;
  }
  ASSERT_EQ(before.hash(), after.hash()) << "etcd kept changing its data";
  EXPECT_EQ(before.header().revision(), rev + 1);

  absl::StatusOr<uint32_t> got = FileHash(snap, mvcc::IsEtcdHashIgnored);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, before.hash());
  // The ignore set matters: the file holds a consistent index.
  absl::StatusOr<uint32_t> everything = FileHash(snap, nullptr);
  ASSERT_TRUE(everything.ok()) << everything.status();
  EXPECT_NE(*everything, before.hash());

  // And etcd's answer moves with its data.
  c.Put("k1", "changed");
  EXPECT_NE(c.Hash().hash(), before.hash());
}

TEST(EtcdHash, RevkvsHashIsTheHashOfItsEtcdExport) {
  const std::string dir = NewTempDir("revkv-hash");
  absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(dir + "/data", {});
  ASSERT_TRUE(db.ok()) << db.status();
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE((*db)->Put("k" + std::to_string(i % 50), std::string(size_t(i), 'v')).ok());
  }
  ASSERT_TRUE((*db)->DeleteRange("k7", "").ok());
  ASSERT_TRUE((*db)->lessor()->Grant(77, 3600).ok());
  absl::StatusOr<int64_t> rev = (*db)->Put("leased", "x", 77);
  ASSERT_TRUE(rev.ok()) << rev.status();
  ASSERT_TRUE((*db)->Compact(*rev - 10).ok());
  ASSERT_TRUE((*db)->WaitCompaction().ok());

  absl::StatusOr<uint32_t> want = (*db)->backend()->EtcdHash(mvcc::IsEtcdHashIgnored);
  ASSERT_TRUE(want.ok()) << want.status();
  const std::string file = dir + "/export.db";
  ASSERT_TRUE(SaveEtcdSnapshot((*db)->store(), file).ok());
  absl::StatusOr<uint32_t> got = FileHash(file, mvcc::IsEtcdHashIgnored);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, *want);

  ASSERT_TRUE((*db)->Put("k1", "changed").ok());
  absl::StatusOr<uint32_t> changed = (*db)->backend()->EtcdHash(mvcc::IsEtcdHashIgnored);
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_NE(*changed, *want);
  EXPECT_TRUE((*db)->Close().ok());
}

}  // namespace
}  // namespace revkv::interop::etcd::testing
