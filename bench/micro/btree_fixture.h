// What the btree micro-benchmarks share: their keys and values, failing
// loudly, loading a bucket, opening a transaction on it, and the database
// files (one temporary directory per process, removed at exit).
//
// Thread-compatible (the benchmarks run single-threaded).
#ifndef REVKV_BENCH_MICRO_BTREE_FIXTURE_H_
#define REVKV_BENCH_MICRO_BTREE_FIXTURE_H_

#include <stdlib.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <string_view>

#include "btree/db.h"

namespace revkv::btree::micro {

inline constexpr size_t kKeySize = 16;
inline constexpr size_t kValueSize = 128;

// Key i: the decimal i zero-padded to 16 bytes, so key order is index order.
inline std::string Key(uint64_t i) {
  char buf[24];  // room for any uint64
  std::snprintf(buf, sizeof(buf), "%016llu", static_cast<unsigned long long>(i));
  return std::string(buf, kKeySize);
}

// 128 random bytes, the same for the same seed.
inline std::string Value(uint64_t seed) {
  std::string v(kValueSize, '\0');
  std::mt19937_64 rng(seed);
  for (char& c : v) c = static_cast<char>(rng());
  return v;
}

[[noreturn]] inline void Die(const absl::Status& s, const char* what) {
  std::fprintf(stderr, "btree micro-benchmark: %s: %s\n", what, s.ToString().c_str());
  std::abort();
}

// Puts keys [0, n) with `value` into bucket "bench", 10,000 per commit.
inline void LoadAscending(DB& db, uint64_t n, const std::string& value) {
  for (uint64_t start = 0; start < n; start += 10'000) {
    absl::Status s = db.Update([&](Tx& tx) -> absl::Status {
      absl::StatusOr<Bucket*> b = tx.CreateBucketIfNotExists("bench");
      if (!b.ok()) return b.status();
      for (uint64_t i = start; i < std::min(n, start + 10'000); ++i) {
        if (absl::Status s = (*b)->Put(Key(i), value); !s.ok()) return s;
      }
      return absl::OkStatus();
    });
    if (!s.ok()) Die(s, "load");
  }
}

// Begins a transaction into *tx and returns its bucket `name`.
inline Bucket* Begin(DB& db, bool writable, std::unique_ptr<Tx>* tx,
                     std::string_view name = "bench") {
  absl::StatusOr<std::unique_ptr<Tx>> t = db.Begin(writable);
  if (!t.ok()) Die(t.status(), "begin");
  *tx = *std::move(t);
  absl::StatusOr<Bucket*> b = (*tx)->GetBucket(name);
  if (!b.ok()) Die(b.status(), "bucket");
  return *b;
}

// Begins a write transaction into *tx and sets *bucket to its "bench".
inline void BeginWrite(DB& db, std::unique_ptr<Tx>* tx, Bucket** bucket) {
  *bucket = Begin(db, /*writable=*/true, tx);
}

// The benchmark files, opened with no_sync (fsync is not what these
// benchmarks measure).
class Files {
 public:
  static Files& Get() {
    static Files* files = new Files;
    return *files;
  }

  // A database whose bucket "bench" holds keys [0, n), loaded once per n.
  DB* Loaded(uint64_t n) {
    if (auto it = dbs_.find(n); it != dbs_.end()) return it->second.get();
    std::unique_ptr<DB> db = Open("loaded-" + std::to_string(n));
    LoadAscending(*db, n, Value(1));
    return (dbs_[n] = std::move(db)).get();
  }

  // The database `name` in the directory (new if it is not there yet).
  std::unique_ptr<DB> Open(const std::string& name) {
    Options o;
    o.no_sync = true;
    absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(dir_ + "/" + name + ".db", o);
    if (!db.ok()) Die(db.status(), "open");
    return *std::move(db);
  }

  // A fresh database with an empty bucket "bench".
  std::unique_ptr<DB> Fresh() {
    std::unique_ptr<DB> db = Open("fresh-" + std::to_string(fresh_++));
    absl::Status s = db->Update(
        [](Tx& tx) -> absl::Status { return tx.CreateBucketIfNotExists("bench").status(); });
    if (!s.ok()) Die(s, "create bucket");
    return db;
  }

 private:
  Files() {
    const char* tmp = std::getenv("TMPDIR");
    std::string tmpl = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") +
                       "/revkv-btree-micro-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    dir_ = tmpl;
    std::atexit([] {
      Files& f = Get();
      f.dbs_.clear();
      std::error_code ec;
      std::filesystem::remove_all(f.dir_, ec);
    });
  }

  std::string dir_;
  std::map<uint64_t, std::unique_ptr<DB>> dbs_;
  int fresh_ = 0;
};

}  // namespace revkv::btree::micro

#endif  // REVKV_BENCH_MICRO_BTREE_FIXTURE_H_
