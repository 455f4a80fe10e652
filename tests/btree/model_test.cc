// Model-based randomized test: a long random sequence of puts, deletes (single
// keys and key ranges), bucket creation and deletion, commits, rollbacks and
// reopens, checked step by step against std::map models of the working and
// the committed state. DB::Check must stay clean after every commit.
//
// Replay one seed with REVKV_SEED=<seed>; REVKV_BTREE_MODEL_OPS=<n> changes the
// number of operations per seed. Seeds divisible by 4 use 64 KiB pages.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <deque>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "btree/db.h"
#include "gtest/gtest.h"
#include "tests/btree/test_util.h"

namespace revkv::btree {
namespace {

using testutil::Contents;
using testutil::DiffContents;
using testutil::ScopedTempDir;

using Model = std::map<std::string, std::map<std::string, std::string>>;

int OpsPerSeed() {
  if (const char* s = getenv("REVKV_BTREE_MODEL_OPS"); s != nullptr && *s != '\0') {
    return std::atoi(s);
  }
  return 7000;
}

// Contents (see test_util.h) of a model whose buckets are all top-level.
Contents ToContents(const Model& m) {
  Contents c;
  c[""];
  for (const auto& [name, entries] : m) {
    c[""][name] = testutil::BucketMarker(0);
    c[name] = entries;
  }
  return c;
}

class Runner {
 public:
  // Every fourth seed uses 64 KiB pages.
  Runner(uint64_t seed, std::string path)
      : rng_(seed), path_(std::move(path)), page_size_(seed % 4 == 0 ? 65536 : 4096) {}

  // Runs `ops` steps; returns false after the first failure (already reported).
  bool Run(int ops) {
    if (!Open()) return false;
    for (step_ = 0; step_ < ops; ++step_) {
      if (!Step()) {
        ReportLog();
        return false;
      }
    }
    if (tx_ != nullptr && !EndTx(/*commit=*/true)) {
      ReportLog();
      return false;
    }
    return true;
  }

  uint64_t commits() const { return commits_; }
  size_t max_keys() const { return max_keys_; }
  uint64_t max_depth() const { return max_depth_; }

 private:
  bool Fail(const std::string& what) {
    ADD_FAILURE() << "step " << step_ << ": " << what;
    return false;
  }
  void Log(std::string s) {
    log_.push_back(absl::StrCat(step_, ": ", s));
    if (log_.size() > 30) log_.pop_front();
  }
  void ReportLog() {
    std::string all;
    for (const std::string& l : log_) absl::StrAppend(&all, "\n  ", l);
    ADD_FAILURE() << "last operations:" << all;
  }

  uint64_t Uniform(uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng_); }
  bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }

  static constexpr int kKeySpace = 3000;
  static constexpr const char* kBuckets[] = {"alpha", "beta", "gamma", "delta", "eps"};

  // Key `id` has a fixed spelling of a length from 1 to ~1 KiB, so that puts
  // overwrite; a few keys hold bytes 0x00 and 0xff.
  static std::string KeyFor(uint64_t id) {
    uint64_t h = id * 0x9E3779B97F4A7C15ull;
    std::string k = absl::StrFormat("%05d", id);
    size_t len;
    switch ((h >> 60) % 16) {
      case 0:
        len = 1 + (h >> 8) % 4;  // short: a prefix of others
        k = k.substr(0, len);
        return k;
      case 1:
        len = 200 + (h >> 8) % 900;
        break;
      default:
        len = 5 + (h >> 8) % 40;
    }
    while (k.size() < len) k += char('a' + (h >> (k.size() % 50)) % 26);
    if ((h >> 20) % 23 == 0) k += std::string("\0\xff", 2);
    return k;
  }

  std::string RandomValue() {
    size_t size;
    uint64_t r = Uniform(1000);
    if (r < 5) {
      size = 60000 + Uniform(60000);  // many overflow pages
    } else if (r < 40) {
      size = 1024 + Uniform(12000);  // > quarter page, often > page
    } else if (r < 150) {
      size = 100 + Uniform(900);
    } else {
      size = Uniform(100);
    }
    std::string v(size, '\0');
    char c = char('A' + Uniform(26));
    for (size_t i = 0; i < size; ++i) v[i] = char(c + (i % 7));
    if (size >= 8) std::memcpy(v.data(), &value_counter_, 8);
    ++value_counter_;
    return v;
  }

  bool Open() {
    absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(path_, Options{.page_size = page_size_, .no_sync = true});
    if (!db.ok()) return Fail(absl::StrCat("open: ", db.status().ToString()));
    db_ = *std::move(db);
    return CompareCommitted("after open");
  }

  bool CompareCommitted(const std::string& when) {
    absl::StatusOr<Contents> got = testutil::Dump(*db_);
    if (!got.ok()) return Fail(absl::StrCat(when, ": scan: ", got.status().ToString()));
    std::string diff = DiffContents(ToContents(committed_), *got);
    if (!diff.empty()) return Fail(absl::StrCat(when, ": ", diff));
    return true;
  }

