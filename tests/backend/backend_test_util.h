// Helpers shared by the backend tests: status assertions, test configs and
// whole-bucket reads.
#ifndef REVKV_TESTS_BACKEND_BACKEND_TEST_UTIL_H_
#define REVKV_TESTS_BACKEND_BACKEND_TEST_UTIL_H_

#include <chrono>
#include <future>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "backend/backend.h"
#include "gtest/gtest.h"

namespace revkv::backend::testutil {

// A deadline to report a hang as a failure, not a synchronisation.
template <typename T>
bool Done(std::future<T>& f) {
  return f.wait_for(std::chrono::seconds(30)) == std::future_status::ready;
}

inline absl::Status ToStatus(const absl::Status& s) { return s; }
template <typename T>
absl::Status ToStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

// Deterministic batching: no committer, no limit, no fsync.
inline BackendConfig ManualConfig() {
  BackendConfig c = DefaultBackendConfig();
  c.batch_interval = std::chrono::milliseconds(0);
  c.batch_limit = 0;
  c.no_sync = true;
  return c;
}

using KV = std::map<std::string, std::string>;

// Everything a view shows of `bucket`.
template <typename Tx>
KV ReadAll(Tx& tx, std::string_view bucket) {
  KV out;
  absl::Status s = tx.UnsafeForEach(bucket, [&](std::string_view k, std::string_view v) {
    out.emplace(std::string(k), std::string(v));
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

inline KV ToMap(const KeyValues& kvs) {
  KV out;
  for (size_t i = 0; i < kvs.size(); ++i) out[kvs.keys[i]] = kvs.values[i];
  return out;
}

// Runs fn inside one Lock/Unlock cycle of the backend's BatchTx.
inline absl::Status Write(Backend& b, const std::function<absl::Status(BatchTx&)>& fn) {
  BatchTx& tx = b.batch_tx();
  tx.Lock();
  absl::Status s = fn(tx);
  tx.Unlock();
  return s;
}

// Waits until pred() holds, polling, for at most `deadline`. For conditions
// that depend on a timer (the committer); never asserts a duration.
inline bool WaitUntil(const std::function<bool()>& pred,
                      std::chrono::seconds deadline = std::chrono::seconds(30)) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

}  // namespace revkv::backend::testutil

#define ASSERT_OK(expr)                                                     \
  do {                                                                      \
    const ::absl::Status _st = ::revkv::backend::testutil::ToStatus(expr);  \
    ASSERT_TRUE(_st.ok()) << #expr << ": " << _st;                          \
  } while (0)
#define EXPECT_OK(expr)                                                     \
  do {                                                                      \
    const ::absl::Status _st = ::revkv::backend::testutil::ToStatus(expr);  \
    EXPECT_TRUE(_st.ok()) << #expr << ": " << _st;                          \
  } while (0)
#define REVKV_BT_CONCAT_INNER(a, b) a##b
#define REVKV_BT_CONCAT(a, b) REVKV_BT_CONCAT_INNER(a, b)
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL(REVKV_BT_CONCAT(_statusor_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL(so, lhs, expr)        \
  auto so = (expr);                                     \
  ASSERT_TRUE(so.ok()) << #expr << ": " << so.status(); \
  lhs = std::move(*so)

#endif  // REVKV_TESTS_BACKEND_BACKEND_TEST_UTIL_H_
