// The libkv store over revkv is linearizable: threads run random Get, Put,
// Delete, AtomicPut (create-if-absent, and compare-and-swap on the last pair
// they saw) and AtomicDelete on a few keys, so that they collide; each call's
// invocation and response are stamped on one shared counter; the history is
// then checked (linearizability_checker.h).
//
// Seed: printed; REVKV_LIN_SEED sets it. REVKV_LIN_OPS: operations per round
// (default 600). Rounds run until REVKV_LIN_SECONDS (default 8, under TSan 2)
// have passed, or REVKV_LIN_ROUNDS (default unbounded) are done.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <latch>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "kvstore/revkv_store.h"
#include "tests/kvstore/linearizability_checker.h"
#include "tests/kvstore/test_util.h"

namespace revkv::kvstore {
namespace {

using lincheck::Operation;
using lincheck::OpKind;
using lincheck::Outcome;

constexpr int kThreads = 5;
constexpr int kKeys = 3;

#if defined(__SANITIZE_THREAD__)
constexpr double kDefaultSeconds = 2;
#else
constexpr double kDefaultSeconds = 8;
#endif

// Operations invoked while another on the same key was running: the
// concurrency the checker had to untangle.
uint64_t Overlapping(std::vector<Operation> h) {
  std::sort(h.begin(), h.end(), [](const Operation& a, const Operation& b) {
    return a.key != b.key ? a.key < b.key : a.call < b.call;
  });
  uint64_t n = 0, last_ret = 0;
  for (size_t i = 0; i < h.size(); ++i) {
    if (i > 0 && h[i].key == h[i - 1].key && h[i].call < last_ret) ++n;
    last_ret = i > 0 && h[i].key == h[i - 1].key ? std::max(last_ret, h[i].ret) : h[i].ret;
  }
  return n;
}

uint64_t EnvOr(const char* name, uint64_t def) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::strtoull(v, nullptr, 10) : def;
}

// The outcome of a call, or nothing for an error the workload never expects
// (which fails the test).
std::optional<Outcome> OutcomeOf(const absl::Status& s) {
  if (s.ok()) return Outcome::kOk;
  if (IsKeyModified(s)) return Outcome::kKeyModified;
  if (IsKeyNotFound(s)) return Outcome::kKeyNotFound;
  if (IsKeyExists(s)) return Outcome::kKeyExists;
  return std::nullopt;
}

struct Worker {
  Store* kv;
  int thread;
  uint64_t seed;
  int ops;
  std::atomic<uint64_t>* clock;
  std::vector<Operation> history;
  std::string error;  // an unexpected status, if any

