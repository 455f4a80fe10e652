// Maintenance.Snapshot through a C++ gRPC client: etcd's stream shape
// (32 KiB chunks, remaining_bytes counting down to 0, then the SHA-256 of
// every byte as the last blob), a file that etcdctl would accept (size 32
// past a multiple of 512), and revkv's status and restore on that file --
// the restored store holds the data; a flipped byte is refused as DataLoss.
// SnapshotStream on its own: a failed send stops it, a size mismatch is
// refused.
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "server/snapshot_stream.h"
#include "snapshot/snapshot.h"
#include "tests/server/watch_test_client.h"
#include "util/sha256.h"

namespace revkv::testing {
namespace {

class GrpcSnapshotTest : public ServerFixture {};

TEST_F(GrpcSnapshotTest, StreamsEtcdFormThatRestores) {
  StartServer();
  for (int i = 0; i < 200; ++i) Put("k" + std::to_string(i), std::string(500, 'a' + i % 26));
  Delete("k0");
  grpc::ClientContext ctx;
  std::unique_ptr<grpc::ClientReader<etcdserverpb::SnapshotResponse>> reader =
      maintenance_->Snapshot(&ctx, etcdserverpb::SnapshotRequest());
  std::vector<etcdserverpb::SnapshotResponse> chunks;
  etcdserverpb::SnapshotResponse r;
  while (reader->Read(&r)) chunks.push_back(r);
  ASSERT_TRUE(reader->Finish().ok());
  ASSERT_GE(chunks.size(), 3u) << "more than one data chunk expected";
  std::string data;
  for (size_t i = 0; i + 1 < chunks.size(); ++i) {
    const size_t n = chunks[i].blob().size();
    EXPECT_LE(n, server::kSnapshotChunkBytes);
    if (i + 2 < chunks.size()) {
      EXPECT_EQ(n, server::kSnapshotChunkBytes) << "only the last data chunk is short";
    }
    data += chunks[i].blob();
  }
  // remaining_bytes counts down exactly: reconstruct it from the chunks.
  uint64_t left = data.size();
  for (size_t i = 0; i + 1 < chunks.size(); ++i) {
    left -= chunks[i].blob().size();
    EXPECT_EQ(chunks[i].remaining_bytes(), left);
  }
  const etcdserverpb::SnapshotResponse& last = chunks.back();
  EXPECT_EQ(last.remaining_bytes(), 0u);
  util::Sha256 sha;
  sha.Update(data);
  EXPECT_EQ(last.blob(), sha.Final());
  const std::string file_bytes = data + last.blob();
  EXPECT_EQ(file_bytes.size() % 512, 32u) << "etcdctl would say: sha256 checksum not found";

  const std::string dir = NewTempDir("snapgrpc");
  const std::string path = dir + "/s.db";
  std::ofstream(path, std::ios::binary) << file_bytes;
  absl::StatusOr<snapshot::Status> st = snapshot::GetStatus(path);
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_TRUE(st->sha256);
  EXPECT_EQ(st->revision, 202);
  EXPECT_EQ(st->trailer.content_size, data.size());
  ASSERT_TRUE(snapshot::Restore(path, dir + "/restored").ok());
  absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(dir + "/restored", {});
  ASSERT_TRUE(db.ok()) << db.status();
  EXPECT_EQ((*db)->Rev(), 202);
  absl::StatusOr<mvcc::RangeResult> got = (*db)->Range("k", "l", {});
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->kvs.size(), 199u);
  EXPECT_TRUE((*db)->Close().ok());

  // One flipped content byte: the digest no longer matches.
  std::string bad = file_bytes;
  bad[bad.size() / 2] ^= 0x55;
  std::ofstream(dir + "/bad.db", std::ios::binary) << bad;
  absl::StatusOr<snapshot::Status> bst = snapshot::GetStatus(dir + "/bad.db");
  EXPECT_TRUE(absl::IsDataLoss(bst.status())) << bst.status();
  EXPECT_TRUE(absl::IsDataLoss(snapshot::Restore(dir + "/bad.db", dir + "/r2")));
}

TEST(SnapshotStreamTest, FailedSendStopsAndSizeMismatchIsRefused) {
  int sends = 0;
  server::SnapshotStream s(100000, [&](const etcdserverpb::SnapshotResponse&) {
    return ++sends < 2;  // the client goes away at the second chunk
  });
  std::ostream out(&s);
  out << std::string(100000, 'x');
  out.flush();
  EXPECT_FALSE(out.good());
  EXPECT_TRUE(s.failed());
  EXPECT_EQ(sends, 2);
  EXPECT_FALSE(s.Finish());

  std::vector<etcdserverpb::SnapshotResponse> got;
  server::SnapshotStream short_one(10, [&](const etcdserverpb::SnapshotResponse& r) {
    got.push_back(r);
    return true;
  });
  std::ostream o2(&short_one);
  o2 << "12345";
  EXPECT_FALSE(short_one.Finish()) << "5 of 10 announced bytes must not end as complete";
  for (const auto& r : got) EXPECT_NE(r.blob().size(), util::kSha256Size);
}

}  // namespace
}  // namespace revkv::testing