  bool CompareBucket(const std::string& name) {
    absl::StatusOr<Bucket*> b = tx_->GetBucket(name);
    if (!b.ok()) return Fail(absl::StrCat("GetBucket ", name, ": ", b.status().ToString()));
    Contents got;
    if (absl::Status s = testutil::DumpBucket(**b, name, &got); !s.ok()) {
      return Fail(absl::StrCat("scan ", name, ": ", s.ToString()));
    }
    Contents want;
    want[name] = working_[name];
    std::string diff = DiffContents(want, got);
    if (!diff.empty()) return Fail(absl::StrCat("in tx: ", diff));
    return true;
  }

  bool BeginTx() {
    absl::StatusOr<std::unique_ptr<Tx>> tx = db_->Begin(true);
    if (!tx.ok()) return Fail(absl::StrCat("begin: ", tx.status().ToString()));
    tx_ = *std::move(tx);
    working_ = committed_;
    return true;
  }

  bool EndTx(bool commit) {
    if (commit) {
      Log("commit");
      if (absl::Status s = tx_->Commit(); !s.ok()) {
        return Fail(absl::StrCat("commit: ", s.ToString()));
      }
      committed_ = working_;
      ++commits_;
      size_t keys = 0;
      for (const auto& [name, entries] : committed_) keys += entries.size();
      max_keys_ = std::max(max_keys_, keys);
    } else {
      Log("rollback");
      tx_->Rollback();
    }
    tx_.reset();
    std::vector<std::string> problems;
    if (absl::Status s = db_->Check(&problems); !s.ok()) {
      return Fail(absl::StrCat("Check after ", commit ? "commit" : "rollback", ": ",
                               s.ToString(), testutil::JoinProblems(problems)));
    }
    if (commit && commits_ % 10 == 0) {
      absl::StatusOr<DBStats> stats = db_->Stats();
      if (!stats.ok()) return Fail(absl::StrCat("stats: ", stats.status().ToString()));
      max_depth_ = std::max(max_depth_, stats->max_depth);
    }
    return CompareCommitted(commit ? "after commit" : "after rollback");
  }

  bool Step() {
    if (tx_ == nullptr) {
      if (Chance(0.05)) {
        Log("reopen");
        db_.reset();
        if (!Open()) return false;
      }
      if (!BeginTx()) return false;
    }
    uint64_t r = Uniform(1000);
    if (working_.empty() || r < 10) return CreateBucket();
    if (r < 13) return DeleteBucket();
    if (r < 45) return EndTx(/*commit=*/!Chance(0.3));
    const std::string& name = std::next(working_.begin(), long(Uniform(working_.size())))->first;
    if (r < 680) return Put(name);
    if (r < 800) return DeleteKey(name);
    if (r < 815) return DeleteRange(name);
    return GetKey(name);
  }

  bool CreateBucket() {
    std::string name = kBuckets[Uniform(std::size(kBuckets))];
    Log(absl::StrCat("create bucket ", name));
    absl::StatusOr<Bucket*> b = tx_->CreateBucket(name);
    if (working_.count(name)) {
      if (b.status().code() != absl::StatusCode::kAlreadyExists) {
        return Fail(absl::StrCat("CreateBucket of existing ", name, ": ", b.status().ToString()));
      }
      return true;
    }
    if (!b.ok()) return Fail(absl::StrCat("CreateBucket ", name, ": ", b.status().ToString()));
    working_[name];
    return CompareBucket(name);
  }

  bool DeleteBucket() {
    std::string name = kBuckets[Uniform(std::size(kBuckets))];
    Log(absl::StrCat("delete bucket ", name));
    absl::Status s = tx_->DeleteBucket(name);
    if (!working_.count(name)) {
      if (!absl::IsNotFound(s)) {
        return Fail(absl::StrCat("DeleteBucket of missing ", name, ": ", s.ToString()));
      }
      return true;
    }
    if (!s.ok()) return Fail(absl::StrCat("DeleteBucket ", name, ": ", s.ToString()));
    working_.erase(name);
    absl::StatusOr<Bucket*> b = tx_->GetBucket(name);
    if (!absl::IsNotFound(b.status())) {
      return Fail(absl::StrCat("deleted bucket ", name, " still found: ", b.status().ToString()));
    }
    return true;
  }

  bool Put(const std::string& name) {
    std::string key = KeyFor(Uniform(kKeySpace));
    std::string value = RandomValue();
    Log(absl::StrCat("put ", name, " ", testutil::Shorten(key), " (", value.size(), " bytes)"));
    absl::StatusOr<Bucket*> b = tx_->GetBucket(name);
    if (!b.ok()) return Fail(b.status().ToString());
    if (Chance(0.01)) {  // split points vary with the fill percent
      const double fill = 0.1 + 0.9 * double(Uniform(1000)) / 999.0;
      Log(absl::StrCat("fill percent ", fill));
      (*b)->SetFillPercent(fill);
    }
    if (absl::Status s = (*b)->Put(key, value); !s.ok()) return Fail(absl::StrCat("put: ", s.ToString()));
    working_[name][key] = value;
    return CompareBucket(name);
  }

