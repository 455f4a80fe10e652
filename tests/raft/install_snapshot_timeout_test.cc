// raft/install_snapshot_timeout.h: four election timeouts for a small
// snapshot, growing with its size, saturating instead of wrapping. The
// behaviour it fixes is tested end to end by
// tests/server/cluster_snapshot_catchup_test.cc.
#include "raft/install_snapshot_timeout.h"

#include <limits>

#include "gtest/gtest.h"

namespace revkv::cluster {
namespace {

TEST(InstallSnapshotTimeoutTest, FourElectionsForASmallSnapshot) {
  EXPECT_EQ(InstallSnapshotTimeoutMs(1000, 0), 4000u);
  EXPECT_EQ(InstallSnapshotTimeoutMs(500, 64 << 10), 2000u + (64u << 10) / 8388);
  // Well under raft 0.15's 30 s with etcd's default election timeout.
  EXPECT_LT(InstallSnapshotTimeoutMs(1000, 1 << 20), 30000u);
}

TEST(InstallSnapshotTimeoutTest, GrowsWithTheSnapshot) {
  // About a second per 8 MiB: 1 GiB gets two minutes on top.
  const unsigned gib = InstallSnapshotTimeoutMs(1000, uint64_t{1} << 30);
  EXPECT_GE(gib, 4000u + 128000u);
  EXPECT_LE(gib, 4000u + 129000u);
  EXPECT_LT(InstallSnapshotTimeoutMs(1000, uint64_t{1} << 30),
            InstallSnapshotTimeoutMs(1000, uint64_t{2} << 30));
}

TEST(InstallSnapshotTimeoutTest, SaturatesAtRaftsUnsigned) {
  constexpr unsigned kMax = std::numeric_limits<unsigned>::max();
  EXPECT_EQ(InstallSnapshotTimeoutMs(kMax, 0), kMax);
  EXPECT_EQ(InstallSnapshotTimeoutMs(1000, std::numeric_limits<uint64_t>::max()), kMax);
}

}  // namespace
}  // namespace revkv::cluster
