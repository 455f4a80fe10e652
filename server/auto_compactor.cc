#include "server/auto_compactor.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "mvcc/errors.h"

namespace revkv::server {
namespace {

// etcd's revInterval.
constexpr absl::Duration kRevisionInterval = absl::Minutes(5);
// etcd samples a period ten times.
constexpr int kSamplesPerPeriod = 10;

}  // namespace

absl::StatusOr<AutoCompaction> ParseAutoCompaction(const std::string& mode,
                                                   const std::string& retention) {
  AutoCompaction c;
  if (mode == "periodic") {
    c.mode = AutoCompaction::Mode::kPeriodic;
  } else if (mode == "revision") {
    c.mode = AutoCompaction::Mode::kRevision;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("unknown auto-compaction-mode \"", mode, "\""));
  }
  int64_t n = 0;
  if (absl::SimpleAtoi(retention.empty() ? "0" : retention, &n) && n >= 0) {
    if (c.mode == AutoCompaction::Mode::kRevision) {
      c.revisions = n;
    } else {
      c.period = absl::Hours(n);
    }
    return c;
  }
  absl::Duration d;
  if (c.mode == AutoCompaction::Mode::kPeriodic && absl::ParseDuration(retention, &d) &&
      d >= absl::ZeroDuration()) {
    c.period = d;
    return c;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("error parsing CompactionRetention: invalid retention \"", retention, "\""));
}

AutoCompactor::AutoCompactor(const AutoCompaction& config, RevFn rev, CompactFn compact,
                             LeaderFn is_leader)
    : config_(config),
      rev_(std::move(rev)),
      compact_(std::move(compact)),
      is_leader_(std::move(is_leader)) {}

AutoCompactor::~AutoCompactor() { Stop(); }

absl::Duration AutoCompactor::interval() const {
  if (config_.mode == AutoCompaction::Mode::kRevision) return kRevisionInterval;
  return std::min(config_.period, absl::Hours(1)) / kSamplesPerPeriod;
}

int64_t AutoCompactor::Tick(absl::Time now) {
  if (!config_.enabled()) return 0;
  return config_.mode == AutoCompaction::Mode::kRevision ? TickRevision() : TickPeriodic(now);
}

bool AutoCompactor::CompactAt(int64_t rev) {
  absl::Status s = compact_(rev);
  return s.ok() || mvcc::IsCompacted(s);
}

int64_t AutoCompactor::TickRevision() {
  const int64_t rev = rev_() - config_.revisions;
  if (rev <= 0 || rev == last_compacted_ || !is_leader_()) return 0;
  if (!CompactAt(rev)) return 0;
  last_compacted_ = rev;
  return rev;
}

int64_t AutoCompactor::TickPeriodic(absl::Time now) {
  if (last_success_ == absl::InfinitePast()) {
    last_success_ = now;  // the period starts now
    wait_ = config_.period;
  }
  // The oldest sample kept is the revision about one period ago.
  samples_.push_back(rev_());
  const size_t keep = size_t(config_.period / interval()) + 1;
  while (samples_.size() > keep) samples_.pop_front();
  if (now - last_success_ < wait_ || !is_leader_()) return 0;
  const int64_t rev = samples_.front();
  if (rev <= 0 || !CompactAt(rev)) return 0;
  last_success_ = now;
  wait_ = std::min(config_.period, absl::Hours(1));
  last_compacted_ = rev;
  return rev;
}

void AutoCompactor::Start() {
  if (!config_.enabled()) return;
  thread_ = std::thread([this] {
    for (;;) {
      {
        util::MutexLock l(mu_);
        const auto deadline =
            std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(interval());
        while (!stopping_ && cv_.WaitUntil(mu_, deadline) != std::cv_status::timeout) {
        }
        if (stopping_) return;
      }
      Tick(absl::Now());
    }
  });
}

void AutoCompactor::Stop() {
  {
    util::MutexLock l(mu_);
    stopping_ = true;
  }
  cv_.NotifyAll();
  if (thread_.joinable()) thread_.join();
}

}  // namespace revkv::server
