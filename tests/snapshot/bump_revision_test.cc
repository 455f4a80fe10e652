// Restore's --bump-revision at the top of the revision space: a bump that
// would pass INT64_MAX is refused and leaves nothing behind; a bump to just
// below it gives a store that takes one more write (at INT64_MAX) and then
// refuses every write with mvcc's ErrRevisionExhausted, with no revision
// ever wrapping negative -- also across a reopen, a hash and a compaction.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "util/crc32c.h"
#include "mvcc/errors.h"
#include "mvcc/store.h"
#include "revkv/db.h"
#include "snapshot/snapshot.h"

namespace revkv::snapshot {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

std::string TempDir() {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/bump-XXXXXX";
  EXPECT_NE(mkdtemp(tmpl.data()), nullptr);
  return tmpl;
}

class BumpRevisionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = TempDir();
    file_ = root_ + "/snap.db";
    auto d = DB::Open(root_ + "/data", {});
    ASSERT_TRUE(d.ok()) << d.status();
    mvcc::Store* s = (*d)->store();
    ASSERT_TRUE(s->Put("a", "1").ok());
    ASSERT_TRUE(s->Put("b", "2").ok());
    ASSERT_TRUE(s->DeleteRange("a", "").ok());
    latest_ = s->Rev();
    ASSERT_TRUE(Save(s, file_).ok());
    ASSERT_TRUE((*d)->Close().ok());
  }

  absl::Status RestoreWithBump(int64_t bump, const std::string& target) {
    RestoreOptions o;
    o.bump_revision = bump;
    o.mark_compacted = true;
    return Restore(file_, target, o);
  }

  // Whether any restore temporary directory was left in root_.
  bool TempLeft() const {
    for (const auto& e : fs::directory_iterator(root_)) {
      if (e.path().filename().string().find(".restore-tmp-") != std::string::npos) return true;
    }
    return false;
  }

  std::string root_, file_;
  int64_t latest_ = 0;
};

TEST_F(BumpRevisionTest, BumpPastTheLargestRevisionIsRefusedAndWritesNothing) {
  for (int64_t bump : {kMax, kMax - latest_ + 1, kMax - 1}) {
    const std::string target = root_ + "/t" + std::to_string(bump);
    absl::Status s = RestoreWithBump(bump, target);
    EXPECT_TRUE(IsBumpRevisionOverflow(s)) << bump << ": " << s;
    EXPECT_FALSE(fs::exists(target)) << bump;
    EXPECT_FALSE(TempLeft()) << bump;
  }
  // An existing empty target stays as it was.
  fs::create_directories(root_ + "/empty");
  EXPECT_TRUE(IsBumpRevisionOverflow(RestoreWithBump(kMax, root_ + "/empty")));
  EXPECT_TRUE(fs::is_empty(root_ + "/empty"));
}

TEST_F(BumpRevisionTest, BumpToExactlyTheLargestRevisionIsAppliedAndRefusesWrites) {
  const std::string target = root_ + "/full";
  ASSERT_TRUE(RestoreWithBump(kMax - latest_, target).ok());
  auto d = DB::Open(target, {});
  ASSERT_TRUE(d.ok()) << d.status();
  mvcc::Store* s = (*d)->store();
  EXPECT_EQ(s->Rev(), kMax);
  absl::StatusOr<int64_t> put = s->Put("c", "3");
  EXPECT_TRUE(mvcc::IsRevisionExhausted(put.status())) << put.status();
  EXPECT_EQ(s->Rev(), kMax);
}

