// The Watch service through a C++ gRPC client, for what etcdctl never
// sends or shows: watch ids (auto, chosen, duplicate, skipped), created
// before events and headers at the right revisions, range forms and an
// empty range, filters, prev_kv, a compacted start revision, cancel (known
// and unknown ids), progress requests and periodic progress_notify,
// fragmentation by --max-request-bytes only when asked, many watchers on
// one stream, a client that stops reading while writes go on, and a server
// shutdown with streams open.
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/server/watch_test_client.h"

namespace revkv::testing {
namespace {

using etcdserverpb::WatchCreateRequest;
using etcdserverpb::WatchResponse;

class GrpcWatchTest : public ServerFixture {};

TEST_F(GrpcWatchTest, CreatedThenEventsWithHeadersAndAutoIds) {
  StartServer();
  Put("a", "0");  // rev 2
  WatchClient w(watch_.get());
  WatchResponse c0 = w.Create("a");
  EXPECT_EQ(c0.watch_id(), 0);
  EXPECT_FALSE(c0.canceled());
  EXPECT_EQ(c0.header().revision(), 2);
  EXPECT_EQ(c0.header().member_id(), 9u);
  EXPECT_EQ(c0.header().cluster_id(), 7u);
  EXPECT_EQ(w.Create("b", "c").watch_id(), 1);
  EXPECT_EQ(Put("a", "1"), 3);
  EXPECT_EQ(Put("b1", "2"), 4);
  WatchResponse r;
  ASSERT_TRUE(w.Read(&r));
  EXPECT_EQ(r.watch_id(), 0);
  EXPECT_EQ(r.header().revision(), 3);
  ASSERT_EQ(r.events_size(), 1);
  EXPECT_EQ(r.events(0).type(), mvccpb::Event::PUT);
  EXPECT_EQ(r.events(0).kv().key(), "a");
  EXPECT_EQ(r.events(0).kv().value(), "1");
  EXPECT_EQ(r.events(0).kv().mod_revision(), 3);
  EXPECT_EQ(r.events(0).kv().create_revision(), 2);
  EXPECT_EQ(r.events(0).kv().version(), 2);
  EXPECT_FALSE(r.events(0).has_prev_kv());
  ASSERT_TRUE(w.Read(&r));
  EXPECT_EQ(r.watch_id(), 1);
  EXPECT_EQ(r.header().revision(), 4);
  ASSERT_EQ(r.events_size(), 1);
  EXPECT_EQ(r.events(0).kv().key(), "b1");
}

TEST_F(GrpcWatchTest, ClientChosenIds) {
  StartServer();
  WatchClient w(watch_.get());
  WatchCreateRequest c;
  c.set_key("k");
  c.set_watch_id(5);
  EXPECT_EQ(w.Create(c).watch_id(), 5);
  WatchResponse dup = w.Create(c);
  EXPECT_EQ(dup.watch_id(), -1);
  EXPECT_TRUE(dup.canceled());
  EXPECT_EQ(dup.cancel_reason(), "mvcc: duplicate watch ID provided on the WatchStream");
  c.set_watch_id(0);  // auto
  EXPECT_EQ(w.Create(c).watch_id(), 0);
  c.set_watch_id(1);
  EXPECT_EQ(w.Create(c).watch_id(), 1);
  c.set_watch_id(0);  // auto skips the chosen 1
  EXPECT_EQ(w.Create(c).watch_id(), 2);
  c.set_watch_id(-1);  // etcd 3.4 takes any non-zero id as given
  WatchResponse neg = w.Create(c);
  EXPECT_EQ(neg.watch_id(), -1);
  EXPECT_FALSE(neg.canceled());
  // Ids are per stream: another stream starts at 0.
  WatchClient w2(watch_.get());
  EXPECT_EQ(w2.Create("k").watch_id(), 0);
}

TEST_F(GrpcWatchTest, RangeFormsAndEmptyRange) {
  StartServer();
  WatchClient w(watch_.get());
  EXPECT_EQ(w.Create("", std::string(1, '\0')).watch_id(), 0);  // every key
  EXPECT_EQ(w.Create("b", std::string(1, '\0')).watch_id(), 1);  // >= b
  EXPECT_EQ(w.Create("a", "c").watch_id(), 2);                   // [a, c)
  WatchResponse empty = w.Create("c", "a");
  EXPECT_TRUE(empty.canceled());
  EXPECT_EQ(empty.watch_id(), -1);
  EXPECT_EQ(empty.cancel_reason(), "mvcc: watcher range is empty");
  // A key equal to its range end is empty too.
  EXPECT_TRUE(w.Create("c", "c").canceled());
  Put("a", "1");
  Put("d", "2");
  std::map<int64_t, std::vector<std::string>> got;
  for (int i = 0; i < 4; ++i) {  // a: 0, 2; d: 0, 1
    WatchResponse r;
    ASSERT_TRUE(w.Read(&r));
    for (const auto& e : r.events()) got[r.watch_id()].push_back(e.kv().key());
  }
  EXPECT_EQ(got[0], (std::vector<std::string>{"a", "d"}));
  EXPECT_EQ(got[1], (std::vector<std::string>{"d"}));
  EXPECT_EQ(got[2], (std::vector<std::string>{"a"}));
}

TEST_F(GrpcWatchTest, FiltersAndPrevKv) {
  StartServer();
  WatchClient w(watch_.get());
  WatchCreateRequest c;
  c.set_key("k");
  c.add_filters(WatchCreateRequest::NOPUT);
  c.set_prev_kv(true);
  EXPECT_EQ(w.Create(c).watch_id(), 0);
  c.clear_filters();
  c.add_filters(WatchCreateRequest::NODELETE);
  EXPECT_EQ(w.Create(c).watch_id(), 1);
  Put("k", "1");
  Put("k", "2");
  Delete("k");
  std::vector<std::string> seen;
  for (int i = 0; i < 3; ++i) {
    WatchResponse r;
    ASSERT_TRUE(w.Read(&r));
    ASSERT_EQ(r.events_size(), 1);
    const auto& e = r.events(0);
    seen.push_back(std::to_string(r.watch_id()) + (e.type() == mvccpb::Event::PUT ? "P" : "D") +
                   e.kv().value() + "/" + (e.has_prev_kv() ? e.prev_kv().value() : "-"));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"1P1/-", "1P2/1", "0D/2"}));
}

