// StoreEnv: a Store over a Backend in a temporary directory, reopenable from
// disk, removed at the end. For tests.
#ifndef REVKV_TESTS_MVCC_STORE_ENV_H_
#define REVKV_TESTS_MVCC_STORE_ENV_H_

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "backend/backend.h"
#include "gtest/gtest.h"
#include "mvcc/store.h"

namespace revkv::mvcc {

class StoreEnv {
 public:
  // batch_limit 0 keeps the backend's default.
  explicit StoreEnv(int64_t batch_limit = 0) : batch_limit_(batch_limit) {
    char tmpl[] = "/tmp/revkv-mvcc-XXXXXX";
    EXPECT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  ~StoreEnv() {
    store_.reset();
    backend_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Opens the backend (no fsync) and the store over it.
  void Open() {
    auto cfg = backend::DefaultBackendConfig();
    cfg.path = dir_ + "/db";
    cfg.no_sync = true;
    if (batch_limit_ > 0) cfg.batch_limit = batch_limit_;
    auto b = backend::Backend::Open(cfg);
    ASSERT_TRUE(b.ok()) << b.status();
    backend_ = std::move(*b);
    auto s = Store::Open(backend_.get(), options_);
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(*s);
  }

  // Closes store and backend and opens both again: the store restores from
  // the file.
  void Reopen() {
    store_.reset();
    ASSERT_TRUE(backend_->Close().ok());
    backend_.reset();
    Open();
  }

  // Replaces the data file with a snapshot of itself (Backend::NewSnapshot)
  // and opens that: what a restore from a snapshot gives.
  void RestoreFromSnapshot() {
    auto snap = backend_->NewSnapshot();
    ASSERT_TRUE(snap.ok()) << snap.status();
    {
      std::ofstream out(dir_ + "/snap", std::ios::binary);
      ASSERT_TRUE((*snap)->WriteTo(out).ok());
      out.close();
      ASSERT_TRUE(out.good());
    }
    ASSERT_TRUE((*snap)->Close().ok());
    store_.reset();
    ASSERT_TRUE(backend_->Close().ok());
    backend_.reset();
    std::filesystem::rename(dir_ + "/snap", dir_ + "/db");
    Open();
  }

  Store* store() { return store_.get(); }
  const std::string& dir() const { return dir_; }
  backend::Backend* backend() { return backend_.get(); }
  // For the stores opened from now on (the open one keeps its own).
  void set_options(const StoreOptions& o) { options_ = o; }

 private:
  int64_t batch_limit_;
  StoreOptions options_;
  std::string dir_;
  std::unique_ptr<backend::Backend> backend_;
  std::unique_ptr<Store> store_;
};

}  // namespace revkv::mvcc

#endif  // REVKV_TESTS_MVCC_STORE_ENV_H_
