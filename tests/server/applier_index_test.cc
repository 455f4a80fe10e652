// The applier's index in the backend: a backend commit that holds an
// entry's writes holds that entry's index as the consistent index, even
// when the entries' indexes skip (a Raft log's own entries -- barriers,
// configuration changes -- never reach the applier). Were it one more than
// the last entry applied, a crash after that commit would have the restart
// apply the entry again: a member one revision ahead of the others (seen
// in cluster_serve_test's leader kills).
//
// batch_limit 1 makes every write transaction's end commit, so the index
// saved by that commit is read right after Apply.
#include <memory>
#include <string>

#include "gtest/gtest.h"
#include "revkv/db.h"
#include "server/applier.h"
#include "server/proto/raft_internal.pb.h"
#include "tests/cmd/process.h"

namespace revkv::testing {
namespace {

std::string PutEntry(const std::string& key, const std::string& value) {
  revkvpb::InternalRequest r;
  r.mutable_put()->set_key(key);
  r.mutable_put()->set_value(value);
  return r.SerializeAsString();
}

std::string DeleteEntry(const std::string& key) {
  revkvpb::InternalRequest r;
  r.mutable_delete_range()->set_key(key);
  return r.SerializeAsString();
}

std::unique_ptr<DB> OpenDb(const std::string& dir) {
  Options o;
  o.batch_limit = 1;
  absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(dir, o);
  EXPECT_TRUE(db.ok()) << db.status();
  return db.ok() ? *std::move(db) : nullptr;
}

TEST(ApplierIndexTest, ACommitHoldingAnEntrysWritesHoldsItsIndexAcrossGaps) {
  const std::string dir = NewTempDir("applier-index") + "/data";
  {
    std::unique_ptr<DB> db = OpenDb(dir);
    ASSERT_NE(db, nullptr);
    server::Applier applier(db.get());
    ASSERT_TRUE(applier.Apply(1, PutEntry("a", "1")).ok());
    EXPECT_EQ(db->store()->SavedConsistentIndex(), 1);
    // Entries 2 to 4 were raft's own: the next the applier sees is 5.
    ASSERT_TRUE(applier.Apply(5, PutEntry("b", "1")).ok());
    EXPECT_EQ(db->store()->SavedConsistentIndex(), 5) << "the put's commit names another entry";
    ASSERT_TRUE(applier.Apply(9, PutEntry("a", "2")).ok());
    EXPECT_EQ(db->store()->SavedConsistentIndex(), 9);
    // An entry that changes nothing is applied too, saved with a later commit.
    ASSERT_TRUE(applier.Apply(12, DeleteEntry("nothing")).ok());
    EXPECT_EQ(db->store()->ConsistentIndex(), 12);
    EXPECT_EQ(db->Rev(), 4);
  }
  // Reopened (Close committed): every entry up to 12 is applied, none twice.
  std::unique_ptr<DB> db = OpenDb(dir);
  ASSERT_NE(db, nullptr);
  server::Applier applier(db.get());
  EXPECT_EQ(applier.applied_index(), 12u);
  for (uint64_t index : {5u, 9u, 12u}) {
    EXPECT_TRUE(absl::IsFailedPrecondition(applier.Apply(index, PutEntry("b", "again")).status()))
        << index;
  }
  EXPECT_EQ(db->Rev(), 4);
  ASSERT_TRUE(applier.Apply(13, PutEntry("c", "1")).ok());
  EXPECT_EQ(db->store()->SavedConsistentIndex(), 13);
  EXPECT_EQ(db->Rev(), 5);
}

}  // namespace
}  // namespace revkv::testing
