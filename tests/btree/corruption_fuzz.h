// The harness of the corruption fuzz tests (tests/btree and tests/mvcc):
// damage a copy of a database file at random, run a level's operations on it
// in a forked child with a deadline, and classify what they answered against
// the same operations on undamaged copies.
//
// A trial's operations record each answer as a string (or the error); the
// classes, worst first:
//   SILENT_DIFFERENCE  an answer differs from the reference, with no error
//   OTHER_ERROR        an error whose code is not kDataLoss
//   ROLLBACK_UNEXPECTED  open noted a set-aside meta but no meta page was damaged
//   CRASH / HANG       the child died, or outlived its deadline (killed)
//   ERROR              some operation failed with kDataLoss; every answer
//                      given was right
//   META_DAMAGE_NOTED  open set a damaged meta page aside with a note, the
//                      damage touched a meta page, and every answer is the
//                      newest commit's (the older meta was damaged) or every
//                      one the previous commit's (the newest was)
//   IDENTICAL          every operation succeeded with the reference's answer
// The first five fail the test.
#ifndef REVKV_TESTS_BTREE_CORRUPTION_FUZZ_H_
#define REVKV_TESTS_BTREE_CORRUPTION_FUZZ_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace revkv::btree::testutil {

enum class TrialClass : int {
  kIdentical = 0,
  kError,
  kRollbackReported,
  kSilentDifference,
  kOtherError,
  kRollbackUnexpected,
  kCrash,
  kHang,
};
inline constexpr int kTrialClasses = 8;
const char* ClassName(TrialClass c);
bool IsFailure(TrialClass c);

// What one trial did to the file.
struct Damage {
  std::string what;
  bool touched_meta = false;  // some damaged byte lies in page 0 or 1
};
// Bytes of a database file below its newest meta's high-water mark.
uint64_t BytesInUse(const std::string& file, uint32_t page_size);
// Damages a database file of `page_size` pages: byte flips, a zeroed page,
// truncation, appended garbage, or flips in a meta page. Most land below
// `in_use` (BytesInUse), where damage matters; the rest anywhere.
Damage DamageFile(std::mt19937_64& rng, uint32_t page_size, uint64_t in_use,
                  std::string* bytes);

// The answers of one run of a level's operations, in order. An operation
// that depends on one that failed is not run.
class Answers {
 public:
  // Records op's answer or error; returns whether it succeeded.
  bool Record(const std::string& op, absl::StatusOr<std::string> answer);
  // Open's note (empty: open did not set the newest meta aside).
  std::string note;
  const std::vector<std::pair<std::string, absl::StatusOr<std::string>>>& ops() const {
    return ops_;
  }
  // op -> answer, or the first error of a reference run (which must be
  // whole: an undamaged file answers everything).
  absl::StatusOr<std::map<std::string, std::string>> AsReference() const;

 private:
  std::vector<std::pair<std::string, absl::StatusOr<std::string>>> ops_;
};

struct TrialResult {
  TrialClass cls = TrialClass::kIdentical;
  std::string detail;  // why, for every class but IDENTICAL
};

// Classifies a trial's answers against the references: `cur` of the newest
// commit, `prev` of the one before it (what a reported rollback must show).
TrialResult Classify(const Answers& got, const Damage& damage,
                     const std::map<std::string, std::string>& cur,
                     const std::map<std::string, std::string>& prev);

// Runs fn in a forked child and returns its result; CRASH if the child dies
// any other way, HANG (after killing it) if it outlives `timeout`.
TrialResult RunForked(const std::function<TrialResult()>& fn,
                      std::chrono::milliseconds timeout);

// The run's shape from the environment: REVKV_FUZZ_TRIALS (total over the
// seeds), REVKV_SEED (one seed), REVKV_FUZZ_TRIAL (that trial alone),
// REVKV_FUZZ_TIMEOUT_MS (a trial's deadline). Prints it.
struct FuzzPlan {
  std::vector<uint64_t> seeds;
  int trials_per_seed = 0;
  int only_trial = -1;
  std::chrono::milliseconds timeout{0};
};
FuzzPlan PlanFromEnv(std::vector<uint64_t> default_seeds, int default_trials);

// The damage of trial `trial` of `seed` depends on nothing else, so that
// REVKV_SEED and REVKV_FUZZ_TRIAL replay it.
std::mt19937_64 TrialRng(uint64_t seed, int trial);

// Whether the environment variable `name` is set to a non-empty value but "0".
bool EnvFlag(const char* name);

// Counts the classes; prints each failure with its replay line.
class Tally {
 public:
  void Add(uint64_t seed, int trial, const Damage& damage, const TrialResult& r);
  // Prints the count of each class; returns the failures' descriptions.
  std::string Summary() const;
  int failures() const { return failures_; }
  int count(TrialClass c) const { return counts_[int(c)]; }

 private:
  // REVKV_FUZZ_VERBOSE=1 prints the trials that pass too.
  const bool verbose_ = EnvFlag("REVKV_FUZZ_VERBOSE");
  int counts_[kTrialClasses] = {};
  int failures_ = 0;
  std::vector<std::string> failed_;
};

// One seed's trials of `plan`: each damages a copy of `cur` (DamageFile),
// hands it to `place` to write under a fresh directory `work`, runs
// `ops(work, &answers)` in a forked child (RunForked), classifies the answers
// against `ref_cur` and `ref_prev` (Classify) and adds them to *tally.
void RunSeedTrials(const FuzzPlan& plan, uint64_t seed, const std::string& seed_dir,
                   const std::string& cur, uint32_t page_size,
                   const std::map<std::string, std::string>& ref_cur,
                   const std::map<std::string, std::string>& ref_prev,
                   const std::function<void(const std::string& work, const std::string& bytes)>& place,
                   const std::function<void(const std::string& work, Answers*)>& ops, Tally* tally);

}  // namespace revkv::btree::testutil

#endif  // REVKV_TESTS_BTREE_CORRUPTION_FUZZ_H_