TEST_F(BumpRevisionTest, BumpToJustBelowTheLargestTakesOnePutThenRefuses) {
  const std::string target = root_ + "/edge";
  ASSERT_TRUE(RestoreWithBump(kMax - 1 - latest_, target).ok());
  auto d = DB::Open(target, {});
  ASSERT_TRUE(d.ok()) << d.status();
  mvcc::Store* s = (*d)->store();
  ASSERT_EQ(s->Rev(), kMax - 1);
  EXPECT_EQ(s->CompactRev(), kMax - 1);
  absl::StatusOr<mvcc::HashResult> before = s->HashByRev(0);
  ASSERT_TRUE(before.ok()) << before.status();

  absl::StatusOr<int64_t> put = s->Put("x", "last");
  ASSERT_TRUE(put.ok()) << put.status();
  EXPECT_EQ(*put, kMax);
  EXPECT_EQ(s->Rev(), kMax);

  // Every kind of write is refused from now on, and changes nothing.
  absl::StatusOr<int64_t> again = s->Put("y", "refused");
  EXPECT_TRUE(mvcc::IsRevisionExhausted(again.status())) << again.status();
  auto del = s->DeleteRange("b", "");
  EXPECT_TRUE(mvcc::IsRevisionExhausted(del.status())) << del.status();
  {
    absl::StatusOr<std::unique_ptr<mvcc::TxnWrite>> txn = s->Write();
    ASSERT_TRUE(txn.ok()) << txn.status();
    EXPECT_TRUE(mvcc::IsRevisionExhausted((*txn)->Put("z", "refused").status()));
    EXPECT_TRUE((*txn)->End().ok());
  }
  EXPECT_EQ(s->Rev(), kMax);

  // What the store holds: b as restored, x at INT64_MAX, nothing else.
  absl::StatusOr<mvcc::RangeResult> all = s->Range("a", "z", {});
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->kvs.size(), 2u);
  EXPECT_EQ(all->kvs[0].key, "b");
  EXPECT_EQ(all->kvs[1].key, "x");
  EXPECT_EQ(all->kvs[1].mod_revision, kMax);
  EXPECT_EQ(all->kvs[1].create_revision, kMax);
  EXPECT_EQ(all->rev, kMax);
  for (const mvcc::KeyValue& kv : all->kvs) {
    EXPECT_GT(kv.mod_revision, 0) << kv.key;
    EXPECT_GT(kv.create_revision, 0) << kv.key;
  }

  // The hash at INT64_MAX counts the record written there (the hash at the
  // compacted revision below it is refused, as etcd's).
  absl::StatusOr<mvcc::HashResult> at_max = s->HashByRev(0);
  ASSERT_TRUE(at_max.ok()) << at_max.status();
  EXPECT_EQ(at_max->rev, kMax);
  EXPECT_EQ(s->HashByRev(kMax)->hash, at_max->hash);
  EXPECT_NE(at_max->hash, before->hash);
  EXPECT_NE(at_max->hash, util::Crc32c(mvcc::kKeyBucket));  // not an empty history

  // A compaction at INT64_MAX keeps the live data.
  ASSERT_TRUE(s->Compact(kMax).ok());
  ASSERT_TRUE(s->WaitCompaction().ok());
  absl::StatusOr<mvcc::RangeResult> x = s->Range("x", "", {});
  ASSERT_TRUE(x.ok() && x->kvs.size() == 1);
  EXPECT_EQ(x->kvs[0].value, "last");
  EXPECT_EQ(s->HashByRev(0)->hash, at_max->hash);

  // Reopened, the store is where it was and still refuses.
  ASSERT_TRUE((*d)->Close().ok());
  d = DB::Open(target, {});
  ASSERT_TRUE(d.ok()) << d.status();
  s = (*d)->store();
  EXPECT_EQ(s->Rev(), kMax);
  EXPECT_EQ(s->CompactRev(), kMax);
  EXPECT_TRUE(mvcc::IsRevisionExhausted(s->Put("y", "refused").status()));
  x = s->Range("x", "", {});
  ASSERT_TRUE(x.ok() && x->kvs.size() == 1);
  EXPECT_EQ(x->kvs[0].mod_revision, kMax);
}

}  // namespace
}  // namespace revkv::snapshot
