// Backend::Size is etcd's database size, bbolt's high-water mark as of the
// last commit (what the quota and Status.dbSize count), not the file's
// length: it moves only when a commit allocates pages past the mark, by whole
// pages, and only Defrag lowers it. FileSize runs ahead of it, since commits
// grow the file by at least 1 MiB at a time.
#include <cstdint>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "gtest/gtest.h"
#include "tests/backend/backend_test_util.h"

namespace revkv::backend {
namespace {

using testutil::ManualConfig;
using testutil::Write;

constexpr uint64_t kMiB = 1 << 20;

absl::Status PutRange(Backend& b, int from, int to, size_t value_bytes) {
  return Write(b, [&](BatchTx& tx) {
    if (absl::Status s = tx.UnsafeCreateBucket("b"); !s.ok()) return s;
    for (int i = from; i < to; ++i) {
      std::string v(value_bytes, char('a' + i % 26));
      if (absl::Status s = tx.UnsafePut("b", "k" + std::to_string(i), v); !s.ok()) return s;
    }
    return absl::OkStatus();
  });
}

// Size() and Sizes() agree, in_use stays within size, and the size is in
// whole pages.
void ExpectConsistent(Backend& b, const char* when) {
  const uint64_t size = b.Size();
  ASSERT_OK_AND_ASSIGN(DbSizes sizes, b.Sizes());
  EXPECT_EQ(sizes.size, size) << when;
  EXPECT_LE(sizes.in_use, sizes.size) << when;
  EXPECT_GT(sizes.in_use, 0u) << when;
  EXPECT_EQ(size % b.config().page_size, 0u) << when;
  EXPECT_LE(size, b.FileSize()) << when;
}

TEST(BackendSizeTest, HighWaterGrowsByCommitsNotByTheFile) {
  ASSERT_OK_AND_ASSIGN(auto b, NewTmpBackend(ManualConfig()));
  const uint64_t fresh = b->Size();
  EXPECT_GT(fresh, 0u);
  ExpectConsistent(*b, "fresh");

  // Pending writes take no pages yet.
  ASSERT_OK(PutRange(*b, 0, 100, 100));
  EXPECT_EQ(b->Size(), fresh);
  ASSERT_OK(b->ForceCommit());
  const uint64_t first = b->Size();
  EXPECT_GT(first, fresh);
  ExpectConsistent(*b, "first commit");
  // The commit grew the file a whole step ahead of the pages it used: the
  // two figures part here, and a quota under 1 MiB must see the small one.
  EXPECT_LT(first, 64 * 1024u);
  EXPECT_GE(b->FileSize(), kMiB);

  // 2 MiB of values in 2 kB writes, a commit each: the mark follows the
  // data up, page by page, while the file jumps ahead in steps.
  uint64_t last = first;
  std::vector<uint64_t> seen = {first};
  for (int i = 0; i < 1000; ++i) {
    ASSERT_OK(PutRange(*b, 1000 + i, 1001 + i, 2000));
    ASSERT_OK(b->ForceCommit());
    const uint64_t now = b->Size();
    ASSERT_GE(now, last) << "commit " << i;
    if (now != seen.back()) seen.push_back(now);
    last = now;
  }
  ExpectConsistent(*b, "after 2 MiB");
  EXPECT_GE(last, 2 * kMiB);
  // Many small steps, not a few file-sized jumps.
  EXPECT_GT(seen.size(), 100u);

  // Deleting frees pages below the mark: in use drops, the size does not.
  ASSERT_OK(Write(*b, [](BatchTx& tx) { return tx.UnsafeDeleteBucket("b"); }));
  ASSERT_OK(b->ForceCommit());
  ASSERT_OK_AND_ASSIGN(DbSizes freed, b->Sizes());
  EXPECT_EQ(freed.size, last);
  EXPECT_LT(freed.in_use, last / 4);
  ExpectConsistent(*b, "after the delete");

  // Only a defrag brings the mark down.
  const uint64_t file_before = b->FileSize();
  DefragStats st;
  ASSERT_OK(b->Defrag(&st));
  EXPECT_LT(b->Size(), last / 4);
  EXPECT_EQ(st.size_before, file_before);  // the stats speak of the file
  EXPECT_EQ(st.size_after, b->FileSize());
  ExpectConsistent(*b, "after the defrag");
}

TEST(BackendSizeTest, TheMarkIsTheLastCommitsAndSurvivesAReopen) {
  ASSERT_OK_AND_ASSIGN(auto b, NewTmpBackend(ManualConfig()));
  ASSERT_OK(PutRange(*b, 0, 500, 1000));
  ASSERT_OK(b->ForceCommit());
  const uint64_t size = b->Size();
  ASSERT_OK_AND_ASSIGN(DbSizes sizes, b->Sizes());
  const std::string path = b->config().path;
  BackendConfig c = ManualConfig();
  c.path = path;
  c.read_only = true;
  ASSERT_OK(b->Close());
  EXPECT_EQ(b->Size(), 0u);
  EXPECT_EQ(b->FileSize(), 0u);
  EXPECT_EQ(b->Sizes().status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_OK_AND_ASSIGN(auto r, Backend::Open(c));
  EXPECT_EQ(r->Size(), size);
  ASSERT_OK_AND_ASSIGN(DbSizes reopened, r->Sizes());
  EXPECT_EQ(reopened.size, sizes.size);
  EXPECT_EQ(reopened.in_use, sizes.in_use);
  EXPECT_LT(r->Size(), r->FileSize());
}

}  // namespace
}  // namespace revkv::backend
