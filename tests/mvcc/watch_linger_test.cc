// The consumer's wake-up coalescing (watch_stream.h): a cold consumer is
// woken by the first push, a hot one lingers until its queue is half full
// or its linger ends, and a linger that finds nothing turns it cold.
#include <chrono>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>
#include <thread>

#include "gtest/gtest.h"
#include "mvcc/watch_stream.h"
#include "tests/mvcc/watch_test_util.h"

namespace revkv::mvcc {

// Reads a stream's wait state under its lock.
class WatchStreamPeer {
 public:
  explicit WatchStreamPeer(WatchStream& s) : s_(s) {}
  int waiting() {
    util::MutexLock l(s_.mu_);
    return s_.waiting_;
  }
  int lingering() {
    util::MutexLock l(s_.mu_);
    return s_.lingering_;
  }
  bool hot() {
    util::MutexLock l(s_.mu_);
    return s_.hot_;
  }
  size_t queued() {
    util::MutexLock l(s_.mu_);
    return s_.queue_.size();
  }

 private:
  WatchStream& s_;
};

namespace {

using std::chrono::hours;
using std::chrono::milliseconds;

TEST(WatchLinger, AColdConsumerIsWokenByTheFirstPush) {
  // A linger of an hour: were a cold consumer to linger, Next would time out.
  WatchEnv env({.consumer_linger = hours(1)});
  auto s = env.ws()->NewStream();
  WatchStreamPeer peer(*s);
  ASSERT_TRUE(s->Watch("k", "", {}).ok());
  std::optional<WatchResponse> got;
  std::thread consumer([&] { got = NextWithin(*s); });
  ASSERT_TRUE(WaitFor([&] { return peer.waiting() == 1; }));
  EXPECT_EQ(peer.lingering(), 0);
  ASSERT_TRUE(env.store()->Put("k", "v").ok());
  consumer.join();
  ASSERT_TRUE(got.has_value());
  ASSERT_EQ(got->events.size(), 1u);
  EXPECT_EQ(got->events[0].kv.value, "v");
  EXPECT_TRUE(peer.hot());
}

TEST(WatchLinger, AHotConsumerIsWokenOnlyByAHalfFullQueue) {
  WatchEnv env({.stream_queue = 8, .consumer_linger = hours(1)});
  auto s = env.ws()->NewStream();
  WatchStreamPeer peer(*s);
  ASSERT_TRUE(s->Watch("k", "", {}).ok());
  ASSERT_TRUE(env.store()->Put("k", "0").ok());
  ASSERT_TRUE(NextWithin(*s).has_value());  // handed a response: hot
  ASSERT_TRUE(peer.hot());
  std::optional<WatchResponse> got;
  std::thread consumer([&] { got = NextWithin(*s); });
  ASSERT_TRUE(WaitFor([&] { return peer.lingering() == 1; }));
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(env.store()->Put("k", std::to_string(i)).ok());
  // Three queued, under half of 8: the pushes did not wake it (it would
  // have taken one and left two).
  EXPECT_EQ(peer.queued(), 3u);
  EXPECT_EQ(peer.lingering(), 1);
  EXPECT_EQ(peer.waiting(), 0);
  ASSERT_TRUE(env.store()->Put("k", "4").ok());  // the fourth: half full
  consumer.join();
  ASSERT_TRUE(got.has_value());
  ASSERT_EQ(got->events.size(), 1u);
  EXPECT_EQ(got->events[0].kv.value, "1");
  EXPECT_EQ(peer.queued(), 3u);
}

TEST(WatchLinger, ALingerEndsAtItsTimeAndAnEmptyOneTurnsTheConsumerCold) {
  WatchEnv env({.stream_queue = 8, .consumer_linger = milliseconds(50)});
  auto s = env.ws()->NewStream();
  WatchStreamPeer peer(*s);
  ASSERT_TRUE(s->Watch("k", "", {}).ok());
  ASSERT_TRUE(env.store()->Put("k", "0").ok());
  ASSERT_TRUE(NextWithin(*s).has_value());
  ASSERT_TRUE(peer.hot());
  // One event, far from half full: the linger's end hands it over.
  std::optional<WatchResponse> got;
  std::thread consumer([&] { got = NextWithin(*s); });
  // (Were this thread slower than the linger, the consumer would be cold by
  // now and woken by the put instead.)
  ASSERT_TRUE(WaitFor([&] { return peer.lingering() == 1 || peer.waiting() == 1; }));
  ASSERT_TRUE(env.store()->Put("k", "1").ok());
  consumer.join();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->events[0].kv.value, "1");
  // Nothing comes: after one linger it waits to be woken by a push.
  got.reset();
  std::thread cold([&] { got = NextWithin(*s); });
  ASSERT_TRUE(WaitFor([&] { return peer.waiting() == 1; }));
  EXPECT_FALSE(peer.hot());
  ASSERT_TRUE(env.store()->Put("k", "2").ok());
  cold.join();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->events[0].kv.value, "2");
}

