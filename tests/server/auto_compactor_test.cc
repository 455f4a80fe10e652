// etcd 3.4's auto compaction policy (server/auto_compactor.h), stepped with
// a synthetic clock: the flags' parsing; revision mode compacting at the
// current revision minus the retention, once per revision; periodic mode
// compacting first one period after the start, then every min(period, 1h),
// at the revision sampled about a period ago; failures retried, an
// already-compacted answer taken as done, followers never compacting; Start's thread
// compacting on its own until Stop (CI: under TSan).
#include "server/auto_compactor.h"

#include <atomic>
#include <chrono>
#include <vector>

#include "gtest/gtest.h"
#include "mvcc/errors.h"
#include "util/mutex.h"

namespace revkv::server {
namespace {

TEST(AutoCompactionTest, ParsesAsEtcd) {
  struct Case {
    const char* mode;
    const char* retention;
    bool ok;
    AutoCompaction::Mode want_mode;
    absl::Duration period;
    int64_t revisions;
  };
  using M = AutoCompaction::Mode;
  for (const Case& c : std::vector<Case>{
           {"periodic", "0", true, M::kPeriodic, absl::ZeroDuration(), 0},
           {"periodic", "", true, M::kPeriodic, absl::ZeroDuration(), 0},
           {"periodic", "1", true, M::kPeriodic, absl::Hours(1), 0},  // hours
           {"periodic", "30m", true, M::kPeriodic, absl::Minutes(30), 0},
           {"revision", "1000", true, M::kRevision, absl::ZeroDuration(), 1000},
           {"revision", "1h", false, M::kRevision, absl::ZeroDuration(), 0},
           {"periodic", "-1", false, M::kPeriodic, absl::ZeroDuration(), 0},
           {"periodic", "-5m", false, M::kPeriodic, absl::ZeroDuration(), 0},
           {"periodic", "soon", false, M::kPeriodic, absl::ZeroDuration(), 0},
           {"daily", "1", false, M::kPeriodic, absl::ZeroDuration(), 0},
       }) {
    absl::StatusOr<AutoCompaction> a = ParseAutoCompaction(c.mode, c.retention);
    ASSERT_EQ(a.ok(), c.ok) << c.mode << " " << c.retention;
    if (!a.ok()) {
      EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument);
      continue;
    }
    EXPECT_EQ(a->mode, c.want_mode);
    EXPECT_EQ(a->period, c.period) << c.retention;
    EXPECT_EQ(a->revisions, c.revisions);
    EXPECT_EQ(a->enabled(), c.period > absl::ZeroDuration() || c.revisions > 0);
  }
}

// A store whose revision the test sets, and the compactions asked of it.
struct Fake {
  int64_t rev = 1;
  bool leader = true;
  absl::Status next = absl::OkStatus();  // the answer to the next compaction
  std::vector<int64_t> compactions;      // those asked, failed ones too