TEST_F(GrpcWatchTest, CompactedStartRevisionIsCanceled) {
  StartServer();
  for (int i = 0; i < 4; ++i) Put("k", std::to_string(i));  // revs 2..5
  Compact(4);
  WatchClient w(watch_.get());
  WatchResponse c = w.Create("k", "", 2);
  EXPECT_FALSE(c.canceled());
  WatchResponse r;
  ASSERT_TRUE(w.Read(&r));
  EXPECT_EQ(r.watch_id(), c.watch_id());
  EXPECT_TRUE(r.canceled());
  EXPECT_EQ(r.compact_revision(), 4);
  EXPECT_EQ(r.events_size(), 0);
  // From after the compaction: the history still there.
  WatchResponse c2 = w.Create("k", "", 5);
  ASSERT_TRUE(w.Read(&r));
  EXPECT_EQ(r.watch_id(), c2.watch_id());
  EXPECT_FALSE(r.canceled());
  ASSERT_EQ(r.events_size(), 1);
  EXPECT_EQ(r.events(0).kv().mod_revision(), 5);
}

TEST_F(GrpcWatchTest, CancelAndProgressRequest) {
  StartServer();
  Put("x", "1");
  WatchClient w(watch_.get());
  const int64_t id = w.Create("k").watch_id();
  ASSERT_TRUE(w.Cancel(id));
  WatchResponse r;
  ASSERT_TRUE(w.Read(&r));
  EXPECT_TRUE(r.canceled());
  EXPECT_EQ(r.watch_id(), id);
  EXPECT_EQ(r.header().revision(), 2);
  Put("k", "gone");  // rev 3: nobody watches k now
  // An unknown id gets no answer: the next response is the progress one.
  ASSERT_TRUE(w.Cancel(42));
  ASSERT_TRUE(w.RequestProgress());
  ASSERT_TRUE(w.Read(&r));
  EXPECT_EQ(r.watch_id(), -1);
  EXPECT_FALSE(r.canceled());
  EXPECT_FALSE(r.created());
  EXPECT_EQ(r.events_size(), 0);
  EXPECT_EQ(r.header().revision(), 3);
}

