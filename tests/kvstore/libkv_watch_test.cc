// libkv's Watch and WatchTree over revkv (kvstore/watch.h), as a
// specification: the value now, then each change in revision order, exactly
// once, nothing from other keys or buckets, one listing per revision, the
// stop token and Close ending a blocked Next, and a consumer that fell far
// behind still getting everything.
#include <future>
#include <stop_token>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kvstore/revkv_store.h"
#include "kvstore/store.h"
#include "tests/kvstore/test_util.h"

namespace revkv::kvstore {
namespace {

using testutil::TempDir;

// Next, failing the test (and stopping the watch) if nothing comes within
// the bound: a missing event must not hang the test.
template <typename W>
auto NextWithin(W* w, std::stop_source* stop) {
  auto f = std::async(std::launch::async, [w] { return w->Next(); });
  if (f.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
    ADD_FAILURE() << "no value within 20 s";
    stop->request_stop();
  }
  return f.get();
}

class LibkvWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto kv = RevkvStore::Wrap(db_.db(), "b");
    ASSERT_TRUE(kv.ok()) << kv.status();
    kv_ = std::move(*kv);
  }
  int64_t Rev() { return db_.store()->Rev(); }

  TempDir dir_;
  testutil::MvccFixture db_{dir_.path() + "/db"};
  std::unique_ptr<RevkvStore> kv_;
  std::stop_source stop_;
};

TEST_F(LibkvWatchTest, WatchGivesTheCurrentPairThenEveryChange) {
  REVKV_ASSERT_OK(kv_->Put("k", "v1"));
  const uint64_t r1 = uint64_t(Rev());
  auto w = kv_->Watch("k", stop_.get_token());
  ASSERT_TRUE(w.ok()) << w.status();
  EXPECT_EQ(NextWithin(w->get(), &stop_), (KVPair{"k", "v1", r1}));
  REVKV_ASSERT_OK(kv_->Put("k", "v2"));
  REVKV_ASSERT_OK(kv_->Delete("k"));
  REVKV_ASSERT_OK(kv_->Put("k", ""));
  EXPECT_EQ(NextWithin(w->get(), &stop_), (KVPair{"k", "v2", r1 + 1}));
  EXPECT_EQ(NextWithin(w->get(), &stop_), (KVPair{"k", "", r1 + 2})) << "a delete";
  EXPECT_EQ(NextWithin(w->get(), &stop_), (KVPair{"k", "", r1 + 3})) << "an empty put";
  EXPECT_TRUE((*w)->status().ok());
}

TEST_F(LibkvWatchTest, AMissingKeyIsWatchedUntilItIsCreated) {
  auto w = kv_->Watch("later", stop_.get_token());
  ASSERT_TRUE(w.ok()) << w.status();
  REVKV_ASSERT_OK(kv_->Put("later", "here"));
  EXPECT_EQ(NextWithin(w->get(), &stop_), (KVPair{"later", "here", uint64_t(Rev())}));
}

TEST_F(LibkvWatchTest, OtherKeysAndBucketsAreNotSeen) {
  auto other = RevkvStore::Wrap(db_.db(), "b2");
  ASSERT_TRUE(other.ok());
  auto w = kv_->Watch("a", stop_.get_token());
  ASSERT_TRUE(w.ok());
  REVKV_ASSERT_OK(kv_->Put("ab", "prefix of another key"));
  REVKV_ASSERT_OK((*other)->Put("a", "another bucket"));
  REVKV_ASSERT_OK(kv_->Put("a", "mine"));
  EXPECT_EQ(NextWithin(w->get(), &stop_), (KVPair{"a", "mine", uint64_t(Rev())}));
}

TEST_F(LibkvWatchTest, AnEmptyKeyIsRefused) {
  EXPECT_TRUE(absl::IsInvalidArgument(kv_->Watch("", stop_.get_token()).status()));
}

TEST_F(LibkvWatchTest, StopEndsABlockedNext) {
  auto w = kv_->Watch("k", stop_.get_token());
  ASSERT_TRUE(w.ok());
  auto next = std::async(std::launch::async, [&] { return (*w)->Next(); });
  stop_.request_stop();
  EXPECT_FALSE(next.get().has_value());
  EXPECT_TRUE((*w)->status().ok());
  REVKV_ASSERT_OK(kv_->Put("k", "after the stop"));
  EXPECT_FALSE((*w)->Next().has_value()) << "an ended watch stays ended";
}

TEST_F(LibkvWatchTest, CloseEndsWatchesAndLaterOnesAreRefused) {
  auto w = kv_->Watch("k", stop_.get_token());
  auto t = kv_->WatchTree("d/", stop_.get_token());
  ASSERT_TRUE(w.ok() && t.ok());
  ASSERT_TRUE((*t)->Next().has_value());  // the listing now
  auto next = std::async(std::launch::async, [&] { return (*w)->Next(); });
  auto tree = std::async(std::launch::async, [&] { return (*t)->Next(); });
  kv_->Close();
  EXPECT_FALSE(next.get().has_value());
  EXPECT_FALSE(tree.get().has_value());
  EXPECT_TRUE(IsStoreClosed(kv_->Watch("k", stop_.get_token()).status()));
  EXPECT_TRUE(IsStoreClosed(kv_->WatchTree("d/", stop_.get_token()).status()));
}

