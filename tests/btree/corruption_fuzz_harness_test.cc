// The corruption fuzz harness itself: a fuzz test that could not see a crash,
// a hang or a wrong answer would pass for the wrong reason.
#include "tests/btree/corruption_fuzz.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <random>

#include "gtest/gtest.h"

namespace revkv::btree::testutil {
namespace {

using std::chrono::milliseconds;

TEST(RunForkedTest, ReportsTheChildsClassAndDetail) {
  TrialResult r = RunForked([] { return TrialResult{TrialClass::kError, "page 7: DataLoss"}; },
                            milliseconds(20000));
  EXPECT_EQ(r.cls, TrialClass::kError);
  EXPECT_EQ(r.detail, "page 7: DataLoss");
}

TEST(RunForkedTest, ADeadChildIsACrash) {
  TrialResult r = RunForked(
      []() -> TrialResult {
        abort();
      },
      milliseconds(20000));
  EXPECT_EQ(r.cls, TrialClass::kCrash);
  EXPECT_NE(r.detail.find("signal"), std::string::npos) << r.detail;
}

TEST(RunForkedTest, AnUnknownExitCodeIsACrash) {
  // What a sanitizer's report without abort looks like.
  TrialResult r = RunForked([]() -> TrialResult { _exit(1); }, milliseconds(20000));
  EXPECT_EQ(r.cls, TrialClass::kCrash);
}

TEST(RunForkedTest, AChildPastItsDeadlineIsKilledAsAHang) {
  TrialResult r = RunForked(
      []() -> TrialResult {
        for (;;) pause();  // blocks until killed: a hang, not a wait
      },
      milliseconds(300));
  EXPECT_EQ(r.cls, TrialClass::kHang);
}

Damage MetaDamage() { return {"meta page 0 flipped", true}; }
Damage DataDamage() { return {"page 9 flipped", false}; }

TEST(ClassifyTest, RightAnswersAreIdenticalAndDataLossIsAnError) {
  const std::map<std::string, std::string> cur = {{"open", "txid 9"}, {"scan", "a b"}};
  Answers all;
  all.Record("open", std::string("txid 9"));
  all.Record("scan", std::string("a b"));
  EXPECT_EQ(Classify(all, DataDamage(), cur, {}).cls, TrialClass::kIdentical);

  Answers lost;
  lost.Record("open", std::string("txid 9"));
  lost.Record("scan", absl::DataLossError("page 9"));
  EXPECT_EQ(Classify(lost, DataDamage(), cur, {}).cls, TrialClass::kError);
}

TEST(ClassifyTest, AWrongAnswerIsSilentEvenBesideAnError) {
  const std::map<std::string, std::string> cur = {{"open", "txid 9"}, {"scan", "a b"}};
  Answers got;
  got.Record("open", absl::DataLossError("x"));
  got.Record("scan", std::string("a c"));
  TrialResult r = Classify(got, DataDamage(), cur, {});
  EXPECT_EQ(r.cls, TrialClass::kSilentDifference);
  EXPECT_NE(r.detail.find("scan"), std::string::npos) << r.detail;
}

TEST(ClassifyTest, AnotherCodeIsOtherError) {
  Answers got;
  got.Record("open", absl::InternalError("x"));
  EXPECT_EQ(Classify(got, DataDamage(), {}, {}).cls, TrialClass::kOtherError);
}

TEST(ClassifyTest, ASetAsideMetaMustBeNotedFollowMetaDamageAndAnswerAsOneCommit) {
  const std::map<std::string, std::string> cur = {{"open", "txid 9"}};
  const std::map<std::string, std::string> prev = {{"open", "txid 8"}};
  Answers noted;
  noted.note = "meta 0 set aside";
  noted.Record("open", std::string("txid 8"));
  EXPECT_EQ(Classify(noted, MetaDamage(), cur, prev).cls, TrialClass::kRollbackReported);
  EXPECT_EQ(Classify(noted, DataDamage(), cur, prev).cls, TrialClass::kRollbackUnexpected);

  Answers silent = noted;
  silent.note.clear();
  EXPECT_EQ(Classify(silent, MetaDamage(), cur, prev).cls, TrialClass::kSilentDifference);

  Answers older_damaged;  // the older meta was damaged: the newest opens, noted
  older_damaged.note = "meta 1 set aside";
  older_damaged.Record("open", std::string("txid 9"));
  EXPECT_EQ(Classify(older_damaged, MetaDamage(), cur, prev).cls, TrialClass::kRollbackReported);

  Answers mixed = noted;  // one answer of each commit: neither
  mixed.Record("scan", std::string("from cur"));
  const std::map<std::string, std::string> cur2 = {{"open", "txid 9"}, {"scan", "from cur"}};
  const std::map<std::string, std::string> prev2 = {{"open", "txid 8"}, {"scan", "from prev"}};
  EXPECT_EQ(Classify(mixed, MetaDamage(), cur2, prev2).cls, TrialClass::kSilentDifference);
}

TEST(DamageFileTest, EveryKindChangesTheFileAndMetaDamageIsFlagged) {
  constexpr uint32_t kPage = 4096;
  const std::string original(16 * kPage, 'x');
  std::mt19937_64 rng(5);
  int meta = 0;
  for (int i = 0; i < 200; ++i) {
    std::string bytes = original;
    Damage d = DamageFile(rng, kPage, 8 * kPage, &bytes);
    EXPECT_NE(bytes, original) << d.what;
    EXPECT_FALSE(d.what.empty());
    if (d.touched_meta) ++meta;
  }
  EXPECT_GT(meta, 0);
  EXPECT_LT(meta, 200);
}

}  // namespace
}  // namespace revkv::btree::testutil
