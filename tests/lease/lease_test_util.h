// A revkv::DB on a fake lease clock, reopened at will, for the lease tests.
#ifndef REVKV_TESTS_LEASE_LEASE_TEST_UTIL_H_
#define REVKV_TESTS_LEASE_LEASE_TEST_UTIL_H_

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"
#include "lease/clock.h"
#include "lease/lessor.h"
#include "revkv/db.h"
#include "tests/btree/test_util.h"

namespace revkv::lease {

// The events of the next responses of `s` until `n` arrived, or 30 s
// passed (a deadline, not a sleep: the events normally come at once).
inline std::vector<mvcc::Event> NextEvents(mvcc::WatchStream& s, size_t n) {
  std::stop_source stop;
  std::jthread timer([&stop](std::stop_token st) {
    std::mutex m;
    std::condition_variable_any cv;
    std::unique_lock l(m);
    if (!cv.wait_for(l, st, std::chrono::seconds(30), [] { return false; })) stop.request_stop();
  });
  std::vector<mvcc::Event> out;
  while (out.size() < n) {
    std::optional<mvcc::WatchResponse> r = s.Next(stop.get_token());
    if (!r.has_value()) break;
    out.insert(out.end(), r->events.begin(), r->events.end());
  }
  return out;
}

class LeaseDB {
 public:
  explicit LeaseDB(Options options = {}) : options_(options) {
    options_.lease.clock = &clock_;
    options_.no_sync = true;
  }
  absl::Status Open() {
    absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(dir_.File("data"), options_);
    if (!db.ok()) return db.status();
    db_ = *std::move(db);
    return absl::OkStatus();
  }
  absl::Status Reopen() {
    if (db_ != nullptr) {
      if (absl::Status s = db_->Close(); !s.ok()) return s;
      db_.reset();
    }
    return Open();
  }
  DB& db() { return *db_; }
  Lessor& lessor() { return *db_->lessor(); }
  FakeClock& clock() { return clock_; }
  Options& options() { return options_; }
  void Close() {
    if (db_ != nullptr) {
      EXPECT_TRUE(db_->Close().ok());
    }
    db_.reset();
  }

  // Every live key with its value and lease, in key order.
  std::vector<std::tuple<std::string, std::string, int64_t>> Dump() {
    std::vector<std::tuple<std::string, std::string, int64_t>> out;
    absl::StatusOr<mvcc::RangeResult> r = db_->Range("\x01", std::string_view("\0", 1));
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return out;
    for (const mvcc::KeyValue& kv : r->kvs) out.emplace_back(kv.key, kv.value, kv.lease);
    return out;
  }

 private:
  btree::testutil::ScopedTempDir dir_;
  FakeClock clock_;
  Options options_;
  std::unique_ptr<DB> db_;
};

}  // namespace revkv::lease

#endif  // REVKV_TESTS_LEASE_LEASE_TEST_UTIL_H_
