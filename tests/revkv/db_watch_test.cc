// revkv::DB's watch door: NewWatchStream, Close ending every stream, a
// read-only DB watching its history, a stream outliving its DB.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <thread>

#include "gtest/gtest.h"
#include "mvcc/errors.h"
#include "revkv/db.h"
#include "tests/btree/test_util.h"

namespace revkv {
namespace {

using btree::testutil::ScopedTempDir;

std::optional<mvcc::WatchResponse> NextWithin(mvcc::WatchStream& s,
                                              std::chrono::seconds timeout = std::chrono::seconds(30)) {
  std::stop_source stop;
  std::jthread timer([&stop, timeout](std::stop_token st) {
    std::mutex m;
    std::condition_variable_any cv;
    std::unique_lock l(m);
    if (!cv.wait_for(l, st, timeout, [] { return false; })) stop.request_stop();
  });
  return s.Next(stop.get_token());
}

TEST(DBWatchTest, AWatchSeesThePutsOfTheDB) {
  ScopedTempDir tmp;
  ASSERT_OK_AND_ASSIGN(auto db, DB::Open(tmp.File("data"), {}));
  auto s = db->NewWatchStream();
  ASSERT_OK_AND_ASSIGN(mvcc::WatchId id, s->Watch("k", "", {}));
  ASSERT_OK(db->Put("k", "v"));
  auto r = NextWithin(*s);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->id, id);
  ASSERT_EQ(r->events.size(), 1u);
  EXPECT_EQ(r->events[0].kv.value, "v");
  EXPECT_EQ(r->events[0].kv.mod_revision, 2);
}

TEST(DBWatchTest, CloseEndsAWaitingNextAndLaterStreamsAreClosed) {
  ScopedTempDir tmp;
  ASSERT_OK_AND_ASSIGN(auto db, DB::Open(tmp.File("data"), {}));
  auto s = db->NewWatchStream();
  ASSERT_OK(s->Watch("k", "", {}).status());
  std::jthread reader([&] { EXPECT_FALSE(NextWithin(*s).has_value()); });
  ASSERT_OK(db->Close());
  reader.join();
  EXPECT_TRUE(mvcc::IsClosed(s->Watch("k", "", {}).status()));
  auto later = db->NewWatchStream();
  EXPECT_TRUE(mvcc::IsClosed(later->Watch("k", "", {}).status()));
  EXPECT_FALSE(later->TryNext().has_value());
}

TEST(DBWatchTest, AStreamMayOutliveItsDB) {
  ScopedTempDir tmp;
  std::unique_ptr<mvcc::WatchStream> s;
  {
    ASSERT_OK_AND_ASSIGN(auto db, DB::Open(tmp.File("data"), {}));
    s = db->NewWatchStream();
    ASSERT_OK(s->Watch("k", "", {.prev_kv = true}).status());
    ASSERT_OK(db->Put("k", "v"));
  }  // destroyed with a response queued
  EXPECT_FALSE(s->TryNext().has_value());
  EXPECT_FALSE(NextWithin(*s).has_value());
  s->Close();
}

TEST(DBWatchTest, AReadOnlyDBWatchesItsHistory) {
  ScopedTempDir tmp;
  const std::string dir = tmp.File("data");
  {
    ASSERT_OK_AND_ASSIGN(auto db, DB::Open(dir, {}));
    ASSERT_OK(db->Put("a", "1"));
    ASSERT_OK(db->Put("a", "2"));
    ASSERT_OK(db->Close());
  }
  Options ro;
  ro.read_only = true;
  ASSERT_OK_AND_ASSIGN(auto db, DB::Open(dir, ro));
  auto s = db->NewWatchStream();
  ASSERT_OK_AND_ASSIGN(mvcc::WatchId id, s->Watch("a", "", {.start_rev = 2, .prev_kv = true}));
  std::vector<mvcc::Event> got;
  while (got.size() < 2) {
    auto r = NextWithin(*s);
    ASSERT_TRUE(r.has_value());
    got.insert(got.end(), r->events.begin(), r->events.end());
  }
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].kv.value, "1");
  EXPECT_EQ(got[1].kv.value, "2");
  ASSERT_TRUE(got[1].prev_kv.has_value());
  EXPECT_EQ(got[1].prev_kv->value, "1");
  // Caught up: progress says so.
  while (true) {
    ASSERT_OK(s->RequestProgress(id));
    auto r = NextWithin(*s);
    ASSERT_TRUE(r.has_value());
    if (r->events.empty()) {
      EXPECT_EQ(r->revision, 3);
      break;
    }
  }
}

}  // namespace
}  // namespace revkv
