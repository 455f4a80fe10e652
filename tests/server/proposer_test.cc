// LocalProposer's asynchronous answers (proposer.h): every proposal's
// callback runs exactly once, on the log thread, after its entry is durable
// and applied (the store holds its revision when the callback runs), in
// index order; a refused proposal is answered on the caller's thread before
// ProposeAsync returns; the destructor answers every queued proposal.
// Synchronous Propose calls interleave with the asynchronous ones.
// (CI: under TSan.)
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "revkv/db.h"
#include "server/alarm_store.h"
#include "server/applier.h"
#include "server/errors.h"
#include "server/proposer.h"
#include "tests/cmd/process.h"
#include "util/mutex.h"

namespace revkv::testing {
namespace {

revkvpb::InternalRequest PutEntry(const std::string& key, size_t value_bytes = 8) {
  revkvpb::InternalRequest r;
  r.mutable_put()->set_key(key);
  r.mutable_put()->set_value(std::string(value_bytes, 'v'));
  return r;
}

class ProposerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = NewTempDir("proposer");
    absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(dir_ + "/data", {});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    absl::StatusOr<std::unique_ptr<server::AlarmStore>> alarms =
        server::AlarmStore::Open(db_->backend());
    ASSERT_TRUE(alarms.ok()) << alarms.status();
    alarms_ = std::move(*alarms);
    applier_ = std::make_unique<server::Applier>(db_.get(), alarms_.get());
    absl::StatusOr<std::unique_ptr<server::LocalProposer>> p =
        server::LocalProposer::Open(db_.get(), applier_.get(), dir_ + "/wal", 4096);
    ASSERT_TRUE(p.ok()) << p.status();
    proposer_ = std::move(*p);
  }

  std::string dir_;
  std::unique_ptr<DB> db_;
  std::unique_ptr<server::AlarmStore> alarms_;
  std::unique_ptr<server::Applier> applier_;
  std::unique_ptr<server::LocalProposer> proposer_;
};

// What the callbacks saw, checked at the end.
struct Answers {
  util::Mutex mu;
  std::vector<int64_t> revisions ABSL_GUARDED_BY(mu);  // in callback order
  int failures ABSL_GUARDED_BY(mu) = 0;
  int on_caller_thread ABSL_GUARDED_BY(mu) = 0;
  int not_yet_applied ABSL_GUARDED_BY(mu) = 0;
};

TEST_F(ProposerTest, EveryAsyncProposalIsAnsweredOnceInOrderAfterItsApply) {
  constexpr int kThreads = 4, kPerThread = 300;
  Answers answers;
  std::atomic<int> sync_ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::thread::id me = std::this_thread::get_id();
      for (int i = 0; i < kPerThread; ++i) {
        const std::string key = "t" + std::to_string(t) + "/" + std::to_string(i);
        if (i % 10 == 9) {  // a synchronous one now and then
          if (proposer_->Propose(PutEntry(key)).ok()) sync_ok++;
          continue;
        }
        proposer_->ProposeAsync(PutEntry(key), [&, me](absl::StatusOr<server::ApplyResult> r) {
          util::MutexLock l(answers.mu);
          if (std::this_thread::get_id() == me) answers.on_caller_thread++;
          const auto* put = r.ok() ? std::get_if<etcdserverpb::PutResponse>(&*r) : nullptr;
          if (put == nullptr) {
            answers.failures++;
            return;
          }
          const int64_t rev = put->header().revision();
          // Applied before answered: the store is at least there.
          if (db_->store()->Rev() < rev) answers.not_yet_applied++;
          answers.revisions.push_back(rev);
        });
      }
    });
  }
  for (std::thread& t : threads) t.join();
  proposer_.reset();  // answers whatever is still queued
  util::MutexLock l(answers.mu);
  constexpr int kSync = kThreads * (kPerThread / 10);
  EXPECT_EQ(sync_ok.load(), kSync);
  EXPECT_EQ(answers.failures, 0);
  EXPECT_EQ(answers.on_caller_thread, 0);
  EXPECT_EQ(answers.not_yet_applied, 0);
  ASSERT_EQ(int(answers.revisions.size()), kThreads * kPerThread - kSync);
  // Answered in index (so revision) order, each once.
  for (size_t i = 1; i < answers.revisions.size(); ++i) {
    EXPECT_LT(answers.revisions[i - 1], answers.revisions[i]) << "answer " << i;
  }
  EXPECT_EQ(db_->store()->Rev(), 1 + kThreads * kPerThread);
}

TEST_F(ProposerTest, ARefusedProposalIsAnsweredBeforeProposeAsyncReturns) {
  bool answered = false;
  absl::Status got;
  proposer_->ProposeAsync(PutEntry("big", 8192), [&](absl::StatusOr<server::ApplyResult> r) {
    answered = true;  // same thread: no lock needed, TSan would say otherwise
    got = r.status();
  });
  EXPECT_TRUE(answered);
  EXPECT_TRUE(server::IsEtcdError(got, "request-too-large")) << got;
  // Nothing was logged for it: the next entry gets revision 2.
  absl::StatusOr<server::ApplyResult> r = proposer_->Propose(PutEntry("small"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(std::get<etcdserverpb::PutResponse>(*r).header().revision(), 2);
}

TEST_F(ProposerTest, TheDestructorAnswersQueuedProposalsDurably) {
  constexpr int kN = 500;
  std::atomic<int> ok{0}, answered{0};
  for (int i = 0; i < kN; ++i) {
    proposer_->ProposeAsync(PutEntry("k" + std::to_string(i)),
                            [&](absl::StatusOr<server::ApplyResult> r) {
                              answered++;
                              if (r.ok()) ok++;
                            });
  }
  proposer_.reset();
  EXPECT_EQ(answered.load(), kN);
  EXPECT_EQ(ok.load(), kN);
  // Durable: a new proposer over the same log finds nothing to add, and
  // every write is in the store.
  absl::StatusOr<std::unique_ptr<server::LocalProposer>> again =
      server::LocalProposer::Open(db_.get(), applier_.get(), dir_ + "/wal", 4096);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)->last_index(), uint64_t(kN));
  EXPECT_EQ(db_->store()->Rev(), 1 + kN);
}

}  // namespace
}  // namespace revkv::testing