  AutoCompactor Make(const AutoCompaction& c) {
    return AutoCompactor(
        c, [this] { return rev; },
        [this](int64_t r) {
          compactions.push_back(r);
          return std::exchange(next, absl::OkStatus());
        },
        [this] { return leader; });
  }
};

TEST(AutoCompactorTest, RevisionModeKeepsTheLastRevisions) {
  Fake f;
  AutoCompaction c;
  c.mode = AutoCompaction::Mode::kRevision;
  c.revisions = 10;
  AutoCompactor a = f.Make(c);
  EXPECT_EQ(a.interval(), absl::Minutes(5));  // etcd's revInterval
  const absl::Time t0 = absl::UnixEpoch();
  f.rev = 5;
  EXPECT_EQ(a.Tick(t0), 0);  // nothing 10 revisions back yet
  f.rev = 15;
  EXPECT_EQ(a.Tick(t0 + absl::Minutes(5)), 5);
  EXPECT_EQ(a.Tick(t0 + absl::Minutes(10)), 0);  // the same revision: not again
  f.rev = 40;
  f.next = absl::UnavailableError("proposer busy");
  EXPECT_EQ(a.Tick(t0 + absl::Minutes(15)), 0);  // failed: retried next time
  EXPECT_EQ(a.Tick(t0 + absl::Minutes(20)), 30);
  f.rev = 50;
  f.next = mvcc::ErrCompacted();  // someone compacted further: done
  EXPECT_EQ(a.Tick(t0 + absl::Minutes(25)), 40);
  f.rev = 60;
  f.leader = false;
  EXPECT_EQ(a.Tick(t0 + absl::Minutes(30)), 0);  // followers leave it to the leader
  EXPECT_EQ(f.compactions, (std::vector<int64_t>{5, 30, 30, 40}));
}

// Ticks a periodic compactor every interval for `span`, the revision
// growing by 100 per tick; returns {time since start, revision} of each
// compaction.
std::vector<std::pair<absl::Duration, int64_t>> RunPeriodic(absl::Duration period,
                                                            absl::Duration span) {
  Fake f;
  AutoCompaction c;
  c.period = period;
  AutoCompactor a = f.Make(c);
  std::vector<std::pair<absl::Duration, int64_t>> out;
  const absl::Time t0 = absl::UnixEpoch();
  for (absl::Duration t; t <= span; t += a.interval()) {
    f.rev = 1 + 100 * int64_t(t / a.interval());
    if (int64_t r = a.Tick(t0 + t); r != 0) out.push_back({t, r});
  }
  return out;
}

TEST(AutoCompactorTest, PeriodicModeKeepsAboutOnePeriod) {
  // 1h: samples every 6 min; first at 1h to the revision of the start, then
  // hourly to the one sampled an hour before.
  using P = std::vector<std::pair<absl::Duration, int64_t>>;
  EXPECT_EQ(RunPeriodic(absl::Hours(1), absl::Hours(3)),
            (P{{absl::Hours(1), 1}, {absl::Hours(2), 1001}, {absl::Hours(3), 2001}}));
  // 10 min: samples every minute, compacts every 10 minutes.
  EXPECT_EQ(RunPeriodic(absl::Minutes(10), absl::Minutes(20)),
            (P{{absl::Minutes(10), 1}, {absl::Minutes(20), 1001}}));
  // 2h: samples every 6 min (the interval stops growing at an hour); the
  // first at 2h, then every hour, each keeping two hours.
  EXPECT_EQ(RunPeriodic(absl::Hours(2), absl::Hours(4)),
            (P{{absl::Hours(2), 1}, {absl::Hours(3), 1001}, {absl::Hours(4), 2001}}));
}

// Start's thread ticks on its own and Stop ends it; the compaction it
// proposes reaches the store's side (CI: under TSan).
TEST(AutoCompactorTest, TheThreadCompactsUntilStopped) {
  util::Mutex mu;
  util::CondVar cv;
  std::vector<int64_t> compactions;
  std::atomic<int64_t> rev{1};
  AutoCompaction c;
  c.period = absl::Milliseconds(20);
  AutoCompactor a(
      c, [&] { return rev.fetch_add(1); },
      [&](int64_t r) {
        util::MutexLock l(mu);
        compactions.push_back(r);
        cv.NotifyAll();
        return absl::OkStatus();
      },
      [] { return true; });
  a.Start();
  {
    util::MutexLock l(mu);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (compactions.size() < 2 && cv.WaitUntil(mu, deadline) != std::cv_status::timeout) {
    }
    ASSERT_GE(compactions.size(), 2u);
    EXPECT_LT(compactions[0], compactions[1]);
  }
  a.Stop();
  util::MutexLock l(mu);
  const size_t after_stop = compactions.size();
  a.Stop();  // idempotent
  EXPECT_EQ(compactions.size(), after_stop);
}

TEST(AutoCompactorTest, DisabledNeverCompacts) {
  Fake f;
  AutoCompactor a = f.Make(AutoCompaction{});
  f.rev = 1000000;
  EXPECT_EQ(a.Tick(absl::UnixEpoch() + absl::Hours(100)), 0);
  a.Start();  // no thread for a disabled compactor
  a.Stop();
  EXPECT_TRUE(f.compactions.empty());
}

}  // namespace
}  // namespace revkv::server
