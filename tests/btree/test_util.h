// Helpers shared by the btree tests: temporary directories, seeds, and whole
// database contents as plain maps.
#ifndef REVKV_TESTS_BTREE_TEST_UTIL_H_
#define REVKV_TESTS_BTREE_TEST_UTIL_H_

#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "btree/db.h"
#include "gtest/gtest.h"

namespace revkv::btree::testutil {

// A fresh directory under the test's temporary directory, removed with
// everything in it on destruction.
class ScopedTempDir {
 public:
  ScopedTempDir() {
    std::string base = ::testing::TempDir();
    if (base.empty() || base.back() != '/') base += '/';
    std::string tmpl = base + "btree_test_XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    char* p = mkdtemp(buf.data());
    if (p == nullptr) {
      ADD_FAILURE() << "mkdtemp failed under " << base;
      path_ = base;
      return;
    }
    path_ = p;
  }
  ~ScopedTempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

// The seed of a randomized test: REVKV_SEED from the environment if set, else
// `fallback`. Printed so that a failure can be replayed.
inline uint64_t TestSeed(uint64_t fallback) {
  uint64_t seed = fallback;
  if (const char* s = getenv("REVKV_SEED"); s != nullptr && *s != '\0') {
    seed = std::strtoull(s, nullptr, 0);
  }
  std::cout << "[ seed     ] " << seed << " (replay: REVKV_SEED=" << seed << ")"
            << std::endl;
  ::testing::Test::RecordProperty("seed", std::to_string(seed));
  return seed;
}

// The seeds of a test that runs several: REVKV_SEED alone when set, else
// `defaults`.
inline std::vector<uint64_t> TestSeeds(std::vector<uint64_t> defaults) {
  if (const char* s = getenv("REVKV_SEED"); s != nullptr && *s != '\0') {
    return {std::strtoull(s, nullptr, 0)};
  }
  return defaults;
}

// Whole contents of a snapshot: bucket path (names joined by '/', "" for the
// catalog) -> key -> value. A nested bucket appears in its parent as the value
// BucketMarker(sequence) and under its own path with its entries.
using Contents = std::map<std::string, std::map<std::string, std::string>>;

inline std::string BucketMarker(uint64_t sequence) {
  return absl::StrCat("<bucket seq=", sequence, ">");
}

inline absl::Status DumpBucket(Bucket& b, const std::string& path, Contents* out) {
  auto& entries = (*out)[path];
  Cursor c = b.NewCursor();
  for (c.First(); c.Valid(); c.Next()) {
    std::string key(c.key());
    if (c.is_bucket()) {
      absl::StatusOr<Bucket*> child = b.GetBucket(key);
      if (!child.ok()) return child.status();
      entries[key] = BucketMarker((*child)->Sequence());
      std::string child_path = path.empty() ? key : absl::StrCat(path, "/", key);
      if (absl::Status s = DumpBucket(**child, child_path, out); !s.ok()) return s;
    } else {
      entries[key] = std::string(c.value());
    }
  }
  return c.status();
}

inline absl::StatusOr<Contents> Dump(Tx& tx) {
  Contents out;
  if (absl::Status s = DumpBucket(tx.root(), "", &out); !s.ok()) return s;
  return out;
}

inline absl::StatusOr<Contents> Dump(DB& db) {
  Contents out;
  absl::Status s = db.View([&](Tx& tx) {
    absl::StatusOr<Contents> c = Dump(tx);
    if (!c.ok()) return c.status();
    out = *std::move(c);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

inline std::string Shorten(std::string_view s) {
  if (s.size() <= 40) return absl::CHexEscape(std::string(s));
  return absl::StrCat(absl::CHexEscape(std::string(s.substr(0, 40))), "...(", s.size(),
                      " bytes)");
}

// "" when equal, else a description of the first difference.
inline std::string DiffContents(const Contents& want, const Contents& got) {
  for (const auto& [path, entries] : want) {
    auto it = got.find(path);
    if (it == got.end()) return absl::StrCat("bucket '", path, "' missing");
    const auto& g = it->second;
    for (const auto& [k, v] : entries) {
      auto gi = g.find(k);
      if (gi == g.end()) {
        return absl::StrCat("bucket '", path, "': key ", Shorten(k), " missing");
      }
      if (gi->second != v) {
        return absl::StrCat("bucket '", path, "': key ", Shorten(k), " has ",
                            Shorten(gi->second), ", want ", Shorten(v));
      }
    }
    for (const auto& [k, v] : g) {
      if (!entries.count(k)) {
        return absl::StrCat("bucket '", path, "': unexpected key ", Shorten(k));
      }
    }
  }
  for (const auto& [path, entries] : got) {
    if (!want.count(path)) return absl::StrCat("unexpected bucket '", path, "'");
  }
  return "";
}

inline std::string JoinProblems(const std::vector<std::string>& problems) {
  std::string out;
  for (size_t i = 0; i < problems.size() && i < 20; ++i) {
    absl::StrAppend(&out, "\n  ", problems[i]);
  }
  if (problems.size() > 20) absl::StrAppend(&out, "\n  ...");
  return out;
}

// Asserts that DB::Check finds nothing.
inline ::testing::AssertionResult CheckClean(DB& db) {
  std::vector<std::string> problems;
  absl::Status s = db.Check(&problems);
  if (s.ok() && problems.empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "Check: " << s << JoinProblems(problems);
}

inline std::string ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void WriteFileBytes(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
}

// Random bytes of length n.
inline std::string RandomBytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = char(rng());
  return s;
}

}  // namespace revkv::btree::testutil

#define ASSERT_OK(expr)                                     \
  do {                                                      \
    const ::absl::Status _st = ::revkv::btree::testutil::ToStatus(expr); \
    ASSERT_TRUE(_st.ok()) << #expr << ": " << _st;          \
  } while (0)
#define EXPECT_OK(expr)                                     \
  do {                                                      \
    const ::absl::Status _st = ::revkv::btree::testutil::ToStatus(expr); \
    EXPECT_TRUE(_st.ok()) << #expr << ": " << _st;          \
  } while (0)

#define REVKV_TEST_CONCAT_INNER(a, b) a##b
#define REVKV_TEST_CONCAT(a, b) REVKV_TEST_CONCAT_INNER(a, b)
// ASSERT_OK_AND_ASSIGN(auto db, DB::Open(path)): asserts OK, then assigns.
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL(REVKV_TEST_CONCAT(_statusor_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL(so, lhs, expr)           \
  auto so = (expr);                                        \
  ASSERT_TRUE(so.ok()) << #expr << ": " << so.status();    \
  lhs = std::move(*so)

namespace revkv::btree::testutil {
inline absl::Status ToStatus(const absl::Status& s) { return s; }
template <typename T>
absl::Status ToStatus(const absl::StatusOr<T>& s) {
  return s.status();
}
}  // namespace revkv::btree::testutil

#endif  // REVKV_TESTS_BTREE_TEST_UTIL_H_
