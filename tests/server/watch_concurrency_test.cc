// The Watch service called directly (as gRPC's threads call it, so that
// TSan sees only instrumented code) over fake transports: several streams
// served at once while writers write, each stream creating, cancelling and
// re-creating watchers, asking for progress and getting periodic progress
// notifications (5 ms), then a Shutdown with every stream still open.
// Each stream's whole-keyspace watcher must see every write exactly once
// in revision order, no event may precede its watcher's `created`, every
// Serve must return after Shutdown, and a later Serve is refused.
#include <atomic>
#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "gtest/gtest.h"
#include "revkv/db.h"
#include "server/member.h"
#include "server/watch_service.h"
#include "tests/cmd/process.h"
#include "util/mutex.h"

namespace revkv::testing {
namespace {

constexpr int kWriters = 2;
constexpr int kPutsPerWriter = 150;
constexpr int kStreams = 3;

// A client's two directions; records what the session wrote.
class FakeTransport final : public server::WatchTransport {
 public:
  bool Read(etcdserverpb::WatchRequest* req) override {
    util::MutexLock l(mu_);
    while (!ended_ && in_.empty()) cv_.Wait(mu_);
    if (ended_) return false;
    *req = std::move(in_.front());
    in_.pop_front();
    return true;
  }
  bool Write(const etcdserverpb::WatchResponse& r) override {
    util::MutexLock l(mu_);
    if (ended_) return false;
    if (r.created() && !r.canceled()) created_.insert(r.watch_id());
    // An event before its watcher's created response breaks etcd's contract.
    if (r.events_size() > 0 && !created_.contains(r.watch_id())) early_ = true;
    if (r.watch_id() == 0) {
      for (const auto& e : r.events()) {
        if (e.kv().mod_revision() <= last_rev_all_) out_of_order_ = true;
        last_rev_all_ = e.kv().mod_revision();
        ++events_all_;
      }
    }
    if (r.events_size() == 0 && !r.created() && !r.canceled()) ++progress_;
    cv_.NotifyAll();
    return true;
  }
  void Cancel() override {
    util::MutexLock l(mu_);
    ended_ = true;
    cv_.NotifyAll();
  }
  void Send(etcdserverpb::WatchRequest r) {
    util::MutexLock l(mu_);
    in_.push_back(std::move(r));
    cv_.NotifyAll();
  }
  // Waits (bounded) until watcher 0 has `n` events.
  bool WaitAllEvents(int n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    util::MutexLock l(mu_);
    while (events_all_ < n) {
      if (cv_.WaitUntil(mu_, deadline) == std::cv_status::timeout) return false;
    }
    return true;
  }
  int events_all() {
    util::MutexLock l(mu_);
    return events_all_;
  }
  bool early() {
    util::MutexLock l(mu_);
    return early_;
  }
  bool out_of_order() {
    util::MutexLock l(mu_);
    return out_of_order_;
  }
  int progress() {
    util::MutexLock l(mu_);
    return progress_;
  }

 private:
  util::Mutex mu_;
  util::CondVar cv_;
  std::deque<etcdserverpb::WatchRequest> in_ ABSL_GUARDED_BY(mu_);
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  absl::flat_hash_set<int64_t> created_ ABSL_GUARDED_BY(mu_);
  bool early_ ABSL_GUARDED_BY(mu_) = false;
  bool out_of_order_ ABSL_GUARDED_BY(mu_) = false;
  int64_t last_rev_all_ ABSL_GUARDED_BY(mu_) = 0;
  int events_all_ ABSL_GUARDED_BY(mu_) = 0;
  int progress_ ABSL_GUARDED_BY(mu_) = 0;
};

etcdserverpb::WatchRequest Create(const std::string& key, const std::string& end, bool progress,
                                  bool fragment) {
  etcdserverpb::WatchRequest r;
  auto* c = r.mutable_create_request();
  c->set_key(key);
  c->set_range_end(end);
  c->set_start_revision(1);
  c->set_progress_notify(progress);
  c->set_fragment(fragment);
  c->set_prev_kv(true);
  return r;
}

TEST(WatchConcurrencyTest, StreamsWritersProgressAndShutdown) {
  absl::StatusOr<std::unique_ptr<DB>> db = DB::Open(NewTempDir("wconc") + "/data", {});
  ASSERT_TRUE(db.ok()) << db.status();
  server::Member member;
  server::WatchService svc(db->get(), &member,
                           {.max_request_bytes = 512, .progress_interval = std::chrono::milliseconds(5)});

  std::vector<std::unique_ptr<FakeTransport>> transports;
  std::vector<std::thread> servers;
  std::atomic<int> served_ok{0};
  for (int s = 0; s < kStreams; ++s) {
    transports.push_back(std::make_unique<FakeTransport>());
    FakeTransport* t = transports.back().get();
    // Watcher 0 sees everything from revision 1 (fragmented: max 512 bytes).
    t->Send(Create("", std::string(1, '\0'), true, true));
    servers.emplace_back([&svc, &served_ok, t] {
      if (svc.Serve(t).ok()) served_ok++;
    });
  }
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&db, w] {
      for (int i = 0; i < kPutsPerWriter; ++i) {
        ASSERT_TRUE((*db)->Put("w" + std::to_string(w) + "/" + std::to_string(i), "v").ok());
      }
    });
  }
  // Meanwhile each stream churns watchers and asks for progress.
  for (int round = 0; round < 20; ++round) {
    for (auto& t : transports) {
      t->Send(Create("w0/", "w0/~", round % 2 == 0, false));
      etcdserverpb::WatchRequest cancel;
      cancel.mutable_cancel_request()->set_watch_id(1 + round);
      t->Send(cancel);
      etcdserverpb::WatchRequest progress;
      progress.mutable_progress_request();
      t->Send(progress);
    }
  }
  for (std::thread& w : writers) w.join();
  for (auto& t : transports) {
    EXPECT_TRUE(t->WaitAllEvents(kWriters * kPutsPerWriter)) << t->events_all();
  }
  // Shutdown with every stream open: every Serve returns.
  svc.Shutdown();
  for (std::thread& s : servers) s.join();
  EXPECT_EQ(served_ok.load(), kStreams);
  for (auto& t : transports) {
    EXPECT_EQ(t->events_all(), kWriters * kPutsPerWriter);
    EXPECT_FALSE(t->early()) << "an event before its watcher's created response";
    EXPECT_FALSE(t->out_of_order());
    EXPECT_GE(t->progress(), 20) << "every progress request is answered";
  }
  FakeTransport late;
  EXPECT_TRUE(absl::IsUnavailable(svc.Serve(&late)));
  EXPECT_TRUE((*db)->Close().ok());
}

}  // namespace
}  // namespace revkv::testing
