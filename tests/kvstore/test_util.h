// Helpers shared by the kvstore tests: a temporary directory, an mvcc store
// over a throwaway backend, and status assertions.
#ifndef REVKV_TESTS_KVSTORE_TEST_UTIL_H_
#define REVKV_TESTS_KVSTORE_TEST_UTIL_H_

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backend/backend.h"
#include "gtest/gtest.h"
#include "mvcc/store.h"
#include "revkv/db.h"

namespace revkv::kvstore::testutil {

#define REVKV_ASSERT_OK(expr)                          \
  do {                                                 \
    const absl::Status _s = ::revkv::kvstore::testutil::ToStatus(expr); \
    ASSERT_TRUE(_s.ok()) << _s;                        \
  } while (0)
#define REVKV_EXPECT_OK(expr)                          \
  do {                                                 \
    const absl::Status _s = ::revkv::kvstore::testutil::ToStatus(expr); \
    EXPECT_TRUE(_s.ok()) << _s;                        \
  } while (0)

inline absl::Status ToStatus(const absl::Status& s) { return s; }
template <typename T>
absl::Status ToStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

// A directory under $TEST_TMPDIR (else /tmp), removed with its contents.
class TempDir {
 public:
  TempDir() {
    const char* base = getenv("TEST_TMPDIR");
    std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/revkv-kvstore-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A backend (no fsync) and an mvcc store at dir/name, reopenable.
class MvccFixture {
 public:
  explicit MvccFixture(std::string path) : path_(std::move(path)) { Open(); }
  ~MvccFixture() { Close(); }
  void Open() {
    Options o;
    o.no_sync = true;
    auto db = DB::OpenFile(path_, o);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
  }
  void Close() {
    if (db_ != nullptr) {
      EXPECT_TRUE(db_->Close().ok());
    }
    db_.reset();
  }
  DB* db() { return db_.get(); }
  mvcc::Store* store() { return db_->store(); }

 private:
  std::string path_;
  std::unique_ptr<DB> db_;
};

}  // namespace revkv::kvstore::testutil

#endif  // REVKV_TESTS_KVSTORE_TEST_UTIL_H_