TEST_F(GrpcWatchTest, PeriodicProgressNotifyOnlyForWatchersThatAsked) {
  server::ServerOptions o;
  o.watch_progress_interval = std::chrono::milliseconds(50);
  StartServer(o);
  WatchClient w(watch_.get());
  EXPECT_EQ(w.Create("quiet").watch_id(), 0);
  WatchCreateRequest c;
  c.set_key("k");
  c.set_progress_notify(true);
  EXPECT_EQ(w.Create(c).watch_id(), 1);
  Put("other", "1");  // rev 2, watched by neither
  for (int i = 0; i < 3; ++i) {
    WatchResponse r;
    ASSERT_TRUE(w.Read(&r));
    EXPECT_EQ(r.watch_id(), 1);
    EXPECT_EQ(r.events_size(), 0);
    EXPECT_FALSE(r.canceled());
    EXPECT_GE(r.header().revision(), 1);
  }
}

TEST_F(GrpcWatchTest, FragmentsOnlyWhenAsked) {
  server::ServerOptions o;
  o.max_request_bytes = 4096;
  StartServer(o);
  constexpr int kKeys = 20;
  for (int i = 0; i < kKeys; ++i) Put("f" + std::to_string(100 + i), std::string(1000, 'v'));
  // Many fragmenting watchers: the replay races the create's setting of the
  // fragment flag (which once came too late for the first response).
  std::vector<bool> runs(30, true);
  runs.push_back(false);
  for (bool fragment : runs) {
    WatchClient w(watch_.get());
    WatchCreateRequest c;
    c.set_key("f");
    c.set_range_end("g");
    c.set_start_revision(2);  // replayed: the events come batched
    c.set_fragment(fragment);
    w.Create(c);
    int events = 0, fragments = 0;
    size_t biggest = 0;
    bool last_fragment = false;
    while (events < kKeys) {
      WatchResponse r;
      ASSERT_TRUE(w.Read(&r));
      for (const auto& e : r.events()) {
        EXPECT_EQ(e.kv().key(), "f" + std::to_string(100 + events));
        ++events;
      }
      biggest = std::max(biggest, r.ByteSizeLong());
      if (r.fragment()) ++fragments;
      last_fragment = r.fragment();
      if (fragment && r.events_size() > 1) {
        EXPECT_LT(r.ByteSizeLong(), 4096u);
      }
    }
    EXPECT_FALSE(last_fragment);
    if (fragment) {
      EXPECT_GT(fragments, 0);
    } else {
      EXPECT_EQ(fragments, 0);
      EXPECT_GT(biggest, 4096u) << "the replay came unbatched: nothing to fragment";
    }
  }
}

TEST_F(GrpcWatchTest, ManyWatchersOnOneStream) {
  StartServer();
  constexpr int kWatchers = 100;
  WatchClient w(watch_.get());
  for (int i = 0; i < kWatchers; ++i) EXPECT_EQ(w.Create("k" + std::to_string(i)).watch_id(), i);
  for (int i = 0; i < kWatchers; ++i) Put("k" + std::to_string(i), std::to_string(i));
  std::map<int64_t, int> count;
  for (int i = 0; i < kWatchers; ++i) {
    WatchResponse r;
    ASSERT_TRUE(w.Read(&r));
    ASSERT_EQ(r.events_size(), 1);
    EXPECT_EQ(r.events(0).kv().key(), "k" + std::to_string(r.watch_id()));
    count[r.watch_id()]++;
  }
  EXPECT_EQ(count.size(), size_t(kWatchers));
}