TEST_F(LibkvWatchTest, AConsumerFarBehindGetsEveryChangeInOrder) {
  auto w = kv_->Watch("k", stop_.get_token());
  ASSERT_TRUE(w.ok());
  const uint64_t first = uint64_t(Rev()) + 1;
  constexpr int kChanges = 2000;  // far more than a stream queues
  for (int i = 0; i < kChanges; ++i) REVKV_ASSERT_OK(kv_->Put("k", std::to_string(i)));
  for (int i = 0; i < kChanges; ++i) {
    std::optional<KVPair> p = NextWithin(w->get(), &stop_);
    ASSERT_TRUE(p.has_value()) << i;
    ASSERT_EQ(*p, (KVPair{"k", std::to_string(i), first + uint64_t(i)})) << i;
  }
}

TEST_F(LibkvWatchTest, WatchTreeGivesTheListingNowThenOnePerRevision) {
  REVKV_ASSERT_OK(kv_->Put("d/a", "1"));
  const uint64_t r1 = uint64_t(Rev());
  auto t = kv_->WatchTree("d/", stop_.get_token());
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(NextWithin(t->get(), &stop_), (std::vector<KVPair>{{"d/a", "1", r1}}));

  REVKV_ASSERT_OK(kv_->Put("e", "outside the directory"));
  {  // one transaction, two keys: one listing
    auto txn = db_.store()->Write();
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE((*txn)->Put("b/d/b", "2").ok());
    ASSERT_TRUE((*txn)->Put("b/d/c", "3").ok());
    REVKV_ASSERT_OK((*txn)->End());
  }
  const uint64_t r2 = uint64_t(Rev());
  EXPECT_EQ(NextWithin(t->get(), &stop_),
            (std::vector<KVPair>{{"d/a", "1", r1}, {"d/b", "2", r2}, {"d/c", "3", r2}}));
  REVKV_ASSERT_OK(kv_->Delete("d/a"));
  EXPECT_EQ(NextWithin(t->get(), &stop_),
            (std::vector<KVPair>{{"d/b", "2", r2}, {"d/c", "3", r2}}));
  {
    auto txn = db_.store()->Write();
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE((*txn)->DeleteRange("b/d/", "b/d0").ok());
    REVKV_ASSERT_OK((*txn)->End());
  }
  EXPECT_EQ(NextWithin(t->get(), &stop_), std::vector<KVPair>{}) << "emptied: the watch goes on";
  REVKV_ASSERT_OK(kv_->Put("d/z", "back"));
  EXPECT_EQ(NextWithin(t->get(), &stop_), (std::vector<KVPair>{{"d/z", "back", uint64_t(Rev())}}));
}

TEST_F(LibkvWatchTest, CatchUpGivesEveryChangeCommittedBeforeItOnce) {
  auto t = kv_->WatchTree("d/", stop_.get_token());
  ASSERT_TRUE(t.ok());
  ASSERT_EQ((*t)->Next(), std::vector<KVPair>{});
  auto none = (*t)->CatchUp();
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->empty());

  auto other = RevkvStore::Wrap(db_.db(), "b");  // another handle, same bucket
  ASSERT_TRUE(other.ok());
  std::vector<TreeChange> want;
  for (int i = 0; i < 300; ++i) {  // more responses than a stream queues
    const std::string key = "d/" + std::to_string(i % 7);
    if (i % 5 == 4) {
      absl::Status s = (*other)->Delete(key);
      if (IsKeyNotFound(s)) continue;
      REVKV_ASSERT_OK(s);
      want.push_back({{key, "", uint64_t(Rev())}, true});
    } else {
      REVKV_ASSERT_OK((*other)->Put(key, std::to_string(i)));
      want.push_back({{key, std::to_string(i), uint64_t(Rev())}, false});
    }
  }
  auto got = (*t)->CatchUp();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, want);
  auto again = (*t)->CatchUp();
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty()) << "nothing twice";
}

TEST_F(LibkvWatchTest, StoresOpenedByPathWatchToo) {
  TempDir dir;
  auto kv = New(kRevkv, dir.path() + "/kv.db", Config{{}, "libnetwork"});
  ASSERT_TRUE(kv.ok()) << kv.status();
  std::stop_source stop;
  auto w = (*kv)->Watch("k", stop.get_token());
  ASSERT_TRUE(w.ok()) << w.status();
  REVKV_ASSERT_OK((*kv)->Put("k", "v"));
  std::optional<KVPair> p = NextWithin(w->get(), &stop);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->value, "v");
  (*kv)->Close();
  EXPECT_FALSE((*w)->Next().has_value());
}

}  // namespace
}  // namespace revkv::kvstore