  void Run(std::latch* start) {
    std::mt19937_64 rng(seed);
    std::optional<KVPair> seen[kKeys];  // the last pair this thread saw per key
    start->arrive_and_wait();
    for (int i = 0; i < ops && error.empty(); ++i) {
      const int k = int(rng() % kKeys);
      Operation op;
      op.key = "k" + std::to_string(k);
      // Unique per write: the checker tells writes apart by value.
      const std::string value = "t" + std::to_string(thread) + "." + std::to_string(i);
      const unsigned pick = unsigned(rng() % 100);
      absl::Status s;
      op.call = clock->fetch_add(1);
      if (pick < 25) {
        op.kind = OpKind::kGet;
        absl::StatusOr<KVPair> p = kv->Get(op.key);
        s = p.status();
        if (p.ok()) {
          op.result = {p->value, p->last_index};
          seen[k] = *p;
        } else if (IsKeyNotFound(s)) {
          seen[k].reset();
        }
      } else if (pick < 40) {
        op.kind = OpKind::kPut;
        op.value = value;
        s = kv->Put(op.key, value);
      } else if (pick < 47) {
        op.kind = OpKind::kDelete;
        s = kv->Delete(op.key);
      } else if (pick < 85 || !seen[k].has_value()) {
        // Create-if-absent when this thread last saw no pair, else a swap
        // against the last pair it saw (perhaps long stale).
        op.kind = OpKind::kAtomicPut;
        op.value = value;
        if (seen[k].has_value()) op.previous = lincheck::Pair{seen[k]->value, seen[k]->last_index};
        absl::StatusOr<KVPair> p = kv->AtomicPut(op.key, value, seen[k]);
        s = p.status();
        if (p.ok()) {
          op.result = {p->value, p->last_index};
          seen[k] = *p;
        }
      } else {
        op.kind = OpKind::kAtomicDelete;
        op.previous = lincheck::Pair{seen[k]->value, seen[k]->last_index};
        s = kv->AtomicDelete(op.key, seen[k]);
        if (s.ok()) seen[k].reset();
      }
      op.ret = clock->fetch_add(1);
      std::optional<Outcome> o = OutcomeOf(s);
      if (!o.has_value()) {
        error = s.ToString();
        break;
      }
      op.outcome = *o;
      history.push_back(std::move(op));
    }
  }
};

TEST(LinearizabilityTest, LibkvStoreOverRevkvIsLinearizable) {
  const uint64_t seed = EnvOr("REVKV_LIN_SEED", std::random_device{}());
  const int ops = int(EnvOr("REVKV_LIN_OPS", 600));
  const uint64_t max_rounds = EnvOr("REVKV_LIN_ROUNDS", UINT64_MAX);
  const char* secs_env = std::getenv("REVKV_LIN_SECONDS");
  const double seconds = secs_env != nullptr ? std::strtod(secs_env, nullptr) : kDefaultSeconds;
  std::printf("seed %llu (REVKV_LIN_SEED), %d ops per round (REVKV_LIN_OPS)\n",
              (unsigned long long)seed, ops);
  testutil::TempDir dir;
  testutil::MvccFixture db(dir.path() + "/db");

  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(seconds));
  uint64_t rounds = 0, checked = 0, states = 0, overlapping = 0;
  int counts[5][4] = {};  // [kind][outcome] over the run
  while (rounds < max_rounds && (rounds == 0 || std::chrono::steady_clock::now() < deadline)) {
    // A fresh bucket per round: every key starts absent.
    auto kv = RevkvStore::Wrap(db.db(), "r" + std::to_string(rounds));
    ASSERT_TRUE(kv.ok()) << kv.status();
    std::atomic<uint64_t> clock{0};
    std::latch start(kThreads);
    std::vector<Worker> workers;
    for (int t = 0; t < kThreads; ++t) {
      workers.push_back(Worker{kv->get(), t, seed + rounds * kThreads + uint64_t(t),
                               ops / kThreads, &clock, {}, {}});
    }
    std::vector<std::thread> threads;
    for (Worker& w : workers) threads.emplace_back(&Worker::Run, &w, &start);
    for (std::thread& t : threads) t.join();

    std::vector<Operation> history;
    for (Worker& w : workers) {
      ASSERT_EQ(w.error, "") << "seed " << seed << " round " << rounds;
      history.insert(history.end(), w.history.begin(), w.history.end());
    }
    for (const Operation& op : history) ++counts[int(op.kind)][int(op.outcome)];
    lincheck::CheckResult r = lincheck::Check(history);
    states += r.states;
    if (!r.linearizable) {
      std::string ops_of_key;
      for (const Operation& op : history) {
        if (op.key == r.key) ops_of_key += lincheck::Describe(op) + "\n";
      }
      FAIL() << "not linearizable: key " << r.key << " (" << r.key_ops << " ops, at most "
             << r.best_prefix << " linearized), seed " << seed << " round " << rounds << "\n"
             << ops_of_key;
    }
    checked += history.size();
    overlapping += Overlapping(std::move(history));
    ++rounds;
  }
  std::printf("%llu rounds, %llu operations (%llu overlapping another on their key), "
              "%llu search states\n",
              (unsigned long long)rounds, (unsigned long long)checked,
              (unsigned long long)overlapping, (unsigned long long)states);
  // The workload must have reached every case it claims to test.
  const int put = int(OpKind::kAtomicPut), del = int(OpKind::kAtomicDelete);
  EXPECT_GT(counts[put][int(Outcome::kOk)], 0);
  EXPECT_GT(counts[put][int(Outcome::kKeyModified)], 0);
  EXPECT_GT(counts[put][int(Outcome::kKeyExists)], 0);
  EXPECT_GT(counts[put][int(Outcome::kKeyNotFound)], 0);
  EXPECT_GT(counts[del][int(Outcome::kOk)], 0);
  EXPECT_GT(counts[del][int(Outcome::kKeyModified)], 0);
  EXPECT_GT(counts[int(OpKind::kGet)][int(Outcome::kOk)], 0);
  EXPECT_GT(counts[int(OpKind::kDelete)][int(Outcome::kOk)], 0);
}

}  // namespace
}  // namespace revkv::kvstore