  bool DeleteKey(const std::string& name) {
    auto& entries = working_[name];
    std::string key;
    if (!entries.empty() && Chance(0.8)) {
      key = std::next(entries.begin(), long(Uniform(entries.size())))->first;
    } else {
      key = KeyFor(Uniform(kKeySpace));
    }
    Log(absl::StrCat("delete ", name, " ", testutil::Shorten(key)));
    absl::StatusOr<Bucket*> b = tx_->GetBucket(name);
    if (!b.ok()) return Fail(b.status().ToString());
    if (absl::Status s = (*b)->Delete(key); !s.ok()) {
      return Fail(absl::StrCat("delete: ", s.ToString()));
    }
    entries.erase(key);
    return CompareBucket(name);
  }

  // Deletes the keys in [start, end), through a cursor or through Range and
  // Bucket::Delete.
  bool DeleteRange(const std::string& name) {
    // Mostly narrow ranges (ids are the keys' leading digits), sometimes wide.
    uint64_t from = Uniform(kKeySpace);
    uint64_t to = Chance(0.1) ? Uniform(kKeySpace) : from + Uniform(80);
    std::string a = KeyFor(from), b = KeyFor(to);
    if (b < a) std::swap(a, b);
    const bool with_cursor = Chance(0.5);
    Log(absl::StrCat("delete range ", name, " [", testutil::Shorten(a), ", ",
                     testutil::Shorten(b), ") ", with_cursor ? "by cursor" : "by Range"));
    absl::StatusOr<Bucket*> bucket = tx_->GetBucket(name);
    if (!bucket.ok()) return Fail(bucket.status().ToString());
    if (with_cursor) {
      Cursor c = (*bucket)->NewCursor();
      c.Seek(a);
      while (c.Valid() && c.key() < b) {
        if (absl::Status s = c.Delete(); !s.ok()) {
          return Fail(absl::StrCat("cursor delete: ", s.ToString()));
        }
      }
      if (!c.status().ok()) return Fail(absl::StrCat("cursor: ", c.status().ToString()));
    } else {
      std::vector<std::string> keys;
      absl::Status s = (*bucket)->Range(a, b, 0, [&](std::string_view k, std::string_view) {
        keys.emplace_back(k);
        return true;
      });
      if (!s.ok()) return Fail(absl::StrCat("range: ", s.ToString()));
      for (const std::string& k : keys) {
        if (absl::Status d = (*bucket)->Delete(k); !d.ok()) {
          return Fail(absl::StrCat("delete: ", d.ToString()));
        }
      }
    }
    auto& entries = working_[name];
    entries.erase(entries.lower_bound(a), entries.lower_bound(b));
    return CompareBucket(name);
  }

  bool GetKey(const std::string& name) {
    std::string key = KeyFor(Uniform(kKeySpace));
    absl::StatusOr<Bucket*> b = tx_->GetBucket(name);
    if (!b.ok()) return Fail(b.status().ToString());
    std::string_view v;
    absl::Status s = (*b)->Get(key, &v);
    auto& entries = working_[name];
    auto it = entries.find(key);
    if (it == entries.end()) {
      if (!absl::IsNotFound(s)) {
        return Fail(absl::StrCat("get of absent ", testutil::Shorten(key), ": ", s.ToString()));
      }
    } else if (!s.ok() || v != it->second) {
      return Fail(absl::StrCat("get ", testutil::Shorten(key), ": ", s.ToString(), " ",
                               testutil::Shorten(v)));
    }
    return true;
  }

  std::mt19937_64 rng_;
  std::string path_;
  uint32_t page_size_;
  std::unique_ptr<DB> db_;
  std::unique_ptr<Tx> tx_;
  Model committed_, working_;
  int step_ = 0;
  uint64_t commits_ = 0;
  size_t max_keys_ = 0;
  uint64_t max_depth_ = 0;
  uint64_t value_counter_ = 0;
  std::deque<std::string> log_;
};

class ModelTest : public ::testing::TestWithParam<uint64_t> {};

TEST_P(ModelTest, RandomOperationsMatchTheModelAndCheckStaysClean) {
  const uint64_t seed = testutil::TestSeed(GetParam());
  ScopedTempDir dir;
  Runner runner(seed, dir.File("db"));
  EXPECT_TRUE(runner.Run(OpsPerSeed()));
  std::cout << "commits " << runner.commits() << ", most keys committed "
            << runner.max_keys() << ", deepest tree " << runner.max_depth() << std::endl;
  // The sequence did exercise commits and trees of several levels.
  EXPECT_GT(runner.commits(), 10u);
  EXPECT_GE(runner.max_depth(), 2u);
}

INSTANTIATE_TEST_SUITE_P(Seeds, ModelTest,
                         ::testing::ValuesIn(testutil::TestSeeds({1, 2, 3, 4})));

}  // namespace
}  // namespace revkv::btree
