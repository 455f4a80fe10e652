#include "tests/btree/corruption_fuzz.h"

#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <iostream>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "btree/page.h"

namespace revkv::btree::testutil {
namespace {

// The child's exit codes are kExitBase + class: anything else (a sanitizer's
// 1, a signal) is a crash.
constexpr int kExitBase = 40;

int64_t EnvInt(const char* name, int64_t fallback) {
  const char* s = getenv(name);
  int64_t v;
  if (s == nullptr || *s == '\0' || !absl::SimpleAtoi(s, &v)) return fallback;
  return v;
}

// Where two answers part, briefly: an answer may be a whole database dump.
std::string DescribeDifference(const std::string& want, const std::string& got) {
  size_t i = 0;
  while (i < want.size() && i < got.size() && want[i] == got[i]) ++i;
  const size_t from = i < 24 ? 0 : i - 24;
  auto around = [&](const std::string& s) {
    return absl::CHexEscape(s.substr(std::min(from, s.size()), 64));
  };
  return absl::StrFormat("%d bytes, want %d; first difference at %d: got \"%s\", want \"%s\"",
                         got.size(), want.size(), i, around(got), around(want));
}

}  // namespace

bool EnvFlag(const char* name) {
  const char* s = getenv(name);
  return s != nullptr && *s != '\0' && std::string_view(s) != "0";
}

const char* ClassName(TrialClass c) {
  switch (c) {
    case TrialClass::kIdentical: return "IDENTICAL";
    case TrialClass::kError: return "ERROR";
    case TrialClass::kRollbackReported: return "META_DAMAGE_NOTED";
    case TrialClass::kSilentDifference: return "SILENT_DIFFERENCE";
    case TrialClass::kOtherError: return "OTHER_ERROR";
    case TrialClass::kRollbackUnexpected: return "ROLLBACK_UNEXPECTED";
    case TrialClass::kCrash: return "CRASH";
    case TrialClass::kHang: return "HANG";
  }
  return "?";
}

bool IsFailure(TrialClass c) {
  return c != TrialClass::kIdentical && c != TrialClass::kError &&
         c != TrialClass::kRollbackReported;
}

uint64_t BytesInUse(const std::string& file, uint32_t page_size) {
  uint64_t high_water = 0;
  for (size_t m = 0; m < 2 && (m + 1) * page_size <= file.size(); ++m) {
    MetaBody meta;
    if (!DecodeMeta(file.data() + m * page_size, &meta).ok()) continue;
    high_water = std::max<uint64_t>(high_water, meta.high_water);
  }
  return std::min<uint64_t>(high_water * page_size, file.size());
}

Damage DamageFile(std::mt19937_64& rng, uint32_t page_size, uint64_t in_use,
                  std::string* bytes) {
  Damage d;
  const size_t size = bytes->size();
  // Most damage lands in the pages the newest commit uses; the rest
  // anywhere, the grown tail included.
  const size_t span = rng() % 4 != 0 && in_use >= 2 * page_size ? in_use : size;
  const size_t pages = span / page_size;
  // Distinct offsets: two flips of one byte could cancel out.
  std::set<size_t> flipped;
  auto flip = [&](size_t off) {
    if (!flipped.insert(off).second) return false;
    (*bytes)[off] ^= char(1 + rng() % 255);
    if (off < 2 * size_t{page_size}) d.touched_meta = true;
    return true;
  };
  switch (rng() % 5) {
    case 0: {  // 1-8 bytes anywhere
      const int n = 1 + int(rng() % 8);
      std::vector<size_t> at;
      while (int(at.size()) < n) {
        if (const size_t off = rng() % span; flip(off)) at.push_back(off);
      }
      d.what = absl::StrCat(n, " byte flips at ", absl::StrJoin(at, ","));
      break;
    }
    case 1: {  // a zeroed page
      const size_t page = rng() % pages;
      std::fill_n(bytes->begin() + page * page_size, page_size, '\0');
      d.touched_meta = page < 2;
      d.what = absl::StrCat("page ", page, " zeroed");
      break;
    }
    case 2: {  // truncated anywhere, to nothing included
      const size_t len = rng() % span;
      bytes->resize(len);
      d.touched_meta = len < 2 * size_t{page_size};
      d.what = absl::StrCat("truncated to ", len, " of ", size, " bytes");
      break;
    }
    case 3: {  // garbage after the end: whole pages, or not
      const size_t n = 1 + rng() % (3 * page_size);
      for (size_t i = 0; i < n; ++i) bytes->push_back(char(rng()));
      d.what = absl::StrCat(n, " garbage bytes appended to ", size);
      break;
    }
    default: {  // 1-8 bytes of a meta page, mostly in the bytes it checksums
      const size_t page = rng() % 2;
      const int n = 1 + int(rng() % 8);
      std::vector<size_t> at;
      while (int(at.size()) < n) {
        const size_t within = rng() % 4 != 0 ? 256 : page_size;
        if (const size_t off = page * page_size + rng() % within; flip(off)) at.push_back(off);
      }
      d.what = absl::StrCat("meta page ", page, ": ", n, " byte flips at ",
                            absl::StrJoin(at, ","));
      break;
    }
  }
  return d;
}

bool Answers::Record(const std::string& op, absl::StatusOr<std::string> answer) {
  const bool ok = answer.ok();
  ops_.emplace_back(op, std::move(answer));
  return ok;
}

absl::StatusOr<std::map<std::string, std::string>> Answers::AsReference() const {
  std::map<std::string, std::string> out;
  for (const auto& [op, answer] : ops_) {
    if (!answer.ok()) {
      return absl::Status(answer.status().code(), absl::StrCat(op, ": ", answer.status().ToString()));
    }
    if (!out.emplace(op, *answer).second) {
      return absl::InternalError(absl::StrCat("operation ", op, " recorded twice"));
    }
  }
  return out;
}

namespace {

// The first answer of `got` that differs from `want`, or "".
std::string FirstDifference(const Answers& got, const std::map<std::string, std::string>& want,
                            const char* timeline) {
  for (const auto& [op, answer] : got.ops()) {
    if (!answer.ok()) continue;
    auto w = want.find(op);
    if (w == want.end()) return absl::StrCat(op, ": answered, but the reference has no answer");
    if (w->second != *answer) {
      return absl::StrCat(op, " (vs the ", timeline, "): ", DescribeDifference(w->second, *answer));
    }
  }
  return "";
}

}  // namespace

TrialResult Classify(const Answers& got, const Damage& damage,
                     const std::map<std::string, std::string>& cur,
                     const std::map<std::string, std::string>& prev) {
  // An open that set a damaged meta page aside says so; it opened the other
  // meta, which is the newest commit (the damaged one was older) or the
  // previous one, and answers as of that commit throughout.
  const bool noted = !got.note.empty();
  std::string silent = FirstDifference(got, cur, "newest commit");
  bool rolled_back = false;
  if (noted && !silent.empty()) {
    std::string vs_prev = FirstDifference(got, prev, "previous commit");
    if (vs_prev.empty()) rolled_back = true;
    silent = vs_prev.empty() ? "" : silent + "; " + vs_prev;
  }
  std::string first_error, other_error;
  for (const auto& [op, answer] : got.ops()) {
    if (answer.ok()) continue;
    const std::string e = absl::StrCat(op, ": ", answer.status().ToString());
    if (answer.status().code() != absl::StatusCode::kDataLoss) {
      if (other_error.empty()) other_error = e;
    } else if (first_error.empty()) {
      first_error = e;
    }
  }
  const std::string note = noted ? absl::StrCat(" [open note: ", got.note, "]") : "";
  if (!silent.empty()) return {TrialClass::kSilentDifference, silent + note};
  if (!other_error.empty()) return {TrialClass::kOtherError, other_error + note};
  if (noted && !damage.touched_meta) {
    return {TrialClass::kRollbackUnexpected, absl::StrCat("no meta page damaged", note)};
  }
  if (!first_error.empty()) return {TrialClass::kError, first_error + note};
  if (noted) return {TrialClass::kRollbackReported, absl::StrCat(rolled_back ? "previous commit: " : "newest commit: ", got.note)};
  return {TrialClass::kIdentical, ""};
}

TrialResult RunForked(const std::function<TrialResult()>& fn,
                      std::chrono::milliseconds timeout) {
  int fds[2];
  if (pipe(fds) != 0) return {TrialClass::kCrash, absl::StrCat("pipe: errno ", errno)};
  std::cout.flush();
  std::cerr.flush();
  const pid_t pid = fork();
  if (pid < 0) return {TrialClass::kCrash, absl::StrCat("fork: errno ", errno)};
  if (pid == 0) {
    close(fds[0]);
    TrialResult r = fn();
    const std::string msg = absl::StrCat(int(r.cls), "\n", r.detail);
    size_t done = 0;
    while (done < msg.size()) {
      const ssize_t n = write(fds[1], msg.data() + done, msg.size() - done);
      if (n <= 0) break;
      done += size_t(n);
    }
    std::cout.flush();
    _exit(kExitBase + int(r.cls));  // no atexit work: the parent's state is not ours
  }
  close(fds[1]);
  // Read the report until the child closes the pipe (it exits) or the
  // deadline passes; poll wakes on data or hang-up, not on a timer guess.
  std::string msg;
  bool hung = false;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      hung = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int ready = poll(&p, 1, int(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;  // the deadline check above decides
    char buf[4096];
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF: the child is gone or about to be
    msg.append(buf, size_t(n));
  }
  close(fds[0]);
  if (hung) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (hung) {
    return {TrialClass::kHang, absl::StrCat("killed after ", timeout.count(), " ms")};
  }
  if (WIFSIGNALED(status)) {
    return {TrialClass::kCrash, absl::StrCat("child killed by signal ", WTERMSIG(status))};
  }
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  const size_t nl = msg.find('\n');
  int cls = -1;
  if (nl == std::string::npos || !absl::SimpleAtoi(msg.substr(0, nl), &cls) ||
      code != kExitBase + cls || cls < 0 || cls >= kTrialClasses) {
    return {TrialClass::kCrash, absl::StrCat("child exited with code ", code)};
  }
  return {TrialClass(cls), msg.substr(nl + 1)};
}

FuzzPlan PlanFromEnv(std::vector<uint64_t> default_seeds, int default_trials) {
  FuzzPlan plan;
  const int default_per_seed = std::max<int>(1, default_trials / int(default_seeds.size()));
  if (const char* s = getenv("REVKV_SEED"); s != nullptr && *s != '\0') {
    plan.seeds = {std::strtoull(s, nullptr, 0)};
  } else {
    plan.seeds = std::move(default_seeds);
  }
  // A replayed seed keeps its trial count, so trial numbers mean the same.
  const int64_t total = EnvInt("REVKV_FUZZ_TRIALS", 0);
  plan.trials_per_seed =
      total > 0 ? std::max<int>(1, int(total / int64_t(plan.seeds.size()))) : default_per_seed;
  plan.only_trial = int(EnvInt("REVKV_FUZZ_TRIAL", -1));
  plan.timeout = std::chrono::milliseconds(EnvInt("REVKV_FUZZ_TIMEOUT_MS", 20000));
  for (uint64_t seed : plan.seeds) {
    std::cout << "[ seed     ] " << seed << " (replay: REVKV_SEED=" << seed << ")\n";
  }
  std::cout << "[ trials   ] " << plan.trials_per_seed << " per seed"
            << (plan.only_trial >= 0 ? absl::StrCat(", only trial ", plan.only_trial) : "")
            << ", deadline " << plan.timeout.count() << " ms each" << std::endl;
  return plan;
}

std::mt19937_64 TrialRng(uint64_t seed, int trial) {
  std::seed_seq seq{uint32_t(seed), uint32_t(seed >> 32), uint32_t(trial)};
  return std::mt19937_64(seq);
}

void Tally::Add(uint64_t seed, int trial, const Damage& damage, const TrialResult& r) {
  ++counts_[int(r.cls)];
  if (!IsFailure(r.cls)) {
    if (verbose_) {
      std::cout << ClassName(r.cls) << " (seed " << seed << " trial " << trial << "): "
                << damage.what << (damage.touched_meta ? " [meta]" : "") << ": " << r.detail
                << std::endl;
    }
    return;
  }
  ++failures_;
  std::string line = absl::StrCat(ClassName(r.cls), " (replay: REVKV_SEED=", seed,
                                  " REVKV_FUZZ_TRIAL=", trial, "): ", damage.what,
                                  damage.touched_meta ? " [meta]" : "", ": ", r.detail);
  std::cout << line << std::endl;
  failed_.push_back(std::move(line));
}

std::string Tally::Summary() const {
  std::string counts;
  for (int c = 0; c < kTrialClasses; ++c) {
    absl::StrAppend(&counts, c == 0 ? "" : ", ", ClassName(TrialClass(c)), " ", counts_[c]);
  }
  std::cout << "[ classes  ] " << counts << std::endl;
  std::string out;
  for (size_t i = 0; i < failed_.size() && i < 30; ++i) absl::StrAppend(&out, "\n  ", failed_[i]);
  if (failed_.size() > 30) absl::StrAppend(&out, "\n  ... ", failed_.size() - 30, " more");
  return out;
}

void RunSeedTrials(const FuzzPlan& plan, uint64_t seed, const std::string& seed_dir,
                   const std::string& cur, uint32_t page_size,
                   const std::map<std::string, std::string>& ref_cur,
                   const std::map<std::string, std::string>& ref_prev,
                   const std::function<void(const std::string& work, const std::string& bytes)>& place,
                   const std::function<void(const std::string& work, Answers*)>& ops, Tally* tally) {
  const uint64_t in_use = BytesInUse(cur, page_size);
  for (int trial = 0; trial < plan.trials_per_seed; ++trial) {
    if (plan.only_trial >= 0 && trial != plan.only_trial) continue;
    std::mt19937_64 rng = TrialRng(seed, trial);
    std::string bytes = cur;
    const Damage damage = DamageFile(rng, page_size, in_use, &bytes);
    const std::string work = absl::StrCat(seed_dir, "/trial", trial);
    std::filesystem::create_directories(work);
    place(work, bytes);
    const TrialResult r = RunForked(
        [&] {
          Answers answers;
          ops(work, &answers);
          return Classify(answers, damage, ref_cur, ref_prev);
        },
        plan.timeout);
    tally->Add(seed, trial, damage, r);
    std::filesystem::remove_all(work);
  }
}

}  // namespace revkv::btree::testutil