TEST(WatchLinger, NoLingerWakesOnEveryPushToAnEmptyQueue) {
  WatchEnv env({.consumer_linger = milliseconds(0)});
  auto s = env.ws()->NewStream();
  WatchStreamPeer peer(*s);
  ASSERT_TRUE(s->Watch("k", "", {}).ok());
  for (int i = 0; i < 3; ++i) {
    std::optional<WatchResponse> got;
    std::thread consumer([&] { got = NextWithin(*s); });
    ASSERT_TRUE(WaitFor([&] { return peer.waiting() == 1; }));
    EXPECT_EQ(peer.lingering(), 0);
    ASSERT_TRUE(env.store()->Put("k", std::to_string(i)).ok());
    consumer.join();
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->events[0].kv.value, std::to_string(i));
  }
}

TEST(WatchBatch, TakesWhatIsQueuedInOrderUpToMax) {
  WatchEnv env;
  auto s = env.ws()->NewStream();
  ASSERT_TRUE(s->Watch("a", "", {.prev_kv = true}).ok());
  ASSERT_TRUE(s->Watch("b", "", {}).ok());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(env.store()->Put(i % 2 == 0 ? "a" : "b", std::to_string(i)).ok());
  }
  std::vector<WatchResponse> first = s->NextBatch(3);
  ASSERT_EQ(first.size(), 3u);
  std::vector<WatchResponse> rest = s->NextBatch(100);
  ASSERT_EQ(rest.size(), 2u);
  first.insert(first.end(), rest.begin(), rest.end());
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(first[i].events.size(), 1u);
    EXPECT_EQ(first[i].events[0].kv.value, std::to_string(i));
    EXPECT_EQ(first[i].revision, i + 2);
  }
  // prev_kv is read for the watcher that asked for it, as Next reads it.
  ASSERT_TRUE(first[2].events[0].prev_kv.has_value());
  EXPECT_EQ(first[2].events[0].prev_kv->value, "0");
  EXPECT_FALSE(first[1].events[0].prev_kv.has_value());
  // max 0 still takes one.
  ASSERT_TRUE(env.store()->Put("a", "5").ok());
  EXPECT_EQ(s->NextBatch(0).size(), 1u);
}

TEST(WatchBatch, EmptyOnceStoppedOrClosed) {
  WatchEnv env;
  auto s = env.ws()->NewStream();
  ASSERT_TRUE(s->Watch("k", "", {}).ok());
  std::stop_source stop;
  stop.request_stop();
  EXPECT_TRUE(s->NextBatch(10, stop.get_token()).empty());
  std::vector<WatchResponse> got = {WatchResponse{}};
  std::thread consumer([&] { got = s->NextBatch(10); });
  WatchStreamPeer peer(*s);
  ASSERT_TRUE(WaitFor([&] { return peer.waiting() == 1; }));
  s->Close();
  consumer.join();
  EXPECT_TRUE(got.empty());
}

}  // namespace
}  // namespace revkv::mvcc