TEST_F(GrpcWatchTest, SlowClientMissesNothingAndWritersGoOn) {
  StartServer();
  // Without BDP probing the client's window stays small: what the client
  // does not read backs up to the server instead of into the client.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  args.SetMaxReceiveMessageSize(64 << 20);
  std::unique_ptr<etcdserverpb::Watch::Stub> slow = etcdserverpb::Watch::NewStub(
      grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(server_->ports()[0]),
                                grpc::InsecureChannelCredentials(), args));
  WatchClient w(slow.get());
  w.Create("s", "t");
  // The client reads nothing while events of 1 KiB are written (txns of
  // 10 puts): far more responses than gRPC's windows and the stream's queue
  // hold. The writes finishing shows writers never wait for the client.
  const int kTxns = int(mvcc::WatchableStoreOptions{}.stream_queue) + 300;
  constexpr int kPutsPerTxn = 10;
  int64_t first = 0;
  for (int t = 0; t < kTxns; ++t) {
    etcdserverpb::TxnRequest txn;
    for (int i = 0; i < kPutsPerTxn; ++i) {
      etcdserverpb::PutRequest* p = txn.add_success()->mutable_request_put();
      p->set_key("s" + std::to_string(1000 + i));
      p->set_value(std::string(1024, 'x'));
    }
    grpc::ClientContext ctx;
    etcdserverpb::TxnResponse resp;
    ASSERT_TRUE(kv_->Txn(&ctx, txn, &resp).ok());
    if (t == 0) first = resp.header().revision();
  }
  // The watcher was set aside, not buffered without bound.
  mvcc::WatchableStore::Stats st = db_->WatchStats();
  EXPECT_EQ(st.synced, 0u);
  EXPECT_EQ(st.victims + st.unsynced, 1u);
  int64_t rev = first;
  int in_rev = 0;
  while (rev < first + kTxns) {
    WatchResponse r;
    ASSERT_TRUE(w.Read(&r));
    for (const auto& e : r.events()) {
      // Every event, in revision order and, within one, in the txn's order.
      ASSERT_EQ(e.kv().mod_revision(), rev) << "events lost or out of order";
      ASSERT_EQ(e.kv().key(), "s" + std::to_string(1000 + in_rev));
      if (++in_rev == kPutsPerTxn) {
        in_rev = 0;
        ++rev;
      }
    }
  }
}

TEST_F(GrpcWatchTest, ShutdownEndsOpenStreams) {
  StartServer();
  WatchClient w1(watch_.get()), w2(watch_.get());
  w1.Create("a");
  w2.Create("b");
  const auto start = std::chrono::steady_clock::now();
  server_->Shutdown(std::chrono::seconds(20));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  WatchResponse r;
  EXPECT_FALSE(w1.Read(&r));
  EXPECT_FALSE(w2.Read(&r));
  // UNAVAILABLE, as a stopping etcd's transport ends: clients retry on
  // another endpoint (CANCELLED would end their watch).
  EXPECT_EQ(w1.Finish().error_code(), grpc::UNAVAILABLE);
  EXPECT_EQ(w2.Finish().error_code(), grpc::UNAVAILABLE);
}

// --max-concurrent-streams 1: while a watch holds the connection's one
// stream, a call on the same connection waits (here past its deadline);
// once the watch ends, calls go through again.
TEST_F(GrpcWatchTest, MaxConcurrentStreamsBoundsCallsPerConnection) {
  server::ServerOptions options;
  options.max_concurrent_streams = 1;
  StartServer(options);
  auto range = [&](std::chrono::milliseconds deadline) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + deadline);
    etcdserverpb::RangeRequest req;
    req.set_key("a");
    etcdserverpb::RangeResponse resp;
    return kv_->Range(&ctx, req, &resp).error_code();
  };
  ASSERT_EQ(range(std::chrono::seconds(20)), grpc::OK);  // the connection is up
  {
    WatchClient w(watch_.get());
    w.Create("a");  // answered: the stream holds the slot
    EXPECT_EQ(range(std::chrono::milliseconds(500)), grpc::DEADLINE_EXCEEDED);
    w.CloseSend();
    WatchResponse r;
    EXPECT_FALSE(w.Read(&r));
    EXPECT_TRUE(w.Finish().ok());
  }
  EXPECT_EQ(range(std::chrono::seconds(20)), grpc::OK);
}

TEST_F(GrpcWatchTest, ClientCloseEndsTheStream) {
  StartServer();
  WatchClient w(watch_.get());
  w.Create("a");
  w.CloseSend();
  WatchResponse r;
  EXPECT_FALSE(w.Read(&r));  // the server returned: the call is over
  EXPECT_TRUE(w.Finish().ok());
}

}  // namespace
}  // namespace revkv::testing
