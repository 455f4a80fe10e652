// Fault sweep: fail the backend's commit at each step of its path (each
// WriteAt, each Sync, in turn) under a store doing puts, deletes,
// transactions and compactions, and check that the store fails closed --
// every later write and read returns the failure, none answers from writes
// the backend dropped -- and that a reopen yields the acknowledged state:
// that of the last commit that returned OK, or, when the failed commit had
// reached the file before its error (a failed fsync of a written meta
// page), that commit's state; nothing else.
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "backend/backend.h"
#include "gtest/gtest.h"
#include "mvcc/store.h"
#include "tests/btree/fault_env.h"
#include "tests/mvcc/reference_model.h"

namespace revkv::mvcc {
namespace {

const std::string kEnd(1, '\0');

struct State {
  int64_t rev = 0;
  std::vector<KeyValue> kvs;
  bool operator==(const State&) const = default;
};

class FaultSweep {
 public:
  FaultSweep(btree::FaultOp op, uint64_t n) : op_(op), n_(n) {
    char tmpl[] = "/tmp/revkv-fault-sweep-XXXXXX";
    EXPECT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  ~FaultSweep() {
    store_.reset();
    backend_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Runs the workload with the fault armed; false if it never fired.
  bool Run() {
    Open(&env_);
    if (::testing::Test::HasFatalFailure()) return false;
    env_.FailNth(op_, n_);
    bool fired = false;
    for (int round = 0; round < 12 && !fired; ++round) fired = !Round(round);
    if (!fired) {
      env_.ClearFaults();
      return false;
    }
    ExpectFailedClosed();
    store_.reset();
    backend_->Close().IgnoreError();
    backend_.reset();
    ExpectReopenAcknowledged();
    return true;
  }

 private:
  void Open(btree::Env* env) {
    auto cfg = backend::DefaultBackendConfig();
    cfg.path = dir_ + "/db";
    cfg.env = env;
    cfg.batch_limit = int64_t{1} << 40;         // commits only when asked:
    cfg.batch_interval = std::chrono::hours(0);  // what is acknowledged is exact
    auto b = backend::Backend::Open(cfg);
    ASSERT_TRUE(b.ok()) << b.status();
    backend_ = std::move(*b);
    StoreOptions o;
    o.compaction_batch = 7;
    auto s = Store::Open(backend_.get(), o);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
  }

  State Current() const {
    return State{model_.rev(), model_.Range(std::string(1, '\0'), kEnd, model_.rev())};
  }

  // One round of writes and a commit; false once anything failed.
  bool Round(int round) {
    for (int i = 0; i < 4; ++i) {
      std::string k = absl::StrFormat("key%02d", (round * 7 + i * 3) % 23);
      std::string v = absl::StrFormat("value-%d-%d", round, i);
      absl::StatusOr<int64_t> rev = store_->Put(k, v);
      if (!rev.ok()) return false;
      model_.Apply({{k, v}});
    }
    const std::string del = absl::StrFormat("key%02d", (round * 5) % 23);
    absl::StatusOr<std::pair<int64_t, int64_t>> d = store_->DeleteRange(del, "");
    if (!d.ok()) return false;
    std::vector<ReferenceModel::Change> changes;
    for (const KeyValue& kv : model_.Range(del, "", model_.rev())) changes.push_back({kv.key, {}});
    model_.Apply(changes);
    in_doubt_ = Current();
    if (!backend_->ForceCommit().ok()) return false;
    acknowledged_ = in_doubt_;
    if (round % 6 == 4) {
      // Its schedule is committed (durably) before it returns.
      if (!store_->Compact(model_.rev()).ok()) return false;
      if (!store_->WaitCompaction().ok()) return false;
    }
    return true;
  }

  void ExpectFailedClosed() {
    absl::StatusOr<int64_t> put = store_->Put("after", "failure");
    EXPECT_FALSE(put.ok()) << "a write was accepted after the commit failed";
    absl::StatusOr<RangeResult> read = store_->Range("key", kEnd, {});
    EXPECT_FALSE(read.ok()) << "a read answered after the commit failed";
    // The failure itself, not ErrCompacted: a compaction whose schedule
    // did not become durable never moved the compacted revision.
    absl::Status compact = store_->Compact(store_->Rev());
    EXPECT_FALSE(compact.ok());
    EXPECT_FALSE(IsCompacted(compact)) << compact;
  }

  void ExpectReopenAcknowledged() {
    Open(nullptr);
    if (::testing::Test::HasFatalFailure()) return;
    absl::StatusOr<RangeResult> all = store_->Range(std::string(1, '\0'), kEnd, {});
    ASSERT_TRUE(all.ok()) << all.status();
    State got{store_->Rev(), all->kvs};
    EXPECT_TRUE(got == acknowledged_ || got == in_doubt_)
        << absl::StrFormat("%s #%d: reopened at revision %d with %d keys; acknowledged %d (%d)",
                           btree::FaultOpName(op_), n_, got.rev, got.kvs.size(),
                           acknowledged_.rev, acknowledged_.kvs.size());
    EXPECT_TRUE(store_->Put("after", "reopen").ok());
  }

  const btree::FaultOp op_;
  const uint64_t n_;
  std::string dir_;
  btree::FaultEnv env_;  // outlives the backend
  std::unique_ptr<backend::Backend> backend_;
  std::unique_ptr<Store> store_;
  ReferenceModel model_;
  State acknowledged_{1, {}};
  State in_doubt_{1, {}};
};

TEST(FaultSweep, EachFailedCommitStepFailsTheStoreClosedAndReopensAcknowledged) {
  for (btree::FaultOp op : {btree::FaultOp::kWrite, btree::FaultOp::kSync}) {
    int fired = 0;
    for (uint64_t n = 1; n < 400; ++n) {
      SCOPED_TRACE(absl::StrFormat("%s #%d", btree::FaultOpName(op), n));
      FaultSweep sweep(op, n);
      if (!sweep.Run()) break;  // past the workload's last operation
      if (::testing::Test::HasFatalFailure()) return;
      fired++;
    }
    EXPECT_GT(fired, 10) << btree::FaultOpName(op);
    std::printf("%s: %d failure points\n", btree::FaultOpName(op), fired);
  }
}

}  // namespace
}  // namespace revkv::mvcc
