// Helpers for the watch tests: a store with a watchable store over it, and
// waits on a stream bounded by a deadline (a stop token), never by sleeps.
#ifndef REVKV_TESTS_MVCC_WATCH_TEST_UTIL_H_
#define REVKV_TESTS_MVCC_WATCH_TEST_UTIL_H_

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <stop_token>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "mvcc/watchable_store.h"
#include "tests/mvcc/store_env.h"

namespace revkv::mvcc {

inline constexpr std::chrono::seconds kWatchTimeout{30};

inline void PrintTo(const Event& e, std::ostream* os) {
  *os << (e.type == Event::Type::kPut ? "PUT " : "DELETE ") << e.kv.key << "@"
      << e.kv.mod_revision << " create " << e.kv.create_revision << " v" << e.kv.version << " = "
      << e.kv.value << (e.prev_kv ? " (prev " + e.prev_kv->value + ")" : "");
}

// The first difference of two event lists, or "" if equal.
inline std::string FirstDifference(const std::vector<Event>& got, const std::vector<Event>& want) {
  for (size_t i = 0; i < std::max(got.size(), want.size()); ++i) {
    if (i < got.size() && i < want.size() && got[i] == want[i]) continue;
    std::ostringstream os;
    os << "at event " << i << " of " << got.size() << " got / " << want.size() << " wanted: got ";
    if (i < got.size()) PrintTo(got[i], &os); else os << "nothing";
    os << ", wanted ";
    if (i < want.size()) PrintTo(want[i], &os); else os << "nothing";
    return os.str();
  }
  return "";
}

// Next(), giving up (nullopt) after `timeout`.
inline std::optional<WatchResponse> NextWithin(WatchStream& s,
                                               std::chrono::milliseconds timeout = kWatchTimeout) {
  std::stop_source stop;
  std::jthread timer([&stop, timeout](std::stop_token st) {
    std::mutex m;
    std::condition_variable_any cv;
    std::unique_lock l(m);
    if (!cv.wait_for(l, st, timeout, [] { return false; })) stop.request_stop();
  });
  return s.Next(stop.get_token());
}

// Reads responses until `n` events arrived in total (or a deadline);
// responses without events (progress, cancel) are kept too.
inline std::vector<WatchResponse> ReadEvents(WatchStream& s, size_t n) {
  std::vector<WatchResponse> out;
  size_t got = 0;
  while (got < n) {
    std::optional<WatchResponse> r = NextWithin(s);
    if (!r) {
      ADD_FAILURE() << "timed out after " << got << " of " << n << " events";
      break;
    }
    got += r->events.size();
    out.push_back(std::move(*r));
  }
  return out;
}

inline std::vector<Event> Flatten(const std::vector<WatchResponse>& rs) {
  std::vector<Event> out;
  for (const WatchResponse& r : rs) out.insert(out.end(), r.events.begin(), r.events.end());
  return out;
}

// Waits (a bounded spin, no sleep) until pred() holds.
template <typename Pred>
bool WaitFor(Pred pred, std::chrono::seconds timeout = kWatchTimeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

class WatchEnv {
 public:
  explicit WatchEnv(const WatchableStoreOptions& options = {}) {
    env_.Open();
    ws_ = WatchableStore::Create(env_.store(), options);
  }
  ~WatchEnv() { ws_->Close(); }
  Store* store() { return env_.store(); }
  WatchableStore* ws() { return ws_.get(); }
  StoreEnv& env() { return env_; }

 private:
  StoreEnv env_;
  std::shared_ptr<WatchableStore> ws_;
};

}  // namespace revkv::mvcc

#endif  // REVKV_TESTS_MVCC_WATCH_TEST_UTIL_H_
